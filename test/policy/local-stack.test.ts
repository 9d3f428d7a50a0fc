/** The local stack, evaluated for real under mocks, passes every rule of the pack. */
import { RULES } from "../../policy/rules";
import { evaluateStack } from "../../scripts/plan/evaluate";
import { checkPlan, formatViolations } from "../../scripts/plan/policy";

test("the local stack passes the whole policy pack", async () => {
  const e = await evaluateStack("local");
  expect(e.resources.some((r) => r.type === "kubernetes:core/v1:Namespace")).toBe(true);
  expect(e.resources.some((r) => r.type.startsWith("aws:"))).toBe(false);
  const violations = checkPlan(e.resources);
  expect(formatViolations(violations, "local", RULES.length)).toBe(`policy: stack local passes all ${RULES.length} rules\n`);
}, 120_000);
