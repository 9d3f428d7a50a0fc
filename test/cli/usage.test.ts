import { BUDGET_STATUS_KEY, BUDGET_STATUS_NAME } from "../../contract/accounting/keys";
import { INSTANCE_PRICES } from "../../contract/catalog/prices";
import { recordConfigMap, type UsageRecord } from "../../contract/accounting/record";
import { usageOf, type PodSpan } from "../../contract/accounting/usage";
import { budgetStatus, periodOf } from "../../contract/accounting/budget";
import { parseSince } from "../../cli/src/usage";
import { FakeKube, FIXED_NOW, RUN_SPEC_YAML, runCli, tempFile } from "./support";

const specFile = tempFile("usage-run.yaml", RUN_SPEC_YAML);

function span(name: string, gpus: number, start: string, end: string | null, instanceType = "p5.48xlarge"): PodSpan {
  return {
    uid: `uid-${name}`,
    name,
    node: "kiln-h100-0",
    pool: "h100",
    instanceType,
    capacityType: "on-demand",
    gpus,
    start,
    end,
    simulated: true,
  };
}

function record(
  job: string,
  uid: string,
  team: string,
  namespace: string,
  spans: PodSpan[],
  final = false,
): UsageRecord {
  return {
    version: 1,
    job,
    uid,
    namespace,
    team,
    region: "us-east-1",
    created: spans[0]?.start ?? FIXED_NOW.toISOString(),
    spans,
    updated: FIXED_NOW.toISOString(),
    usage: usageOf(spans, FIXED_NOW, { region: "us-east-1" }),
    final,
  };
}

function cluster(): FakeKube {
  const k = new FakeKube();
  k.installChart("kiln-research", { queue: "training", gpus: 8 });
  k.installChart("kiln-vision", { queue: "training", gpus: 1 });
  const put = (r: UsageRecord) =>
    k.configMaps.set(`${r.namespace}/${recordConfigMap(r).metadata!.name}`, recordConfigMap(r));
  // research: an 8-GPU run of 1 h, and a failed sweep's two indices of 30 min each (1 GPU).
  put(
    record(
      "big",
      "uid-1",
      "research",
      "kiln-research",
      [span("big-a", 8, "2026-11-28T09:00:00Z", "2026-11-28T10:00:00Z")],
      true,
    ),
  );
  put(
    record("sweep", "uid-2", "research", "kiln-research", [
      span("sweep-0", 1, "2026-11-28T10:00:00Z", "2026-11-28T10:30:00Z"),
      span("sweep-1", 1, "2026-11-28T10:00:00Z", "2026-11-28T10:30:00Z"),
    ]),
  );
  // vision: a run still holding one GPU since 11:00 (FIXED_NOW is 12:00), and one from last month.
  put(record("live", "uid-3", "vision", "kiln-vision", [span("live-a", 1, "2026-11-28T11:00:00Z", null)]));
  put(
    record(
      "old",
      "uid-4",
      "vision",
      "kiln-vision",
      [span("old-a", 1, "2026-10-01T00:00:00Z", "2026-10-01T05:00:00Z")],
      true,
    ),
  );
  return k;
}

const p5PerGpuHour = INSTANCE_PRICES["p5.48xlarge"].onDemand / 8;

describe("kubectl kiln usage", () => {
  test("sums GPU-hours and dollars per team for the month, finished, failed and running runs alike", async () => {
    const r = await runCli(["usage", "-o", "json"], { api: cluster() });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.since).toBe("2026-11-01T00:00:00.000Z");
    const [research, vision] = out.teams;
    expect(research).toMatchObject({ team: "research", namespace: "kiln-research", runs: 2, gpuHours: 9 });
    expect(research.usd).toBeCloseTo(9 * p5PerGpuHour, 6);
    expect(vision).toMatchObject({ team: "vision", runs: 1, gpuHours: 1 });
  });

  test("--since widens the window; --team narrows it", async () => {
    const r = await runCli(["usage", "--since", "90d", "--team", "vision", "-o", "json"], { api: cluster() });
    expect(JSON.parse(r.stdout).teams).toEqual([expect.objectContaining({ team: "vision", runs: 2, gpuHours: 6 })]);
  });

  test("the table shows the budget, and a held team's reason", async () => {
    const k = cluster();
    const status = budgetStatus("research", { unit: "gpuHours", limit: 8 }, periodOf(FIXED_NOW), {
      gpuHours: 9,
      usd: 1,
      kWh: 1,
      co2eKg: 1,
    });
    k.configMaps.set(`kiln-research/${BUDGET_STATUS_NAME}`, {
      metadata: { name: BUDGET_STATUS_NAME, namespace: "kiln-research" },
      data: { [BUDGET_STATUS_KEY]: JSON.stringify(status) },
    });
    const r = await runCli(["usage"], { api: k });
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^TEAM +NAMESPACE +RUNS +GPU-HOURS +COST +ENERGY-KWH +CO2E-KG +BUDGET$/);
    expect(lines[1]).toMatch(
      /^research +kiln-research +2 +9\.00 +\$\d+\.\d\d .* HELD 9\.00 GPU-hours of 8\.00 GPU-hours \(2026-11\)$/,
    );
    expect(r.stderr).toBe(
      "note: team research has used 9.00 GPU-hours of its 8.00 GPU-hours budget for 2026-11: new runs wait until 2026-12-01 (running runs finish)\n",
    );
  });

  test("a bad --since is refused naming the flag", async () => {
    const r = await runCli(["usage", "--since", "a week"], { api: cluster() });
    expect(r).toMatchObject({
      code: 2,
      stderr: 'error: --since "a week" must be a number with m, h or d (90m, 24h, 7d), or month\n',
    });
    expect(parseSince("7d", FIXED_NOW)).toEqual(new Date("2026-11-21T12:00:00Z"));
  });

  test("ls shows each run's GPU-hours and cost, and status its figures and basis", async () => {
    const k = cluster();
    await runCli(["submit", "--spec", specFile, "-n", "kiln-research", "--name", "big"], { api: k });
    const job = k.jobs.get("kiln-research/big")!;
    job.metadata!.uid = "uid-1";
    const ls = await runCli(["ls", "-n", "kiln-research", "--no-metrics"], { api: k });
    expect(ls.stdout.split("\n")[1]).toMatch(/^big +\S+ +\S+ +8 +training +8\.00 +\$\d+\.\d\d +-$/);
    const status = await runCli(["status", "big", "-n", "kiln-research"], { api: k });
    expect(status.stdout).toContain("GPU-hours: 8.00 (pool h100, p5.48xlarge, on-demand)\n");
    expect(status.stdout).toContain(`Cost:      $${(8 * p5PerGpuHour).toFixed(2)}\n`);
    expect(status.stdout).toMatch(/Basis: +simulated pod times \(KWOK nodes\); full GPU board power/);
    const json = JSON.parse((await runCli(["status", "big", "-n", "kiln-research", "-o", "json"], { api: k })).stdout);
    expect(json.usage).toMatchObject({ gpuHours: 8, pool: "h100" });
  });
});
