/**
 * Seed the harness object store: create the datasets and artifacts buckets if missing and upload
 * the Auto MPG CSV (datasets/auto-mpg.ts) to s3://<datasets>/auto-mpg/auto-mpg.csv.
 * Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
 *
 *   ts-node scripts/local/seed.ts --endpoint http://127.0.0.1:9000 [--datasets datasets] [--artifacts artifacts]
 */
import {
  CreateBucketCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Command } from "commander";
import { autoMpgCsv } from "../../datasets/auto-mpg";

/** Key of the default training data set inside the datasets bucket (the run spec's default). */
export const AUTO_MPG_KEY = "auto-mpg/auto-mpg.csv";

export function s3Client(endpoint: string, region = "us-east-1"): S3Client {
  return new S3Client({ endpoint, region, forcePathStyle: true });
}

export async function ensureBucket(s3: S3Client, bucket: string): Promise<"created" | "exists"> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return "exists";
  } catch (e) {
    const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status !== 404) throw new Error(`checking bucket ${bucket}: ${(e as Error).name} ${(e as Error).message}`);
  }
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return "created";
}

export async function seed(endpoint: string, datasets: string, artifacts: string): Promise<string[]> {
  const s3 = s3Client(endpoint);
  const lines: string[] = [];
  for (const b of [datasets, artifacts]) lines.push(`bucket ${b}: ${await ensureBucket(s3, b)}`);
  const body = autoMpgCsv();
  await s3.send(new PutObjectCommand({ Bucket: datasets, Key: AUTO_MPG_KEY, Body: body, ContentType: "text/csv" }));
  const head = await s3.send(new HeadObjectCommand({ Bucket: datasets, Key: AUTO_MPG_KEY }));
  lines.push(
    `uploaded s3://${datasets}/${AUTO_MPG_KEY} (${head.ContentLength} bytes, ${body.trim().split("\n").length - 1} rows)`,
  );
  return lines;
}

async function main(argv: string[]): Promise<void> {
  const opts = new Command("seed")
    .requiredOption("--endpoint <url>", "S3 endpoint")
    .option("--datasets <bucket>", "datasets bucket", "datasets")
    .option("--artifacts <bucket>", "artifacts bucket", "artifacts")
    .parse(argv)
    .opts<{ endpoint: string; datasets: string; artifacts: string }>();
  for (const line of await seed(opts.endpoint, opts.datasets, opts.artifacts)) console.log(line);
}

if (require.main === module) {
  main(process.argv).catch((e: Error) => {
    process.stderr.write(`seed: ${e.message}\n`);
    process.exit(1);
  });
}
