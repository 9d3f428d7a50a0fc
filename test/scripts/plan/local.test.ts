/** `npm run plan -- --stack local`: writes plan.json + plan.md; secrets redacted; no cloud bill. */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { main } from "../../../scripts/plan/cli";
import { parsePlan } from "../../../scripts/plan/plan";

test("the local stack plans offline: files written, secrets redacted, pools from config, no $/h", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kiln-plan-local-"));
  const out = path.join(dir, "plan.json");
  jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  expect(await main(["plan", "--stack", "local", "--out", out, "--empty-base"])).toBe(0);
  const text = fs.readFileSync(out, "utf8");
  const plan = parsePlan(text, out);
  expect(plan.stack).toBe("local");
  expect(plan.summary.gpuPools.map((p) => [p.name, p.maxGpus, p.source])).toEqual([
    ["a10g", 16, "config"],
    ["h100", 8, "config"],
  ]);
  expect(plan.summary.idlePerHour).toBeNull();
  expect(plan.policy.violations).toEqual([]);
  // Credentials Secrets exist, but their values are redacted.
  const secrets = plan.resources.filter((r) => r.type === "kubernetes:core/v1:Secret");
  expect(secrets.length).toBeGreaterThan(0);
  for (const s of secrets) expect(JSON.stringify(s.inputs.stringData ?? s.inputs.data)).toContain("[secret]");
  expect(text).not.toContain("mock-password");
  const md = fs.readFileSync(path.join(dir, "plan.md"), "utf8");
  expect(md).toContain("## Kiln plan: stack `local`");
  expect(md).toContain("has no cloud bill");
  // Both team namespaces get the trainer chart, rendered and checked (CronJob, ConfigMap, ServiceAccount each).
  expect(plan.renderProblems).toEqual([]);
  expect(
    plan.rendered
      .filter((r) => r.type === "kubernetes:batch/v1:CronJob")
      .map((r) => (r.inputs.metadata as any).namespace)
      .sort(),
  ).toEqual(["kiln-research", "kiln-vision"]);
  expect(md).toContain(
    `**${plan.resources.filter((r) => r.custom).length + plan.rendered.length} to add · 0 to change · 0 to remove**`,
  );
  expect(md).toContain("### Chart output checked");
}, 120_000);
