/**
 * A MinIO server for the benchmark: the tool-cache binary (KILN_MINIO_BIN overrides), data kept under
 * ~/.cache/kiln/bench-minio so generated shards survive between runs, loopback only.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";

const REPO = path.resolve(__dirname, "..", "..");
export const BENCH_MINIO_DIR =
  process.env.KILN_BENCH_MINIO_DIR ?? path.join(os.homedir(), ".cache", "kiln", "bench-minio");

function minioBin(): string {
  if (process.env.KILN_MINIO_BIN) return process.env.KILN_MINIO_BIN;
  const versions = readFileSync(path.join(REPO, "scripts", "toolchain", "versions.sh"), "utf8");
  const version = /MINIO_VERSION=\$\{MINIO_VERSION:-([^}]+)\}/.exec(versions)?.[1];
  const tools = process.env.KILN_TOOLS_DIR ?? path.join(os.homedir(), ".cache", "kiln", "tools");
  return path.join(tools, `minio-${version}`, "bin", "minio");
}

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const srv = net.createServer();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });

export interface BenchMinio {
  env: Record<string, string>;
  client: S3Client;
  stop(): void;
}

export async function startMinio(buckets: string[]): Promise<BenchMinio> {
  const bin = minioBin();
  if (!existsSync(bin))
    throw new Error(`MinIO binary not found at ${bin}: npm run tools:build -- minio, or set KILN_MINIO_BIN`);
  mkdirSync(BENCH_MINIO_DIR, { recursive: true });
  const port = await freePort();
  const consolePort = await freePort();
  const creds = { MINIO_ROOT_USER: "kiln-bench", MINIO_ROOT_PASSWORD: "kiln-bench-secret-key" };
  const proc: ChildProcess = spawn(
    bin,
    [
      "server",
      BENCH_MINIO_DIR,
      "--address",
      `127.0.0.1:${port}`,
      "--console-address",
      `127.0.0.1:${consolePort}`,
      "--quiet",
    ],
    {
      env: { ...process.env, ...creds },
      stdio: "ignore",
    },
  );
  const env = {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: creds.MINIO_ROOT_USER,
    AWS_SECRET_ACCESS_KEY: creds.MINIO_ROOT_PASSWORD,
    AWS_REGION: "us-east-1",
  };
  const client = new S3Client({
    region: env.AWS_REGION,
    endpoint: env.AWS_ENDPOINT_URL_S3,
    forcePathStyle: true,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  });
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`${env.AWS_ENDPOINT_URL_S3}/minio/health/ready`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (i > 100) throw new Error(`MinIO did not become ready on port ${port}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const Bucket of buckets)
    await client
      .send(new CreateBucketCommand({ Bucket }))
      .catch((e: Error) => (/BucketAlready/.test(e.name) ? undefined : Promise.reject(e)));
  return { env, client, stop: () => proc.kill("SIGTERM") };
}
