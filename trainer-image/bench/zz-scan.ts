import { resolveShards } from "../src/shards";
import { scanDataset } from "../src/stats";
import { encodedChunks } from "../src/chunks";
import { parseRunSpec } from "../src/spec";
(async () => {
  const spec = parseRunSpec({ dataset: { uri: "/tmp/pb/1m.csv", target: "y", drop: ["id"] }, task: "regression", output: { uri: "/tmp/pb/out" } });
  const shards = await resolveShards(spec.dataset.uri, { deadlineSeconds: 5, sdkAttempts: 1 });
  let t0 = Date.now();
  const scan = await scanDataset(spec, shards);
  console.log("pass 1", (Date.now() - t0) / 1000, "s", scan.rowsRead);
  t0 = Date.now();
  let n = 0;
  for await (const c of encodedChunks({ shards: shards.map((s) => s.uri), columns: scan.columns, pre: scan.pre, split: spec.split, part: "train", chunkRows: 4096, startShard: 0, skip: 0, retry: { deadlineSeconds: 5, sdkAttempts: 1 }, env: {} }, shards)) n += c.rows;
  console.log("pass 2 (train rows, main thread)", (Date.now() - t0) / 1000, "s", n);
})();
