/**
 * scripts/preflight.sh, the first seconds of npm run local, npm test and npm run test:e2e, on simulated
 * machines: fakes for `id` (root or not), `dpkg-query` (which packages are installed), `apt-get`
 * (records what it is asked to install and "installs" it) and `go` come first on PATH; the kernel is
 * read from fake /proc and /sys trees; the tool cache is an empty temp dir; every port is a free one.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");
const PORT_VARS = [
  "ETCD_PORT",
  "ETCD_PEER_PORT",
  "APISERVER_PORT",
  "CONTROLLER_MANAGER_PORT",
  "SCHEDULER_PORT",
  "KWOK_PORT",
  "KUEUE_HEALTH_PORT",
  "KUEUE_METRICS_PORT",
  "KUEUE_WEBHOOK_PORT",
  "JOBSET_HEALTH_PORT",
  "JOBSET_METRICS_PORT",
  "JOBSET_WEBHOOK_PORT",
  "COREDNS_HEALTH_PORT",
  "COREDNS_READY_PORT",
  "KUBELET_HEALTHZ_PORT",
  "MINIO_PORT",
  "MINIO_CONSOLE_PORT",
];

interface Machine {
  uid?: number;
  /** Packages dpkg-query reports as not installed. */
  missing?: string[];
  /** apt-get fails instead of installing. */
  aptFails?: boolean;
  /** What `go env GOVERSION` prints; undefined: no go on PATH at all is not simulated (it is), see noGo. */
  goVersion?: string;
  /** Leave out of the fake kernel (a /sys/module dir, and from config.gz). */
  kernelLacks?: string[];
  chromium?: boolean;
  env?: Record<string, string>;
}

let freePorts: number[] = [];
let busy: net.Server;

beforeAll(async () => {
  const servers = await Promise.all(
    [...PORT_VARS, "busy"].map(
      () =>
        new Promise<net.Server>((resolve) => {
          const s = net.createServer();
          s.listen(0, "127.0.0.1", () => resolve(s));
        }),
    ),
  );
  freePorts = servers.map((s) => (s.address() as net.AddressInfo).port);
  busy = servers.pop()!;
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});
afterAll(() => new Promise((r) => busy.close(r)));

function write(file: string, text: string, mode = 0o755) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
}

/** Runs scripts/preflight.sh <mode> on a simulated machine; returns exit code, output, seconds and apt-get's log. */
function preflight(mode: string, m: Machine = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-preflight-"));
  const bin = path.join(dir, "bin");
  const installed = path.join(dir, "installed");
  const aptLog = path.join(dir, "apt.log");
  fs.writeFileSync(installed, "");
  write(
    path.join(bin, "id"),
    `#!/bin/sh\n[ "$1" = -u ] && { echo ${m.uid ?? 1000}; exit 0; }\nexec /usr/bin/id "$@"\n`,
  );
  // Installed unless listed as missing and not installed since by the fake apt-get.
  write(
    path.join(bin, "dpkg-query"),
    `#!/bin/bash\npkg=\${@: -1}\nfor p in ${(m.missing ?? []).join(" ")}; do [[ $p == "$pkg" ]] && ! grep -qx "$pkg" ${installed} && exit 1; done\necho -n 'install ok installed'\n`,
  );
  write(
    path.join(bin, "apt-get"),
    `#!/bin/bash\necho "apt-get $*" >>${aptLog}\n${m.aptFails ? "exit 100" : `[[ $1 == install ]] && for a in "$@"; do echo "$a" >>${installed}; done\nexit 0`}\n`,
  );
  write(
    path.join(bin, "go"),
    `#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && { echo ${m.goVersion ?? "go1.26.8"}; exit 0; }\nexit 1\n`,
  );
  const lacks = new Set(m.kernelLacks ?? []);
  const proc = path.join(dir, "proc");
  const sys = path.join(dir, "sys");
  write(path.join(proc, "self/ns/net"), "", 0o644);
  write(
    path.join(proc, "filesystems"),
    lacks.has("overlay") ? "nodev\tproc\n" : "nodev\tproc\nnodev\toverlay\n",
    0o644,
  );
  for (const c of ["cpu", "memory", "pids"]) fs.mkdirSync(path.join(sys, "fs/cgroup", c), { recursive: true });
  for (const mod of ["bridge", "veth", "nf_nat"])
    if (!lacks.has(mod)) fs.mkdirSync(path.join(sys, "module", mod), { recursive: true });
  const chromium = path.join(dir, "chromium");
  if (m.chromium !== false) write(chromium, "#!/bin/sh\necho Chromium 1\n");
  const ports = Object.fromEntries(PORT_VARS.map((v, i) => [v, String(freePorts[i])]));
  const env = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    KILN_TOOLS_DIR: path.join(dir, "tools"),
    KILN_DIR: path.join(dir, "kiln"),
    KILN_PROC_DIR: proc,
    KILN_SYS_DIR: sys,
    KILN_CHROMIUM: chromium,
    KILN_MIN_FREE_GIB: "0",
    KILN_MIN_FREE_GIB_WARM: "0",
    KILN_REAL_NODE: "true",
    KUBELET_PORT: String(freePorts[0]),
    ...ports,
    ...m.env,
  };
  const t0 = Date.now();
  const r = spawnSync("bash", [path.join(ROOT, "scripts/preflight.sh"), mode], { cwd: ROOT, encoding: "utf8", env });
  const seconds = (Date.now() - t0) / 1000;
  const apt = fs.existsSync(aptLog) ? fs.readFileSync(aptLog, "utf8") : "";
  fs.rmSync(dir, { recursive: true, force: true });
  return { code: r.status, out: `${r.stdout}${r.stderr}`, seconds, apt };
}

describe("npm run local's preflight", () => {
  test("not root and podman missing: stops within 10 s, lists both problems and prints the one command", () => {
    const r = preflight("local", { missing: ["podman", "containernetworking-plugins"] });
    expect(r.code).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.out).toContain("not root: the real node (kubelet, containerd, CNI) and apt-get need root");
    expect(r.out).toContain("missing Debian packages: containernetworking-plugins podman");
    expect(r.out).toContain('Run this one command:\n  sudo env "PATH=$PATH" npm run local');
    expect(r.apt).toBe("");
  });

  test("as root it installs the missing packages itself, says so, and is ready", () => {
    const r = preflight("local", { uid: 0, missing: ["podman", "debootstrap"] });
    expect(r.out).toContain("installing the missing Debian packages as root (about 75 s): podman debootstrap");
    expect(r.apt).toContain("apt-get install -y -qq --no-install-recommends podman debootstrap");
    expect(r.code).toBe(0);
    expect(r.out).toContain("npm run local: ready");
  });

  test("as root, when apt-get fails, it stops naming what is still missing and the script to rerun", () => {
    const r = preflight("local", { uid: 0, missing: ["podman"], aptFails: true });
    expect(r.code).toBe(1);
    expect(r.out).toContain("apt-get could not install: podman");
    expect(r.out).toContain("sudo bash scripts/cluster/install-node-deps.sh");
  });

  test("a Go older than versions.sh's GO_MIN_VERSION is refused while tools are missing", () => {
    const r = preflight("local", { uid: 0, goVersion: "go1.22.1" });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/Go 1\.22\.1 is older than 1\.26, which the tools need: kubernetes etcd /);
    expect(r.out).toContain("install Go >= 1.26 from https://go.dev/dl/");
  });

  test("a port in use, a kernel without veth, too little disk: each named with its fix", () => {
    const busyPort = (busy.address() as net.AddressInfo).port;
    const r = preflight("local", {
      uid: 0,
      kernelLacks: ["veth"],
      env: { APISERVER_PORT: String(busyPort), KILN_MIN_FREE_GIB: "1000000" },
    });
    expect(r.code).toBe(1);
    expect(r.out).toContain(`port ${busyPort} (for kube-apiserver) is already in use on 127.0.0.1`);
    expect(r.out).toContain("or set APISERVER_PORT");
    expect(r.out).toContain("this kernel lacks what the real node needs: veth pairs (CONFIG_VETH");
    expect(r.out).toMatch(/GiB free on .*; 1000000 GiB are needed \(KILN_MIN_FREE_GIB\)/);
  });

  test("a fully set-up machine is ready at once", () => {
    const r = preflight("local", { uid: 0 });
    expect(r).toMatchObject({ code: 0, apt: "" });
    expect(r.out).toContain("npm run local: ready");
  });
});

describe("npm test's and npm run test:e2e's preflight", () => {
  test("npm test without Chromium (not root) passes but says at once that the browser suite will be skipped", () => {
    const r = preflight("test", { chromium: false });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(
      /WARNING: no Chromium at .*: the dashboard's browser tests will be SKIPPED; enable them with: sudo bash scripts\/test\/install-browser.sh/,
    );
  });

  test("npm run test:e2e without Chromium and root stops naming the one command", () => {
    const r = preflight("e2e", { chromium: false });
    expect(r.code).toBe(1);
    expect(r.seconds).toBeLessThan(10);
    expect(r.out).toContain("no Chromium at");
    expect(r.out).toContain('Run this one command:\n  sudo env "PATH=$PATH" npm run test:e2e\n');
  });

  test("an unknown mode is a usage error", () => {
    expect(preflight("deploy").code).toBe(2);
  });
});
