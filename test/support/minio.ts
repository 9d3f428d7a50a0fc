/**
 * A real MinIO server for tests: free loopback port, temp data dir, buckets created with the S3 client.
 * The binary comes from KILN_MINIO_BIN or the tool cache (built from the Go module proxy).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, readFileSync } from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { toolBinDir } from "./tools";

export const MINIO_CACHE_BIN = path.join(toolBinDir("minio"), "minio");

export function minioBinary(env: NodeJS.ProcessEnv = process.env): string {
  const bin = env.KILN_MINIO_BIN || MINIO_CACHE_BIN;
  if (!existsSync(bin)) {
    throw new Error(
      `MinIO binary not found at ${bin}. Build it from the Go module proxy:\n` +
        `  npm run tools:build -- minio\n` +
        `or point KILN_MINIO_BIN at an existing minio binary.`,
    );
  }
  return bin;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class MinioServer {
  readonly accessKey = "kiln-test";
  readonly secretKey = "kiln-test-secret-key";
  readonly region = "us-east-1";
  private proc: ChildProcess | undefined;

  private constructor(
    readonly port: number,
    readonly consolePort: number,
    readonly dataDir: string,
    readonly logFile: string,
    private readonly bin: string,
  ) {}

  static async start(buckets: string[] = []): Promise<MinioServer> {
    const bin = minioBinary();
    const root = mkdtempSync(path.join(os.tmpdir(), "kiln-minio-"));
    const server = new MinioServer(
      await freePort(),
      await freePort(),
      path.join(root, "data"),
      path.join(root, "minio.log"),
      bin,
    );
    await server.resume();
    if (buckets.length) await server.createBuckets(...buckets);
    return server;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Environment for a trainer process (or this process) to reach the server. */
  env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_S3: this.endpoint,
      AWS_REGION: this.region,
      AWS_ACCESS_KEY_ID: this.accessKey,
      AWS_SECRET_ACCESS_KEY: this.secretKey,
    };
  }

  client(): S3Client {
    return new S3Client({
      endpoint: this.endpoint,
      region: this.region,
      forcePathStyle: true,
      credentials: { accessKeyId: this.accessKey, secretAccessKey: this.secretKey },
    });
  }

  async createBuckets(...names: string[]): Promise<void> {
    const c = this.client();
    for (const Bucket of names) await c.send(new CreateBucketCommand({ Bucket }));
    c.destroy();
  }

  /** Starts (or restarts, same port and data dir) the server and waits until it is live. */
  async resume(timeoutMs = 30000): Promise<void> {
    if (this.proc) return;
    const log = openSync(this.logFile, "a");
    const proc = spawn(
      this.bin,
      [
        "server",
        this.dataDir,
        "--address",
        `127.0.0.1:${this.port}`,
        "--console-address",
        `127.0.0.1:${this.consolePort}`,
        "--quiet",
      ],
      {
        env: {
          ...process.env,
          MINIO_ROOT_USER: this.accessKey,
          MINIO_ROOT_PASSWORD: this.secretKey,
          MINIO_BROWSER: "off",
          MINIO_UPDATE: "off",
        },
        stdio: ["ignore", log, log],
      },
    );
    closeSync(log);
    this.proc = proc;
    let exited: number | null = null;
    proc.on("exit", (code) => (exited = code ?? -1));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (exited !== null) break;
      try {
        const res = await fetch(`${this.endpoint}/minio/health/live`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await sleep(200);
    }
    await this.stop();
    const tail = existsSync(this.logFile) ? readFileSync(this.logFile, "utf8").slice(-2000) : "";
    throw new Error(
      `MinIO did not become live on ${this.endpoint} within ${timeoutMs} ms (see ${this.logFile}):\n${tail}`,
    );
  }

  /** Stops the server process; the data dir is kept so `resume()` brings the same objects back. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    this.proc = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill("SIGCONT"); // a frozen process cannot handle SIGTERM
    const gone = new Promise<void>((r) => proc.once("exit", () => r()));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
    await gone;
    clearTimeout(timer);
  }

  /** Freezes the server process (SIGSTOP): connections hang instead of being refused, like a network black hole. */
  freeze(): void {
    this.proc?.kill("SIGSTOP");
  }

  /** Resumes a frozen server (SIGCONT). */
  thaw(): void {
    this.proc?.kill("SIGCONT");
  }

  /** Stops the server and deletes its data. */
  async destroy(): Promise<void> {
    await this.stop();
    rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }
}
