/**
 * Scenario 4: Kueue quotas. Kueue runs as a local process with no webhooks registered (a webhook pod
 * cannot run on a simulated node, and an unanswered failurePolicy=Fail webhook would block every Job);
 * Kiln's Jobs are created suspended with the LocalQueue label, so Kueue's Job reconciler does the
 * admission: it unsuspends a Job only when its ClusterQueue has quota. Jobs beyond a team's GPU quota
 * wait suspended, and start when quota frees up.
 */
import {
  createJobFromTemplate,
  ensureStack,
  harnessConfig,
  jobPods,
  kubectl,
  kubectlJson,
  runName,
  waitFor,
  waitScheduled,
} from "./harness";

jest.setTimeout(10 * 60_000);

describe("Kueue GPU quota per team", () => {
  const created: [string, string][] = [];
  beforeAll(async () => {
    await ensureStack();
  });
  afterAll(async () => {
    for (const [ns, name] of created)
      await kubectl(["delete", "job", name, "-n", ns, "--ignore-not-found", "--wait=false"]);
  });

  it("Jobs beyond the team's GPU quota wait suspended and start when quota frees up", async () => {
    // The team with the smallest quota; jobs of quota/2 GPUs: two fit, the third must wait.
    const team = [...harnessConfig().teams].filter((t) => t.gpuQuota >= 2).sort((a, b) => a.gpuQuota - b.gpuQuota)[0];
    if (!team) throw new Error("no team with gpuQuota >= 2 in the harness stack config");
    const gpus = Math.floor(team.gpuQuota / 2);
    const names = [0, 1, 2].map((i) => runName(`e2e-quota${i}`));
    for (const name of names) {
      created.push([team.namespace, name]);
      // Long simulated run so the first two hold their quota until the test frees it.
      await createJobFromTemplate(team.namespace, name, { gpus, runSeconds: 3600 });
    }

    const suspended = async (name: string) =>
      (await kubectlJson(["get", "job", name, "-n", team.namespace])).spec.suspend === true;
    const running = await waitFor("two of the three Jobs to be admitted", 120_000, async () => {
      const states = await Promise.all(names.map(async (n) => ({ n, s: await suspended(n) })));
      const admitted = states.filter((x) => !x.s).map((x) => x.n);
      return admitted.length >= 2 ? admitted : undefined;
    });
    expect(running).toHaveLength(2);
    const waiting = names.find((n) => !running.includes(n))!;
    for (const n of running) await waitScheduled(team.namespace, n);

    // It keeps waiting: still suspended, no pod, and its Workload is not admitted (quota).
    await new Promise((r) => setTimeout(r, 10_000));
    expect(await suspended(waiting)).toBe(true);
    expect(await jobPods(team.namespace, waiting)).toEqual([]);
    const wl = await kubectlJson<{ items: any[] }>(["get", "workloads.kueue.x-k8s.io", "-n", team.namespace]);
    const mine = wl.items.find((w) => (w.metadata.ownerReferences ?? []).some((o: any) => o.name === waiting));
    expect(mine).toBeDefined();
    const admittedCond = (mine.status?.conditions ?? []).find((c: any) => c.type === "QuotaReserved");
    expect(admittedCond?.status ?? "False").toBe("False");

    // Free quota: cancel one running Job; the waiting one is admitted and scheduled.
    await kubectl(["delete", "job", running[0], "-n", team.namespace, "--wait=false"]);
    await waitFor(`Job ${waiting} to be admitted after quota freed`, 180_000, async () => !(await suspended(waiting)));
    const [pod] = await waitScheduled(team.namespace, waiting);
    expect(pod.node).toBeTruthy();
  });
});
