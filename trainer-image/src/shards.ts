/**
 * dataset.uri as a list of shards: one object, a prefix ("s3://bucket/dir/" or a directory), or a glob
 * ("s3://bucket/dir/part-*.csv.gz", "/data/**\/*.csv"); s3:// and local paths alike; `.gz` shards are
 * decompressed as they stream. Shards are listed in sorted order; each epoch reads them in a seeded order.
 */
import * as path from "node:path";
import { pipeline, type Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { createGunzip } from "node:zlib";
import picomatch from "picomatch";
import { mixSeed, permutation } from "./rng";
import { openStore, parseS3Uri, type RangedObject, type RetryOptions, type Store } from "./storage";

export interface Shard {
  /** Where the shard is, for messages: the dataset.uri itself when it names one object. */
  readonly uri: string;
  /** `parquet` when the key ends in .parquet, else CSV. */
  readonly format: ShardFormat;
  /** A fresh stream of the shard's CSV text (decompressed when the key ends in .gz). */
  open(): Promise<Readable>;
  /** The shard's bytes for ranged reads (Parquet). */
  ranged(): Promise<RangedObject>;
}

export type ShardFormat = "csv" | "parquet";
export const formatOf = (key: string): ShardFormat => (/\.parquet$/i.test(key) ? "parquet" : "csv");

const GLOB_CHARS = /[*?[\]{}]/;

/** Keys a prefix or glob leaves out: Spark/Hadoop markers (_SUCCESS) and hidden files. */
const isMarker = (key: string) => /(^|\/)[_.][^/]*$/.test(key);

function gunzipped(source: Readable): Readable {
  const out = createGunzip();
  // Registered first, so every later listener (the CSV reader) sees the clearer message.
  out.once("error", (err) => (err.message = `not valid gzip (${err.message})`));
  // pipeline: a download error reaches the reader, and a reader that stops early stops the download.
  pipeline(source, out, () => undefined);
  return out;
}

function shardOf(store: Store, key: string, uri: string): Shard {
  return {
    uri,
    format: formatOf(key),
    open: async () => {
      const s = await store.stream(key);
      return key.endsWith(".gz") ? gunzipped(s) : s;
    },
    ranged: () => store.ranged(key),
  };
}

/** Splits dataset.uri into a store root and a key inside it. */
function locate(
  uri: string,
  retry: RetryOptions,
  env: NodeJS.ProcessEnv,
): { store: Store; key: string; describe: (key: string) => string } {
  if (uri.startsWith("s3://")) {
    const { bucket } = parseS3Uri(uri);
    const key = uri.slice(`s3://${bucket}/`.length);
    if (key === "")
      throw new Error(
        `"${uri}" names a bucket; name an object, a prefix ending in "/" or a glob such as s3://${bucket}/data/*.csv`,
      );
    return { store: openStore(`s3://${bucket}`, retry, env), key, describe: (k) => `s3://${bucket}/${k}` };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(uri) && !uri.startsWith("file:"))
    throw new Error(`unsupported URI scheme in "${uri}"; use s3://bucket/key, file:/path or a plain path`);
  const abs = uri.startsWith("file:")
    ? fileURLToPath(uri.startsWith("file://") ? uri : `file://${path.resolve(uri.slice(5))}`)
    : path.resolve(uri);
  const key = abs.slice(1) + (uri.endsWith("/") && !abs.endsWith("/") ? "/" : "");
  return { store: openStore("/", retry, env), key, describe: (k) => `/${k}` };
}

/** Refuses a data set that mixes CSV and Parquet shards (one schema, one reader per run). */
function oneFormat(shards: Shard[], uri: string): Shard[] {
  const parquet = shards.find((s) => s.format === "parquet");
  const csv = shards.find((s) => s.format === "csv");
  if (parquet && csv)
    throw new Error(
      `${uri} matches both Parquet (${parquet.uri}) and CSV (${csv.uri}) shards; name one kind, e.g. a glob ending in *.parquet`,
    );
  return shards;
}

/** Resolves dataset.uri into its shards (sorted by key); an error says what was looked for. */
export async function resolveShards(
  uri: string,
  retry: RetryOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Shard[]> {
  return oneFormat(await findShards(uri, retry, env), uri);
}

async function findShards(uri: string, retry: RetryOptions, env: NodeJS.ProcessEnv = process.env): Promise<Shard[]> {
  const { store, key, describe } = locate(uri, retry, env);
  const glob = GLOB_CHARS.exec(key);
  if (glob) {
    const literal = key.slice(0, glob.index);
    const matches = picomatch(key, { dot: false });
    const keys = (await store.list(literal)).filter((k) => matches(k) && !isMarker(k));
    if (keys.length === 0) throw new Error(`no shard matches ${uri} (looked under ${describe(literal)})`);
    return keys.map((k) => shardOf(store, k, describe(k)));
  }
  if (!key.endsWith("/")) {
    if (await store.exists(key)) return [shardOf(store, key, uri)];
    // Not an object: maybe a prefix (directory) written without the trailing "/".
    if (!uri.startsWith("s3://")) {
      // A local path that exists but is not a regular file (FIFO, device): say so, as the reader always did.
      const single = await store.stream(key).then(
        (s) => {
          s.destroy();
          return undefined;
        },
        (err: Error) => (/ENOENT/.test(err.message) || (err as { code?: string }).code === "ENOENT" ? undefined : err),
      );
      if (single && !/is a directory/.test(single.message)) throw single;
    }
  }
  const prefix = key.endsWith("/") ? key : `${key}/`;
  const keys = (await store.list(prefix)).filter((k) => !isMarker(k.slice(prefix.length)));
  if (keys.length === 0)
    throw new Error(`${uri} does not exist: no object with that key and no objects under ${describe(prefix)}`);
  return keys.map((k) => shardOf(store, k, describe(k)));
}

/** The shard at a URI resolveShards returned (a worker thread opens shards from their URIs). */
export function shardAt(uri: string, retry: RetryOptions, env: NodeJS.ProcessEnv = process.env): Shard {
  const { store, key } = locate(uri, retry, env);
  return shardOf(store, key, uri);
}

/** The order shards are read in epoch `epoch`: a permutation that depends only on (seed, epoch). */
export function shardOrder(count: number, seed: number, epoch: number): Int32Array {
  return permutation(count, mixSeed(mixSeed(seed, 0x5a4d), epoch + 1));
}
