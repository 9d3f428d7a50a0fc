/**
 * The harness's own copy of the local stack config (.kiln/project/Pulumi.local.yaml), derived from the
 * committed Pulumi.local.yaml, which is never edited:
 *  - kiln:objectStore: mode external, the harness MinIO endpoint and its access key id (the secret key
 *    is set afterwards with `pulumi config set --secret`, so it is stored encrypted);
 *  - kiln:kueue.install external: the harness runs the Kueue controller as a local process with no
 *    webhooks; a Kueue chart's webhook pods could not run on simulated nodes and its failurePolicy=Fail
 *    webhooks would block every Job;
 *  - kiln:jobset.install external: the harness runs the JobSet controller as a local process (its CRD
 *    installed by cluster:up), like Kueue;
 *  - kiln:gpuServices none: device plugins/operators are DaemonSets for real GPU nodes;
 *  - kiln:trainer repository and tag: the image `npm run image:build` made and the real node holds
 *    (there is no registry; pods start it with imagePullPolicy IfNotPresent).
 * Pulumi's passphrase salt (encryptionsalt) and already-set secrets of an existing copy are kept, so the
 * file-backend state stays decryptable across runs.
 *
 *   ts-node scripts/local/stack-config.ts --endpoint http://10.250.0.1:9000 --access-key-id KEY [--trainer-image REPO:TAG] [--source F] [--out F]
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { Command } from "commander";
import YAML from "yaml";
import { GPU_TAINT } from "../../contract/gpu";
import { REAL_NODE_LABEL } from "../cluster/real-node";

export interface HarnessStoreSettings {
  /** S3 endpoint of the loopback MinIO, e.g. http://127.0.0.1:9000. */
  readonly endpoint: string;
  /** MinIO access key id (the secret key is set encrypted by `pulumi config set --secret`). */
  readonly accessKeyId: string;
  /** The locally built trainer image, `repository:tag` (default: keep the committed kiln:trainer). */
  readonly trainerImage?: string;
  /** The locally built kiln-accountant image, `repository:tag` (default: keep the committed kiln:accountant). */
  readonly accountantImage?: string;
  /** `host:port` pods reach the API server at (the real node's address; scripts/cluster/node.sh). */
  readonly apiServer?: string;
}

/** "localhost/kiln/trainer:0.1.0" -> repository + tag (the port of a registry host is not a tag). */
export function splitImageRef(ref: string): { repository: string; tag: string } {
  const m = /^(.+):([\w][\w.-]{0,127})$/.exec(ref);
  if (!m || m[1].endsWith("/") || m[2].includes("/")) throw new Error(`image '${ref}': expected REPOSITORY:TAG`);
  return { repository: m[1], tag: m[2] };
}

type ConfigDoc = { config?: Record<string, unknown>; encryptionsalt?: string; [k: string]: unknown };

/** Returns the YAML text of the harness stack config. `existing` = the current copy, if any. */
export function harnessStackConfig(committed: string, store: HarnessStoreSettings, existing?: string): string {
  if (!/^https?:\/\/[^/]+$/.test(store.endpoint))
    throw new Error(`endpoint '${store.endpoint}': expected http(s)://host:port with no path`);
  if (!store.accessKeyId) throw new Error("accessKeyId: must not be empty");
  const doc = (YAML.parse(committed) ?? {}) as ConfigDoc;
  const config: Record<string, unknown> = { ...(doc.config ?? {}) };
  if (config["kiln:platform"] !== undefined && config["kiln:platform"] !== "local") {
    throw new Error(
      `kiln:platform is '${String(config["kiln:platform"])}': the harness only deploys the local platform`,
    );
  }
  const old = existing ? ((YAML.parse(existing) ?? {}) as ConfigDoc) : {};
  const oldStore = (old.config?.["kiln:objectStore"] ?? {}) as Record<string, unknown>;
  const baseStore = (config["kiln:objectStore"] ?? {}) as Record<string, unknown>;
  config["kiln:objectStore"] = {
    ...baseStore,
    mode: "external",
    endpoint: store.endpoint,
    accessKeyId: store.accessKeyId,
    // Keep the encrypted secret of the previous copy (same passphrase salt) until it is set again.
    ...(oldStore.secretAccessKey !== undefined ? { secretAccessKey: oldStore.secretAccessKey } : {}),
  };
  config["kiln:kueue"] = {
    ...((config["kiln:kueue"] ?? {}) as Record<string, unknown>),
    enabled: true,
    install: "external",
  };
  config["kiln:jobset"] = { ...((config["kiln:jobset"] ?? {}) as Record<string, unknown>), install: "external" };
  config["kiln:gpuServices"] = "none";
  if (store.trainerImage)
    config["kiln:trainer"] = {
      ...((config["kiln:trainer"] ?? {}) as Record<string, unknown>),
      ...splitImageRef(store.trainerImage),
    };
  // The accountant must really run: on the real node (the simulated nodes only pretend to run pods).
  config["kiln:accountant"] = {
    ...((config["kiln:accountant"] ?? {}) as Record<string, unknown>),
    ...(store.accountantImage ? splitImageRef(store.accountantImage) : {}),
    ...(store.apiServer ? { apiServer: store.apiServer } : {}),
    nodeSelector: { [REAL_NODE_LABEL]: "real" },
    tolerations: [{ key: GPU_TAINT.key, operator: "Exists", effect: GPU_TAINT.effect }],
  };
  const out: ConfigDoc = {};
  if (old.encryptionsalt) out.encryptionsalt = old.encryptionsalt;
  out.config = config;
  return (
    "# Generated by scripts/local/stack-config.ts from Pulumi.local.yaml for the local cluster harness. Do not edit.\n" +
    YAML.stringify(out)
  );
}

export function main(argv: string[]): void {
  const root = path.resolve(__dirname, "../..");
  const opts = new Command("stack-config")
    .requiredOption("--endpoint <url>", "S3 endpoint of the loopback MinIO")
    .requiredOption("--access-key-id <id>", "MinIO access key id")
    .option("--trainer-image <ref>", "locally built trainer image REPOSITORY:TAG")
    .option("--accountant-image <ref>", "locally built kiln-accountant image REPOSITORY:TAG")
    .option("--api-server <host:port>", "where pods reach the API server (the real node's address)")
    .option("--source <file>", "committed local stack config", path.join(root, "Pulumi.local.yaml"))
    .option("--out <file>", "harness copy to write", path.join(root, ".kiln", "project", "Pulumi.local.yaml"))
    .parse(argv)
    .opts<{
      endpoint: string;
      accessKeyId: string;
      trainerImage?: string;
      accountantImage?: string;
      apiServer?: string;
      source: string;
      out: string;
    }>();
  if (path.resolve(opts.out) === path.resolve(opts.source))
    throw new Error(`--out ${opts.out}: refusing to overwrite the committed stack config`);
  const existing = fs.existsSync(opts.out) ? fs.readFileSync(opts.out, "utf8") : undefined;
  const text = harnessStackConfig(
    fs.readFileSync(opts.source, "utf8"),
    {
      endpoint: opts.endpoint,
      accessKeyId: opts.accessKeyId,
      trainerImage: opts.trainerImage,
      accountantImage: opts.accountantImage,
      apiServer: opts.apiServer,
    },
    existing,
  );
  fs.mkdirSync(path.dirname(opts.out), { recursive: true });
  fs.writeFileSync(opts.out, text, { mode: 0o600 });
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (e) {
    process.stderr.write(`stack-config: ${(e as Error).message}\n`);
    process.exit(2);
  }
}
