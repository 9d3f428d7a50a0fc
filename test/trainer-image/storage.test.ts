import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { selectBackend } from "../../trainer-image/src/backend";
import { execFileSync } from "node:child_process";
import { openObject, openStore, parseS3Uri, retryOptionsFromEnv, withRetry } from "../../trainer-image/src/storage";

const quiet = jest.spyOn(console, "log").mockImplementation(() => undefined);
afterAll(() => quiet.mockRestore());

describe("storage", () => {
  test("s3 URIs split into bucket and key", () => {
    expect(parseS3Uri("s3://artifacts/runs/")).toEqual({ bucket: "artifacts", key: "runs" });
    expect(parseS3Uri("s3://datasets/auto-mpg/auto-mpg.csv")).toEqual({
      bucket: "datasets",
      key: "auto-mpg/auto-mpg.csv",
    });
    expect(() => parseS3Uri("http://x/y")).toThrow(/is not an s3:\/\/bucket\/key URI/);
  });

  test("local stores accept plain paths and file: URIs; other schemes are refused", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-store-"));
    try {
      const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
      await openStore(`file://${dir}`, retry).put("a/b.json", "{}");
      expect(readFileSync(path.join(dir, "a", "b.json"), "utf8")).toBe("{}");
      expect((await openStore(dir, retry).get("a/b.json"))?.toString()).toBe("{}");
      expect(await openStore(dir, retry).get("missing")).toBeUndefined();
      expect(() => openStore("gs://bucket/x", retry)).toThrow(/unsupported URI scheme in "gs:\/\/bucket\/x"/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("withRetry retries transient errors and gives up at the deadline or on permanent errors", async () => {
    let calls = 0;
    const flaky = () =>
      ++calls < 2
        ? Promise.reject(Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }))
        : Promise.resolve("ok");
    await expect(withRetry("flaky", { deadlineSeconds: 10, sdkAttempts: 1 }, flaky)).resolves.toBe("ok");
    expect(calls).toBe(2);
    let denied = 0;
    const forbidden = () => {
      denied++;
      return Promise.reject(Object.assign(new Error("nope"), { name: "NoSuchKey" }));
    };
    await expect(withRetry("get", { deadlineSeconds: 10, sdkAttempts: 1 }, forbidden)).rejects.toThrow("nope");
    expect(denied).toBe(1);
  });

  test("retry settings come from the env and are validated", () => {
    expect(retryOptionsFromEnv({})).toEqual({ deadlineSeconds: 300, sdkAttempts: 8, socketTimeoutSeconds: 60 });
    expect(retryOptionsFromEnv({ KILN_STORE_RETRY_SECONDS: "60", KILN_S3_MAX_ATTEMPTS: "3" })).toEqual({
      deadlineSeconds: 60,
      sdkAttempts: 3,
      socketTimeoutSeconds: 60,
    });
    expect(() => retryOptionsFromEnv({ KILN_S3_MAX_ATTEMPTS: "many" })).toThrow(
      'KILN_S3_MAX_ATTEMPTS="many" must be a number >= 1',
    );
  });
});

describe("a dataset URI that is not a file", () => {
  test("a directory or a FIFO is a clear error, not a hang", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "kiln-notfile-"));
    const retry = { deadlineSeconds: 1, sdkAttempts: 1 };
    await expect(openObject(dir, retry)).rejects.toThrow(`${dir} is a directory; a file is meant`);
    const fifo = path.join(dir, "data.csv");
    execFileSync("mkfifo", [fifo]);
    await expect(openObject(fifo, retry)).rejects.toThrow(
      `${fifo} is a FIFO (reading it would wait for a writer forever); a file is meant`,
    );
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("backend selection", () => {
  test("KILN_BACKEND forces a backend; unknown names and unloadable backends are named", async () => {
    expect(await selectBackend("wasm")).toMatchObject({ name: "wasm", tfBackend: "wasm" });
    expect(await selectBackend("cpu")).toMatchObject({ name: "cpu", tfBackend: "cpu" });
    await expect(selectBackend("webgpu")).rejects.toThrow(
      'KILN_BACKEND="webgpu" is not a backend; use one of tensorflow-gpu, tensorflow, wasm, cpu',
    );
    let nodeLoads = true;
    try {
      require("@tensorflow/tfjs-node");
    } catch {
      nodeLoads = false;
    }
    if (!nodeLoads)
      await expect(selectBackend("tfjs-node")).rejects.toThrow(
        /^KILN_BACKEND=tfjs-node could not be loaded: Cannot find module '@tensorflow\/tfjs-node'/,
      );
  });

  test("without KILN_BACKEND it falls through tfjs-node-gpu and tfjs-node to the first that loads", async () => {
    const info = await selectBackend(undefined);
    let nodeLoads = true;
    try {
      require("@tensorflow/tfjs-node");
    } catch {
      nodeLoads = false;
    }
    if (nodeLoads) expect(info.name).toMatch(/^tensorflow/);
    else {
      expect(info.name).toBe("wasm");
      expect(Object.keys(info.skipped)).toEqual(["tensorflow-gpu", "tensorflow"]);
    }
  });
});

describe("credentials", () => {
  test("no credentials at all is a permanent error, reported at once instead of retried until the deadline", async () => {
    const env = {
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_S3: "http://127.0.0.1:9",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_CONFIG_FILE: "/nonexistent",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent",
      HOME: "/nonexistent",
    };
    // The SDK's default chain reads the process environment: make it one without any credential source.
    const saved = { ...process.env };
    for (const k of Object.keys(process.env)) if (k.startsWith("AWS_")) delete process.env[k];
    Object.assign(process.env, env);
    try {
      const store = openStore("s3://bucket/prefix", { deadlineSeconds: 120, sdkAttempts: 3 }, env);
      const t0 = Date.now();
      await expect(store.get("x")).rejects.toThrow(
        /no AWS credentials .*: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or give the pod a cloud identity/,
      );
      expect(Date.now() - t0).toBeLessThan(20_000);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });
});
