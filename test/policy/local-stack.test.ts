/** The local stack, evaluated for real under mocks, passes every rule of the pack. */
import { RULES } from "../../policy/rules";
import { buildPlan } from "../../scripts/plan/plan";
import { formatViolations } from "../../scripts/plan/policy";

test("the local stack (and the trainer chart it installs, rendered) passes the whole policy pack", async () => {
  const e = await buildPlan("local");
  expect(e.rendered.filter((r) => r.type === "kubernetes:batch/v1:CronJob")).toHaveLength(2);
  expect(e.resources.some((r) => r.type === "kubernetes:core/v1:Namespace")).toBe(true);
  expect(e.resources.some((r) => r.type.startsWith("aws:"))).toBe(false);
  const violations = e.policy.violations;
  expect(formatViolations(violations, "local", RULES.length)).toBe(
    `policy: stack local passes all ${RULES.length} rules\n`,
  );
}, 120_000);
