/**
 * Object storage: s3:// through @aws-sdk/client-s3 (standard env, path-style when an endpoint is set,
 * SDK retries with backoff plus a bounded outer retry), and local paths (plain or file:) for development.
 */
import { promises as fs, createReadStream, type Dirent } from "node:fs";
import * as path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import {
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  DeleteObjectCommand,
  S3Client,
  S3ServiceException,
  paginateListObjectsV2,
} from "@aws-sdk/client-s3";
import { ConfiguredRetryStrategy } from "@smithy/core/retry";
import { localPathProblem, makeDirs } from "./local-path";

export interface Store {
  /** Human-readable location, for messages. */
  readonly describe: (key: string) => string;
  get(key: string): Promise<Buffer | undefined>;
  stream(key: string): Promise<Readable>;
  put(key: string, body: Buffer | string, contentType?: string): Promise<void>;
  delete(key: string): Promise<void>;
  /** Keys (relative to the store's root) of the objects/regular files under `prefix`, sorted. */
  list(prefix: string): Promise<string[]>;
  /** Whether an object (regular file) exists at `key`. */
  exists(key: string): Promise<boolean>;
  /** The object at `key` for ranged reads (Parquet readers fetch the footer and column chunks, not the file). */
  ranged(key: string): Promise<RangedObject>;
}

/** One object's size and its bytes [start, end) on demand (an S3 ranged GET, a positioned file read). */
export interface RangedObject {
  readonly size: number;
  read(start: number, end: number): Promise<Buffer>;
}

export interface RetryOptions {
  /** Total time the outer retry keeps trying one operation; default 300 s (KILN_STORE_RETRY_SECONDS). */
  readonly deadlineSeconds: number;
  /** SDK attempts per request; default 8 (KILN_S3_MAX_ATTEMPTS). */
  readonly sdkAttempts: number;
  /** A socket idle this long fails the attempt (retried), so a black-holed store cannot hang a run; default 60 s (KILN_S3_SOCKET_TIMEOUT_SECONDS). */
  readonly socketTimeoutSeconds?: number;
}

export function retryOptionsFromEnv(env: NodeJS.ProcessEnv = process.env): RetryOptions {
  const num = (name: string, dflt: number) => {
    const v = env[name];
    if (v === undefined || v === "") return dflt;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 1) throw new Error(`${name}="${v}" must be a number >= 1`);
    return n;
  };
  return {
    deadlineSeconds: num("KILN_STORE_RETRY_SECONDS", 300),
    sdkAttempts: num("KILN_S3_MAX_ATTEMPTS", 8),
    socketTimeoutSeconds: num("KILN_S3_SOCKET_TIMEOUT_SECONDS", 60),
  };
}

/** Splits s3://bucket/key into parts. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`"${uri}" is not an s3://bucket/key URI`);
  return { bucket: m[1], key: m[2].replace(/\/+$/, "") };
}

const joinKey = (...parts: string[]) => parts.filter((p) => p !== "").join("/");

function isNotFound(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number }; code?: string };
  return (
    e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404 || e?.code === "ENOENT"
  );
}

/** The SDK found no credentials at all (no keys in the env, no pod identity, no profile). */
function isMissingCredentials(err: unknown): boolean {
  return (err as { name?: string })?.name === "CredentialsProviderError";
}

/** Errors that retrying cannot fix: not found, access denied or bad keys (4xx), missing credentials. */
function isPermanent(err: unknown): boolean {
  if (isNotFound(err) || isMissingCredentials(err)) return true;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata?.httpStatusCode ?? 0;
    return status >= 400 && status < 500 && status !== 408 && status !== 429;
  }
  return false;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retries `op` on transient errors until `deadlineSeconds` pass; logs each wait as a JSON line. */
export async function withRetry<T>(what: string, opts: RetryOptions, op: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + opts.deadlineSeconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op();
    } catch (err) {
      if (isMissingCredentials(err))
        throw new Error(
          `${what}: no AWS credentials (${(err as Error).message}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the pod a cloud identity (the chart's objectStore.credentialsSecret / serviceAccount)`,
        );
      if (isPermanent(err) || Date.now() >= deadline) throw err;
      const wait = Math.min(2000 * attempt, 10000, Math.max(0, deadline - Date.now()));
      console.log(
        JSON.stringify({
          event: "store-retry",
          what,
          attempt,
          waitSeconds: wait / 1000,
          error: (err as Error).message,
        }),
      );
      await sleep(wait);
    }
  }
}

export function s3ClientFromEnv(opts: RetryOptions, env: NodeJS.ProcessEnv = process.env): S3Client {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const client = new S3Client({
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || "us-east-1",
    endpoint,
    forcePathStyle: endpoint !== undefined,
    requestHandler: { connectionTimeout: 5000, socketTimeout: (opts.socketTimeoutSeconds ?? 60) * 1000 },
    // Static keys when the env has them; otherwise the SDK's default chain (web identity, IMDS, ...).
    ...(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? {
          credentials: {
            accessKeyId: env.AWS_ACCESS_KEY_ID,
            secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
            sessionToken: env.AWS_SESSION_TOKEN,
          },
        }
      : {}),
    // Exponential backoff 0.5 s, 1 s, 2 s ... capped at 15 s per wait.
    retryStrategy: new ConfiguredRetryStrategy(opts.sdkAttempts, (attempt) => Math.min(500 * 2 ** attempt, 15000)),
  });
  // The deserialize step runs inside the retry loop: log every failed attempt, so store trouble shows in
  // `kubectl logs` while the SDK retries it (not-found answers are expected and stay quiet).
  client.middlewareStack.add(
    (next) => async (args) => {
      try {
        return await next(args);
      } catch (err) {
        if (!isNotFound(err)) {
          const e = err as Error & { code?: string };
          console.log(
            JSON.stringify({
              event: "store-error",
              error: `${e.name}${e.code ? ` ${e.code}` : ""}: ${e.message}`.slice(0, 300),
            }),
          );
        }
        throw err;
      }
    },
    { step: "deserialize", name: "kilnLogFailedAttempts" },
  );
  return client;
}

class S3Store implements Store {
  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
    private readonly retry: RetryOptions,
  ) {}

  describe = (key: string) => `s3://${this.bucket}/${joinKey(this.prefix, key)}`;

  async get(key: string): Promise<Buffer | undefined> {
    return withRetry(`get ${this.describe(key)}`, this.retry, async () => {
      try {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) }),
        );
        return Buffer.from(await out.Body!.transformToByteArray());
      } catch (err) {
        if (isNotFound(err)) return undefined;
        throw err;
      }
    });
  }

  async stream(key: string): Promise<Readable> {
    const out = await withRetry(`open ${this.describe(key)}`, this.retry, () =>
      this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) })),
    );
    return out.Body as Readable;
  }

  async put(key: string, body: Buffer | string, contentType = "application/octet-stream"): Promise<void> {
    await withRetry(`put ${this.describe(key)}`, this.retry, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: joinKey(this.prefix, key),
          Body: body,
          ContentType: contentType,
        }),
      ),
    );
  }

  async delete(key: string): Promise<void> {
    await withRetry(`delete ${this.describe(key)}`, this.retry, () =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) })),
    );
  }

  async list(prefix: string): Promise<string[]> {
    const root = this.prefix === "" ? "" : `${this.prefix}/`;
    return withRetry(`list ${this.describe(prefix)}`, this.retry, async () => {
      const keys: string[] = [];
      for await (const page of paginateListObjectsV2(
        { client: this.client },
        { Bucket: this.bucket, Prefix: root + prefix },
      )) {
        for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith("/")) keys.push(o.Key.slice(root.length));
      }
      return keys.sort();
    });
  }

  async exists(key: string): Promise<boolean> {
    return withRetry(`head ${this.describe(key)}`, this.retry, async () => {
      try {
        await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: joinKey(this.prefix, key) }));
        return true;
      } catch (err) {
        if (isNotFound(err)) return false;
        throw err;
      }
    });
  }

  async ranged(key: string): Promise<RangedObject> {
    const Key = joinKey(this.prefix, key);
    const head = await withRetry(`head ${this.describe(key)}`, this.retry, () =>
      this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key })),
    );
    return {
      size: head.ContentLength ?? 0,
      read: (start, end) =>
        withRetry(`get ${this.describe(key)} bytes ${start}-${end - 1}`, this.retry, async () => {
          if (end <= start) return Buffer.alloc(0);
          const out = await this.client.send(
            new GetObjectCommand({ Bucket: this.bucket, Key, Range: `bytes=${start}-${end - 1}`, IfMatch: head.ETag }),
          );
          return readBody(out.Body as Readable, end - start);
        }),
    };
  }
}

/**
 * A response body of about `size` bytes in one Buffer of its own, copied once from the socket's chunks (not
 * gathered, joined and copied again): a Parquet column chunk can be megabytes.
 */
async function readBody(body: Readable, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafeSlow(size);
  let at = 0;
  const rest: Buffer[] = [];
  for await (const chunk of body) {
    const b = chunk as Buffer;
    if (rest.length === 0 && at + b.length <= size) {
      b.copy(out, at);
      at += b.length;
    } else rest.push(b);
  }
  if (rest.length) return Buffer.concat([out.subarray(0, at), ...rest]);
  return at === size ? out : out.subarray(0, at);
}

class LocalStore implements Store {
  constructor(private readonly root: string) {}

  describe = (key: string) => path.join(this.root, key);

  async get(key: string): Promise<Buffer | undefined> {
    try {
      return await fs.readFile(this.describe(key));
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async stream(key: string): Promise<Readable> {
    const file = this.describe(key);
    // A directory, FIFO, socket, device or kernel file is not a data file (a FIFO would block the reader forever).
    const problem = localPathProblem(file, "read-file");
    if (problem)
      throw Object.assign(new Error(`${file} ${problem}`), problem === "does not exist" ? { code: "ENOENT" } : {});
    return createReadStream(file);
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const file = this.describe(key);
    makeDirs(path.dirname(file)); // not fs.mkdir's recursive mode, which loops forever under /proc
    const tmp = `${file}.tmp-${process.pid}`;
    await fs.writeFile(tmp, body);
    await fs.rename(tmp, file);
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.describe(key), { force: true });
  }

  async list(prefix: string): Promise<string[]> {
    // Files under the directory part of the prefix whose relative path starts with the prefix.
    const dir = path.join(this.root, prefix.includes("/") ? prefix.slice(0, prefix.lastIndexOf("/")) : "");
    let entries: Dirent[];
    try {
      entries = await fs.readdir(dir, { recursive: true, withFileTypes: true });
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    return entries
      .filter((e) => e.isFile())
      .map((e) =>
        path
          .relative(this.root, path.join(e.parentPath ?? e.path, e.name))
          .split(path.sep)
          .join("/"),
      )
      .filter((k) => k.startsWith(prefix))
      .sort();
  }

  async ranged(key: string): Promise<RangedObject> {
    const file = this.describe(key);
    const st = await fs.stat(file);
    if (!st.isFile())
      throw new Error(
        `${file} is ${st.isDirectory() ? "a directory" : st.isFIFO() ? "a FIFO" : "not a regular file"}; dataset.uri must name a file`,
      );
    return {
      size: st.size,
      read: async (start, end) => {
        const handle = await fs.open(file, "r");
        try {
          const out = Buffer.alloc(Math.max(0, end - start));
          const { bytesRead } = await handle.read(out, 0, out.length, start);
          return out.subarray(0, bytesRead);
        } finally {
          await handle.close();
        }
      },
    };
  }

  async exists(key: string): Promise<boolean> {
    try {
      return (await fs.stat(this.describe(key))).isFile();
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }
}

/** The local path of a `file:` URI or a plain path. */
export function localPath(uri: string): string {
  return uri.startsWith("file:")
    ? fileURLToPath(uri.startsWith("file://") ? uri : `file://${path.resolve(uri.slice(5))}`)
    : path.resolve(uri);
}

/** A store rooted at `uri` (a "directory": s3://bucket/prefix, file:/dir or /dir). */
export function openStore(uri: string, retry: RetryOptions, env: NodeJS.ProcessEnv = process.env): Store {
  if (uri.startsWith("s3://")) {
    const { bucket, key } = parseS3Uri(uri);
    return new S3Store(s3ClientFromEnv(retry, env), bucket, key, retry);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith("file:")) {
    throw new Error(`unsupported URI scheme in "${uri}"; use s3://bucket/key, file:/path or a plain path`);
  }
  return new LocalStore(localPath(uri));
}

/** Opens the object at `uri` (s3://bucket/key or a path) as a stream, with the same retries. */
export async function openObject(
  uri: string,
  retry: RetryOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Readable> {
  if (uri.startsWith("s3://")) {
    const { bucket, key } = parseS3Uri(uri);
    if (key === "") throw new Error(`"${uri}" names a bucket, not an object`);
    return openStore(`s3://${bucket}`, retry, env).stream(key);
  }
  const file = localPath(uri);
  return openStore(path.dirname(file), retry, env).stream(path.basename(file));
}

export { isNotFound };
