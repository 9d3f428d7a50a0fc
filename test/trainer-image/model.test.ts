import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { saveModel } from "../../trainer-image/src/artifacts";
import { selectBackend } from "../../trainer-image/src/backend";
import { testBackends } from "./backends";
import { buildModel, compileModel } from "../../trainer-image/src/model";
import { runTraining } from "../../trainer-image/src/run";
import { parseRunSpec, type RunSpec } from "../../trainer-image/src/spec";
import { openStore } from "../../trainer-image/src/storage";

const retry = { deadlineSeconds: 5, sdkAttempts: 1 };
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "kiln-model-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const tinySpec = (task: RunSpec["task"], layers = [{ units: 4 }]) =>
  parseRunSpec({
    dataset: { uri: "x", target: "y" },
    task,
    model: { layers },
    training: { epochs: 2, batchSize: 4 },
    output: { uri: dir },
  });

/** Serves `root` over HTTP so tf.loadLayersModel reads it exactly as it would from a web server. */
async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    try {
      res.end(readFileSync(path.join(root, decodeURIComponent(new URL(req.url!, "http://x").pathname))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as import("node:net").AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((r) => server.close(() => r())) };
}

/**
 * fetch whose json() parses inside the jest sandbox: JSON parsed by Node's own fetch yields arrays from
 * another realm, which fail tfjs-layers' `instanceof Array` checks (a jest artefact; plain node is fine).
 */
const realmFetch = async (url: string, init?: RequestInit) => {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  return {
    ok: res.ok,
    status: res.status,
    headers: res.headers,
    url: res.url,
    json: async () => JSON.parse(body.toString("utf8")),
    text: async () => body.toString("utf8"),
    arrayBuffer: async () => new Uint8Array(body).buffer,
  };
};

describe.each(testBackends())("model (%s)", (backend) => {
  beforeAll(() => selectBackend(backend));

  test("output layer follows the task; kernels are seeded", () => {
    const reg = buildModel(tinySpec("regression"), [3]);
    expect(reg.outputs[0].shape).toEqual([null, 1]);
    const multi = buildModel(tinySpec("multiclass"), [3], 5);
    expect(multi.outputs[0].shape).toEqual([null, 5]);
    expect((multi.layers[1].getConfig() as { activation: string }).activation).toBe("softmax");
    const again = buildModel(tinySpec("multiclass"), [3], 5);
    expect(Array.from(again.getWeights()[0].dataSync())).toEqual(Array.from(multi.getWeights()[0].dataSync()));
  });

  test("a 2-epoch fit on tiny data lowers the loss, and save -> tf.loadLayersModel round-trips element-wise", async () => {
    const spec = tinySpec("regression", [{ units: 8 }]);
    const model = buildModel(spec, [2]);
    compileModel(model, { ...spec, training: { ...spec.training, optimizer: { name: "adam", learningRate: 0.05 } } });
    const x = tf.tensor2d([
      [0, 1],
      [1, 0],
      [1, 1],
      [0, 0],
      [2, 1],
      [1, 2],
      [2, 2],
      [0, 2],
    ]);
    const y = x.sum(1, true).mul(3);
    const h = await model.fit(x, y, { epochs: 2, batchSize: 4, shuffle: false, verbose: 0 });
    expect(h.history.loss[1]).toBeLessThan(h.history.loss[0] as number);

    await saveModel(model, openStore(path.join(dir, "rt"), retry), { kiln: { note: "round trip" } });
    const srv = await serve(path.join(dir, "rt"));
    try {
      const loaded = await tf.loadLayersModel(`${srv.url}/model/model.json`, {
        fetchFunc: realmFetch as unknown as typeof fetch,
      });
      const a = model.getWeights();
      const b = loaded.getWeights();
      expect(b.map((w) => w.shape)).toEqual(a.map((w) => w.shape));
      a.forEach((w, i) => expect(Array.from(b[i].dataSync())).toEqual(Array.from(w.dataSync())));
      expect(Array.from((loaded.predict(x) as tf.Tensor).dataSync())).toEqual(
        Array.from((model.predict(x) as tf.Tensor).dataSync()),
      );
      expect(loaded.getUserDefinedMetadata()).toEqual({ kiln: { note: "round trip" } });
    } finally {
      await srv.close();
    }
  });
});

describe("golden: linear regression x = 1..10, y = 2x, plain gradient descent lr 0.1", () => {
  test.each(testBackends())("finds theta1 ~ 2 and theta0 ~ 0 (%s)", async (backend) => {
    const csv = ["x,y", ...Array.from({ length: 10 }, (_, i) => `${i + 1},${2 * (i + 1)}`)].join("\n");
    writeFileSync(path.join(dir, "line.csv"), csv);
    // No hidden layers: output = w * x' + b with x' = (x - mean) / std (scale: standard).
    // Full-batch SGD on MSE with lr 0.1 converges geometrically (factor 0.8 per step on standardised x).
    const spec = parseRunSpec({
      runId: `golden-${backend}`,
      dataset: { uri: path.join(dir, "line.csv"), target: "y" },
      task: "regression",
      preprocess: { scale: "standard" },
      split: { test: 0, validation: 0, seed: 1 },
      model: { layers: [], init: "randomNormal" },
      training: {
        loss: "mse",
        optimizer: { name: "sgd", learningRate: 0.1 },
        epochs: 150,
        batchSize: 10,
        checkpointEvery: 50,
      },
      output: { uri: path.join(dir, "runs") },
    });
    const result = await runTraining(spec as RunSpec & { runId: string }, {
      env: { KILN_BACKEND: backend },
      log: () => undefined,
    });
    expect(result.status).toBe("succeeded");
    const runDir = path.join(dir, "runs", `golden-${backend}`);
    const pre = JSON.parse(readFileSync(path.join(runDir, "preprocess.json"), "utf8"));
    const { mean, std } = pre.features[0].scale;
    expect(mean).toBeCloseTo(5.5, 10);
    const weights = new Float32Array(new Uint8Array(readFileSync(path.join(runDir, "model", "weights.bin"))).buffer);
    const [w, b] = weights; // kernel [1,1] then bias [1]
    const theta1 = w / std;
    const theta0 = b - (w * mean) / std;
    expect(theta1).toBeCloseTo(2, 3);
    expect(theta0).toBeCloseTo(0, 2);
    const metrics = JSON.parse(readFileSync(path.join(runDir, "metrics.json"), "utf8"));
    expect(metrics.test).toBeNull();
    expect(metrics.history).toHaveLength(150);
    expect(metrics.history[149].loss).toBeLessThan(1e-6);
  });
});
