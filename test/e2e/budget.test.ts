/**
 * Run accounting and team budgets on the local cluster: kiln-accountant (deployed by the stack, running
 * on the real node) records a simulated GPU run's pod times; `kubectl kiln ls/usage` show its GPU-hours
 * and dollars priced as its node's instance type; a budget set in the stack holds the team's
 * ClusterQueue (new runs wait, with the reason shown) and raising it releases them.
 */
import { INSTANCE_PRICES } from "../../contract/catalog/prices";
import {
  createJobFromTemplate,
  ensureStack,
  jobPods,
  kiln,
  kubectl,
  kubectlJson,
  must,
  pulumi,
  runName,
  waitFor,
} from "./harness";

jest.setTimeout(20 * 60_000);

const NS = "kiln-vision";
const TEAM_INDEX = 1; // kiln:teams[1] is vision in Pulumi.local.yaml
const COMMITTED_BUDGET = 500;

async function setBudget(gpuHours: number): Promise<void> {
  await must("bash", [
    "scripts/local/pulumi.sh",
    "config",
    "set",
    "--path",
    `kiln:teams[${TEAM_INDEX}].budget.gpuHours`,
    String(gpuHours),
    "--type",
    "float",
  ]);
  const up = await pulumi(["up", "--yes", "--skip-preview", "--non-interactive"], { timeoutMs: 900_000 });
  if (up.code !== 0)
    throw new Error(`pulumi up (budget ${gpuHours}) failed:\n${up.stdout.slice(-3000)}${up.stderr.slice(-2000)}`);
}

const stopPolicy = async () =>
  (await kubectlJson(["get", "clusterqueues.kueue.x-k8s.io", "kiln-vision"])).spec?.stopPolicy ?? "None";
const suspended = async (name: string) => (await kubectlJson(["get", "job", name, "-n", NS])).spec.suspend === true;
const succeeded = async (name: string) =>
  ((await kubectlJson(["get", "job", name, "-n", NS])).status?.succeeded ?? 0) > 0;
const lsJson = async () => {
  const r = await kiln(["ls", "-n", NS, "--no-metrics", "-o", "json"]);
  if (r.code !== 0) throw new Error(`kubectl kiln ls failed: ${r.stderr}`);
  return JSON.parse(r.stdout).runs as any[];
};

describe("run accounting and team budgets", () => {
  const created: string[] = [];
  let budgetChanged = false;

  beforeAll(async () => {
    await ensureStack();
    const rollout = await kubectl(
      ["rollout", "status", "deployment/kiln-accountant", "-n", "kiln-accountant", "--timeout=300s"],
      { timeoutMs: 320_000 },
    );
    if (rollout.code !== 0) {
      const pods = await kubectl(["get", "pods", "-n", "kiln-accountant", "-o", "wide"]);
      throw new Error(`kiln-accountant is not running:\n${rollout.stderr}\n${pods.stdout}`);
    }
  });
  afterAll(async () => {
    if (budgetChanged) await setBudget(COMMITTED_BUDGET);
    for (const n of created) await kubectl(["delete", "job", n, "-n", NS, "--ignore-not-found", "--wait=false"]);
  });

  it("ls and usage show a finished run's GPU-hours and dollars, priced as its node's instance type", async () => {
    const name = runName("e2e-acct");
    created.push(name);
    await createJobFromTemplate(NS, name, { gpus: 8, runSeconds: 20 });
    await waitFor(`Job ${name} to succeed`, 300_000, () => succeeded(name), 2000);
    // The pod's own times: scheduled -> its container's end, as the accountant counts them.
    const [podName] = (await jobPods(NS, name)).map((p) => p.name);
    const pod = await kubectlJson(["get", "pod", podName, "-n", NS]);
    const scheduled = Date.parse(pod.status.conditions.find((c: any) => c.type === "PodScheduled").lastTransitionTime);
    const finished = Date.parse(pod.status.containerStatuses[0].state.terminated.finishedAt);
    const expectedHours = (8 * (finished - scheduled)) / 3_600_000;
    expect(expectedHours).toBeGreaterThan(0);

    // The record is written while the pod runs (counted until now), then closed at the pod's end.
    let last: unknown;
    const run = await waitFor(
      `the accountant's record of the run to close at the pod's end (last: ${JSON.stringify(last)})`,
      120_000,
      async () => {
        const r = (await lsJson()).find((x) => x.name === name);
        last = r?.usage;
        return r?.usage && Math.abs(r.usage.gpuHours - expectedHours) < 1e-6 ? r : undefined;
      },
      2000,
    );
    expect(run.usage.gpuHours).toBeCloseTo(expectedHours, 6);
    expect(run.usage).toMatchObject({ pool: "a10g", instanceType: "g5.48xlarge", capacityType: "on-demand" });
    expect(run.usage.usd).toBeCloseTo(expectedHours * (INSTANCE_PRICES["g5.48xlarge"].onDemand / 8), 6);
    expect(run.usage.basis).toContain("simulated pod times (KWOK nodes)");

    const table = await kiln(["ls", "-n", NS, "--no-metrics"]);
    const [header, ...rows] = table.stdout.trim().split("\n");
    expect(header).toMatch(/GPU-HOURS +COST/);
    const row = rows.find((l) => l.startsWith(name))!;
    expect(row).toMatch(/ \$\d+\.\d\d /);

    const usage = JSON.parse((await kiln(["usage", "--team", "vision", "-o", "json"])).stdout);
    expect(usage.teams).toHaveLength(1);
    expect(usage.teams[0].gpuHours).toBeGreaterThanOrEqual(run.usage.gpuHours - 1e-9);
    expect(usage.teams[0].budget).toMatchObject({ unit: "gpuHours", limit: COMMITTED_BUDGET, held: false });
  });

  it("a budget set in the stack holds the team's queue: new runs wait with the reason shown; raising it releases them", async () => {
    budgetChanged = true;
    await setBudget(0.001);
    await waitFor(
      "the accountant to hold ClusterQueue kiln-vision",
      180_000,
      async () => (await stopPolicy()) === "Hold",
      2000,
    );

    const name = runName("e2e-held");
    created.push(name);
    await createJobFromTemplate(NS, name, { gpus: 1, runSeconds: 5 });
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await suspended(name)).toBe(true);
    expect(await jobPods(NS, name)).toEqual([]);
    const ls = await kiln(["ls", "-n", NS, "--no-metrics"]);
    expect(ls.stdout.split("\n").find((l) => l.startsWith(name))).toMatch(/Queued \(budget\)/);
    expect(ls.stderr).toMatch(
      /^note: team vision has used [\d.]+ GPU-hours of its 0\.0010 GPU-hours budget for \d{4}-\d\d: new runs wait until \d{4}-\d\d-01 \(running runs finish\)$/m,
    );
    const status = await kiln(["status", name, "-n", NS]);
    expect(status.stdout).toMatch(/Waiting: +team vision has used/);

    await setBudget(COMMITTED_BUDGET);
    budgetChanged = false;
    await waitFor(
      "the accountant to release ClusterQueue kiln-vision",
      180_000,
      async () => (await stopPolicy()) === "None",
      2000,
    );
    await waitFor(`the held Job ${name} to be admitted and succeed`, 300_000, () => succeeded(name), 2000);
  });
});
