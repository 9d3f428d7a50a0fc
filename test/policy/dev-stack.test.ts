/** The dev stack (aws), evaluated for real under mocks, passes every rule of the pack. */
import { RULES } from "../../policy/rules";
import { evaluateStack } from "../../scripts/plan/evaluate";
import { checkPlan, formatViolations } from "../../scripts/plan/policy";

test("the dev stack passes the whole policy pack", async () => {
  const e = await evaluateStack("dev");
  expect(e.resources.filter((r) => r.type.startsWith("aws:")).length).toBeGreaterThan(50);
  const violations = checkPlan(e.resources);
  expect(formatViolations(violations, "dev", RULES.length)).toBe(`policy: stack dev passes all ${RULES.length} rules\n`);
}, 120_000);
