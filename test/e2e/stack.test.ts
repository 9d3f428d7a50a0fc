/**
 * Scenario 1: `pulumi up --stack local --yes` against the real local API server succeeds, a second
 * `up` changes nothing, and every object the program declares exists on the API server.
 */
import { ensureCluster, ensureObjectStore, prepareStack, pulumi } from "./harness";
import { readObject, stackObjects } from "./objects";

jest.setTimeout(20 * 60_000);

describe("pulumi up --stack local against the local cluster", () => {
  beforeAll(async () => {
    await ensureCluster();
    await prepareStack(await ensureObjectStore());
  });

  it("pulumi up --yes succeeds", async () => {
    const r = await pulumi(["up", "--yes", "--skip-preview", "--non-interactive"]);
    expect(r.stderr + r.stdout).not.toMatch(/error:/);
    expect(r.code).toBe(0);
  });

  it("a second pulumi up is a no-op (--expect-no-changes)", async () => {
    const r = await pulumi(["up", "--yes", "--expect-no-changes", "--non-interactive", "--diff"]);
    if (r.code !== 0) throw new Error(`second up had changes or failed:\n${r.stdout}\n${r.stderr}`);
    expect(r.stdout).not.toMatch(/\b\d+ to (create|update|delete|replace)\b/);
  });

  it("every object the program declares exists on the API server", async () => {
    const objects = await stackObjects();
    // Namespaces, queues, RBAC, the trainer CronJob from the chart, ... (a handful is not enough).
    expect(objects.length).toBeGreaterThan(10);
    expect(objects.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Namespace", "ClusterQueue", "LocalQueue", "ResourceFlavor", "CronJob", "PriorityClass"]),
    );
    const missing: string[] = [];
    for (const o of objects) {
      const live = await readObject(o);
      if (!live) missing.push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name} (${o.from})`);
      else expect(live.metadata?.deletionTimestamp).toBeUndefined();
    }
    expect(missing).toEqual([]);
  });
});
