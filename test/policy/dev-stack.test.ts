/** The dev stack (aws), evaluated for real under mocks, passes every rule of the pack. */
import { RULES } from "../../policy/rules";
import { buildPlan, type Plan } from "../../scripts/plan/plan";
import { formatViolations, subjectsOf } from "../../scripts/plan/policy";

let e: Plan;
beforeAll(async () => {
  e = await buildPlan("dev");
}, 120_000);

test("the dev stack (and the trainer chart it installs, rendered) passes the whole policy pack", () => {
  expect(e.resources.filter((r) => r.type.startsWith("aws:")).length).toBeGreaterThan(50);
  expect(e.rendered.some((r) => r.type === "kubernetes:batch/v1:CronJob")).toBe(true);
  const violations = e.policy.violations;
  expect(formatViolations(violations, "dev", RULES.length)).toBe(
    `policy: stack dev passes all ${RULES.length} rules\n`,
  );
});

test("every resource rule matches something the dev stack creates (rules follow the real resource shapes)", () => {
  const subjects = subjectsOf(e.resources.filter((r) => r.custom));
  const idle = RULES.filter((r) => r.kind === "resource" && !subjects.some((s) => r.applies(s.type, s.props))).map(
    (r) => r.name,
  );
  expect(idle).toEqual([]);
});
