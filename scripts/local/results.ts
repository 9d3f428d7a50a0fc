/**
 * List a run's outputs in the harness object store: every key under s3://<bucket>/<prefix> with its size.
 * Exit 1 when there is none (the run wrote nothing).
 *
 *   ts-node scripts/local/results.ts --endpoint http://127.0.0.1:9000 --bucket artifacts --prefix runs/<run>/
 */
import { ListObjectsV2Command, type ListObjectsV2CommandOutput } from "@aws-sdk/client-s3";
import { Command } from "commander";
import { s3Client } from "./seed";

export async function listKeys(
  endpoint: string,
  bucket: string,
  prefix: string,
): Promise<{ key: string; size: number }[]> {
  const s3 = s3Client(endpoint);
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page: ListObjectsV2CommandOutput = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) out.push({ key: o.Key ?? "", size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function main(argv: string[]): Promise<void> {
  const o = new Command("results")
    .requiredOption("--endpoint <url>", "S3 endpoint")
    .requiredOption("--bucket <bucket>", "bucket")
    .requiredOption("--prefix <prefix>", "key prefix, e.g. runs/<run>/")
    .parse(argv)
    .opts<{ endpoint: string; bucket: string; prefix: string }>();
  const keys = await listKeys(o.endpoint, o.bucket, o.prefix);
  if (keys.length === 0) {
    process.stderr.write(`results: nothing under s3://${o.bucket}/${o.prefix}\n`);
    process.exitCode = 1;
    return;
  }
  const shown = keys.filter((k) => !k.key.includes("/checkpoints/"));
  for (const k of shown) console.log(`  s3://${o.bucket}/${k.key}  (${k.size} bytes)`);
  if (shown.length < keys.length)
    console.log(
      `  ... and ${keys.length - shown.length} checkpoint objects under s3://${o.bucket}/${o.prefix}checkpoints/`,
    );
}

if (require.main === module) {
  main(process.argv).catch((e: Error) => {
    process.stderr.write(`results: ${e.message}\n`);
    process.exit(1);
  });
}
