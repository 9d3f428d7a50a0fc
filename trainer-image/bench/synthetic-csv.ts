/**
 * The benchmark's synthetic regression data as CSV shards in object storage, generated shard by shard
 * (one shard in memory at a time) and kept: a shard that exists is not generated again.
 * Columns: id, x0..x7 uniform in [-1, 1], y = w.x + sin(3 x0) + 0.5 x1 x2 + noise (10 columns, ~92 bytes/row).
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { mulberry32 } from "../src/rng";

const W = [1.5, -2, 0.7, 0.3, -0.9, 1.1, 0, 0.4];

function shardText(from: number, to: number, seed: number): Buffer {
  const rand = mulberry32(seed);
  const parts: string[] = ["id,x0,x1,x2,x3,x4,x5,x6,x7,y\n"];
  let lines: string[] = [];
  const x = new Array<number>(8);
  for (let r = from; r < to; r++) {
    let t = 0;
    for (let c = 0; c < 8; c++) {
      x[c] = rand() * 2 - 1;
      t += W[c] * x[c];
    }
    const y = t + Math.sin(3 * x[0]) + 0.5 * x[1] * x[2] + (rand() + rand() + rand() - 1.5) * 0.2;
    lines.push(`${r},${x.map((v) => v.toFixed(6)).join(",")},${y.toFixed(6)}`);
    if (lines.length === 10_000) {
      parts.push(`${lines.join("\n")}\n`);
      lines = [];
    }
  }
  if (lines.length) parts.push(`${lines.join("\n")}\n`);
  return Buffer.from(parts.join(""));
}

/** Ensures s3://bucket/prefix/part-NNNNN.csv for `rows` rows in shards of `shardRows`; returns the glob URI and bytes. */
export async function ensureShards(
  s3: S3Client,
  bucket: string,
  prefix: string,
  rows: number,
  shardRows: number,
): Promise<{ uri: string; bytes: number; generatedSeconds: number }> {
  const t0 = Date.now();
  let bytes = 0;
  for (let s = 0, from = 0; from < rows; s++, from += shardRows) {
    const Key = `${prefix}/part-${String(s).padStart(5, "0")}.csv`;
    const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key })).catch(() => undefined);
    if (head?.ContentLength) {
      bytes += head.ContentLength;
      continue;
    }
    const body = shardText(from, Math.min(rows, from + shardRows), 2024 + s);
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body, ContentType: "text/csv" }));
    bytes += body.length;
    process.stderr.write(`  generated s3://${bucket}/${Key} (${(body.length / 2 ** 20).toFixed(0)} MiB)\n`);
  }
  return { uri: `s3://${bucket}/${prefix}/part-*.csv`, bytes, generatedSeconds: (Date.now() - t0) / 1000 };
}
