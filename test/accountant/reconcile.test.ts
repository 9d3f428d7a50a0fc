import { USAGE_RECORD_LABEL } from "../../contract/accounting/keys";
import { periodOf } from "../../contract/accounting/budget";
import { recordOf } from "../../contract/accounting/record";
import { reconcile } from "../../accountant/src/reconcile";
import { parseSettings, type Settings } from "../../contract/accounting/settings";
import { FakeCluster } from "./fake-cluster";
import { job, pod, settingsFor } from "./fixtures";

const settings = (budget?: Settings["teams"][number]["budget"]): Settings => settingsFor({ budget });

describe("the accountant's pass", () => {
  test("a finished run gets a record that outlives its Job", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a")];
    c.pods = [
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T12:00:00Z",
      }),
    ];
    await reconcile(c, settings(), new Date("2026-12-01T12:01:00Z"));
    const [cm] = await c.listRecords();
    const r = recordOf(cm);
    if (r instanceof Error) throw r;
    expect(r).toMatchObject({ job: "run-a", uid: "job-a", team: "research" });
    expect(r.usage.gpuHours).toBe(2);
    // The Job and its pods are deleted (TTL): the record stays, and is marked final.
    c.jobs = [];
    c.pods = [];
    await reconcile(c, settings(), new Date("2026-12-01T13:00:00Z"));
    const after = recordOf((await c.listRecords())[0]) as Exclude<ReturnType<typeof recordOf>, Error>;
    expect(after).toMatchObject({ final: true });
    expect(after.usage.gpuHours).toBe(2);
  });

  test("a Job none of whose pods was ever scheduled gets no record until one is; deleted so, it leaves none", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a"), job("run-b", "job-b")];
    c.pods = [pod({ name: "run-a-x", jobUid: "job-a", gpus: 1 })];
    const [first] = await reconcile(c, settings(), new Date("2026-12-01T12:00:00Z"));
    expect(first.recordsWritten).toBe(0);
    expect(await c.listRecords()).toEqual([]);
    c.pods = [pod({ name: "run-a-x", jobUid: "job-a", node: "g5", gpus: 1, scheduled: "2026-12-01T12:00:10Z" })];
    await reconcile(c, settings(), new Date("2026-12-01T12:00:30Z"));
    expect((await c.listRecords()).map((cm) => (recordOf(cm) as { uid: string }).uid)).toEqual(["job-a"]);
    // run-b is deleted while queued: nothing to record, and its going is forgotten.
    const b = c.jobs[1];
    c.jobs = [c.jobs[0]];
    c.goneJobs = [{ obj: b, goneAt: "2026-12-01T12:00:40Z" }];
    const [after] = await reconcile(c, settings(), new Date("2026-12-01T12:01:00Z"));
    expect(after.recordsWritten).toBe(0);
    expect(c.goneJobs).toEqual([]);
    expect((await c.listRecords()).map((cm) => (recordOf(cm) as { uid: string }).uid)).toEqual(["job-a"]);
  });

  test("an unchanged finished run is not rewritten on every pass", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a")];
    c.pods = [
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T12:00:00Z",
      }),
    ];
    await reconcile(c, settings(), new Date("2026-12-01T12:01:00Z"));
    const writes = c.writes;
    await reconcile(c, settings(), new Date("2026-12-01T12:05:00Z"));
    expect(c.writes).toBe(writes);
  });

  test("a team at its budget is held, says why, and the next month releases it", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a")];
    c.pods = [
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T12:00:00Z",
      }),
    ];
    const [o] = await reconcile(c, settings({ unit: "gpuHours", limit: 1.5 }), new Date("2026-12-01T12:01:00Z"));
    expect(o.queue).toBe("held");
    expect(c.queues.get("kiln-research")).toMatchObject({ stopPolicy: "Hold" });
    const status = c.budget();
    expect(status).toMatchObject({
      team: "research",
      unit: "gpuHours",
      limit: 1.5,
      spent: 2,
      period: "2026-12",
      held: true,
    });
    expect(status.reason).toBe(
      "team research has used 2.00 GPU-hours of its 1.50 GPU-hours budget for 2026-12: new runs wait until 2027-01-01 (running runs finish)",
    );
    // Next month: December's spend no longer counts.
    const [next] = await reconcile(c, settings({ unit: "gpuHours", limit: 1.5 }), new Date("2027-01-01T00:00:30Z"));
    expect(next.queue).toBe("released");
    expect(c.queues.get("kiln-research")).toEqual({ stopPolicy: "None" });
    expect(c.budget()).toMatchObject({ period: "2027-01", spent: 0, held: false, reason: null });
  });

  test("a dollar budget counts the priced spend", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a")];
    c.pods = [
      pod({
        name: "run-a-x",
        jobUid: "job-a",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T20:00:00Z",
      }),
    ];
    const [o] = await reconcile(c, settings({ unit: "usd", limit: 5 }), new Date("2026-12-01T21:00:00Z"));
    // 10 h of g5.xlarge on demand: $10.06.
    expect(o.budget).toMatchObject({ unit: "usd", held: true });
    expect(o.budget!.spent).toBeCloseTo(10.06, 6);
  });

  test("an operator's own hold is never released by the accountant", async () => {
    const c = new FakeCluster();
    c.queues.set("kiln-research", { stopPolicy: "Hold" });
    const [o] = await reconcile(c, settings({ unit: "gpuHours", limit: 100 }), new Date("2026-12-01T12:00:00Z"));
    expect(o.queue).toBeUndefined();
    expect(c.queues.get("kiln-research")).toEqual({ stopPolicy: "Hold" });
  });

  test("a damaged record is reported by name and does not stop the pass", async () => {
    const c = new FakeCluster();
    c.configMaps.set("kiln-usage-x", {
      metadata: { name: "kiln-usage-x", namespace: "kiln-research", labels: { [USAGE_RECORD_LABEL]: "run" } },
      data: { "usage.json": "{" },
    });
    c.jobs = [job("run-a", "job-a")];
    c.pods = [pod({ name: "run-a-x", jobUid: "job-a", node: "g5", gpus: 1, scheduled: "2026-12-01T11:00:00Z" })];
    const [o] = await reconcile(c, settings(), new Date("2026-12-01T12:00:00Z"));
    expect(o.problems).toEqual([
      expect.stringMatching(/^usage record kiln-research\/kiln-usage-x: usage.json is not JSON/),
    ]);
    expect(o.recordsWritten).toBe(1);
  });

  test("months are calendar months in UTC", () => {
    expect(periodOf(new Date("2026-12-31T23:59:59Z"))).toEqual({
      name: "2026-12",
      from: new Date("2026-12-01T00:00:00Z"),
      to: new Date("2027-01-01T00:00:00Z"),
    });
  });

  test("bad settings are refused naming each field", () => {
    expect(() =>
      parseSettings(
        '{"region":"","teams":[{"name":"r","namespace":"n","clusterQueue":"q","budget":{"unit":"eur","limit":-1}}]}',
        "settings.json",
      ),
    ).toThrow(/settings.json: region: .*; teams.0.budget.unit: .*; teams.0.budget.limit: /);
  });

  test("a team without Kueue has no clusterQueue (its usage is still recorded); a budget needs one", () => {
    expect(parseSettings('{"region":"r","teams":[{"name":"r","namespace":"n"}]}', "s").teams).toEqual([
      { name: "r", namespace: "n" },
    ]);
    expect(() =>
      parseSettings('{"region":"r","teams":[{"name":"r","namespace":"n","budget":{"unit":"usd","limit":1}}]}', "s"),
    ).toThrow("s: teams.0.budget: a budget needs the team's clusterQueue");
  });
});

describe("runs with your own image (JobSets)", () => {
  const child = (name: string, uid: string, attempt: number) => {
    const j = job(name, uid);
    j.metadata!.labels = {
      ...(j.metadata!.labels ?? {}),
      "kiln.dev/run": "llm-7",
      "jobset.sigs.k8s.io/jobset-name": "llm-7",
      "jobset.sigs.k8s.io/jobset-uid": "js-1",
      "jobset.sigs.k8s.io/restart-attempt": String(attempt),
    };
    return j;
  };

  test("each restart attempt's child Job gets its own record, labelled with the run and the JobSet's UID", async () => {
    const c = new FakeCluster();
    // Attempt 0 ran two nodes for an hour, then the group restarted: attempt 1's Job has a new UID.
    c.jobs = [child("llm-7-node-0", "job-0", 0)];
    c.pods = ["a", "b"].map((n) =>
      pod({
        name: `llm-7-node-0-${n}`,
        jobUid: "job-0",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T10:00:00Z",
        finished: "2026-12-01T11:00:00Z",
        phase: "Failed",
      }),
    );
    await reconcile(c, settings(), new Date("2026-12-01T11:01:00Z"));
    c.jobs = [child("llm-7-node-0", "job-1", 1)];
    c.pods = ["c", "d"].map((n) =>
      pod({
        name: `llm-7-node-0-${n}`,
        jobUid: "job-1",
        node: "g5",
        gpus: 1,
        scheduled: "2026-12-01T11:02:00Z",
        finished: "2026-12-01T11:32:00Z",
      }),
    );
    await reconcile(c, settings(), new Date("2026-12-01T11:33:00Z"));
    const cms = await c.listRecords();
    expect(cms).toHaveLength(2);
    for (const cm of cms)
      expect(cm.metadata!.labels).toMatchObject({ "kiln.dev/run": "llm-7", "kiln.dev/run-uid": "js-1" });
    const recs = cms.map((cm) => recordOf(cm) as Exclude<ReturnType<typeof recordOf>, Error>);
    expect(recs.map((r) => [r.job, r.uid, r.run, r.runUid, r.usage.gpuHours]).sort()).toEqual([
      ["llm-7-node-0", "job-0", "llm-7", "js-1", 2],
      ["llm-7-node-0", "job-1", "llm-7", "js-1", 1],
    ]);
  });

  test("a trainer Job is its own run: run = its kiln.dev/run (else its name), run UID = its UID", async () => {
    const c = new FakeCluster();
    c.jobs = [job("run-a", "job-a")];
    c.pods = [pod({ name: "run-a-x", jobUid: "job-a", node: "g5", gpus: 1, scheduled: "2026-12-01T12:00:00Z" })];
    await reconcile(c, settings(), new Date("2026-12-01T12:01:00Z"));
    const r = recordOf((await c.listRecords())[0]) as Exclude<ReturnType<typeof recordOf>, Error>;
    expect([r.run, r.runUid]).toEqual([c.jobs[0].metadata!.labels?.["kiln.dev/run"] ?? "run-a", "job-a"]);
  });
});
