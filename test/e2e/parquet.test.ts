/**
 * A Parquet run on the real node: Auto MPG converted in the store from CSV to Parquet shards by the trainer's
 * convert helper (small row groups, so the pod reads several by ranged GETs), then trained by the trainer image
 * from MinIO; it reads every row and writes model, metrics and report like a CSV run.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { convertCsvToParquet } from "../../trainer-image/src/convert";
import { readCsv } from "../../trainer-image/src/data";
import {
  ensureStack,
  harnessConfig,
  kiln,
  kubectl,
  kubectlJson,
  type ObjectStoreEnv,
  runName,
  storeClient,
  waitFor,
} from "./harness";

jest.setTimeout(20 * 60_000);

const CSV = "s3://datasets/auto-mpg/auto-mpg.csv";
const PARQUET = "s3://datasets/auto-mpg-parquet/";

describe("a Parquet run on the real node", () => {
  let ns = "";
  let store: ObjectStoreEnv;
  let s3: S3Client;
  let dir = "";
  const created: string[] = [];

  beforeAll(async () => {
    store = await ensureStack();
    ns = harnessConfig().teams[0].namespace;
    s3 = storeClient(store);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-parquet-e2e-"));
  });
  afterAll(async () => {
    for (const n of created) await kubectl(["delete", "job", n, "-n", ns, "--ignore-not-found", "--wait=false"]);
    s3?.destroy();
  });

  const getText = async (bucket: string, key: string) =>
    await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();

  it("trains Auto MPG from Parquet shards in MinIO, written by kiln-trainer convert", async () => {
    const env = {
      AWS_ENDPOINT_URL_S3: store.endpoint,
      AWS_ACCESS_KEY_ID: store.accessKeyId,
      AWS_SECRET_ACCESS_KEY: store.secretAccessKey,
      AWS_REGION: "us-east-1",
    };
    const converted = await convertCsvToParquet({
      from: CSV,
      to: PARQUET,
      rowGroupRows: 64,
      codec: "snappy",
      env,
      log: () => undefined,
    });
    expect(converted).toEqual([
      expect.objectContaining({
        to: `${PARQUET}auto-mpg.parquet`,
        types: expect.objectContaining({ Miles_per_Gallon: "DOUBLE", Name: "UTF8" }),
      }),
    ]);
    const rows = (await readCsv(await getText("datasets", "auto-mpg/auto-mpg.csv"), "auto-mpg.csv")).rows.length;
    expect(converted[0].rows).toBe(rows);

    const name = runName("e2e-parquet");
    const spec = {
      dataset: { uri: `${PARQUET}*.parquet`, target: "Miles_per_Gallon", drop: ["Name"], categorical: ["Origin"] },
      task: "regression",
      // The README's model with a livelier optimizer: 60 epochs reach a test MAE near 2 on CSV and Parquet alike.
      model: {
        layers: [
          { units: 64, activation: "relu" },
          { units: 64, activation: "relu" },
        ],
      },
      training: { epochs: 60, checkpointEvery: 20, seed: 3, optimizer: { name: "adam", learningRate: 0.01 } },
      output: { uri: "s3://artifacts/runs" },
    };
    const file = path.join(dir, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(spec));
    created.push(name);
    const r = await kiln(["submit", "-n", ns, "--spec", file, "--name", name]);
    if (r.code !== 0) throw new Error(`kubectl kiln submit failed (${r.code}):\n${r.stderr}${r.stdout}`);
    const state = await waitFor(
      `Job ${name} to finish`,
      600_000,
      async () => {
        const j = await kubectlJson(["get", "job", name, "-n", ns]);
        return (j.status?.conditions ?? []).find(
          (c: any) => (c.type === "Complete" || c.type === "Failed") && c.status === "True",
        )?.type as string | undefined;
      },
      2000,
    );
    expect(state).toBe("Complete");
    const metrics = JSON.parse(await getText("artifacts", `runs/${name}/metrics.json`));
    expect(metrics.rows.read).toBe(rows);
    expect(metrics.test.mae).toBeLessThan(4);
    const logs = await kiln(["logs", name, "-n", ns]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/\n\s*20\s/);
  });
});
