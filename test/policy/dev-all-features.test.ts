/**
 * The dev stack with every optional AWS feature on (public endpoint allow-list, admins, NAT per AZ,
 * FSx, the GPU Operator) still passes the whole pack: the rules hold for every shape the program
 * can take, not just the default one.
 */
import { RULES } from "../../policy/rules";
import { evaluateStack } from "../../scripts/plan/evaluate";
import { checkPlan, formatViolations } from "../../scripts/plan/policy";

const ALL_FEATURES = {
  "kiln:azCount": 2,
  "kiln:natGateways": "perAz",
  "kiln:publicAccessCidrs": ["203.0.113.0/24"],
  "kiln:adminRoleArns": ["arn:aws:iam::123456789012:role/platform/Admin"],
  "kiln:storage": {
    forceDestroy: true,
    fsx: { enabled: true, deploymentType: "PERSISTENT_2", storageCapacityGiB: 2400 },
  },
  "kiln:gpuServices": "operator",
};

test("dev with every optional feature passes the whole policy pack", async () => {
  const e = await evaluateStack("dev", ALL_FEATURES);
  expect(e.resources.some((r) => r.type === "aws:fsx/lustreFileSystem:LustreFileSystem")).toBe(true);
  expect(e.resources.filter((r) => r.type === "aws:ec2/natGateway:NatGateway")).toHaveLength(2);
  expect(formatViolations(checkPlan(e.resources), "dev", RULES.length)).toBe(
    `policy: stack dev passes all ${RULES.length} rules\n`,
  );
}, 120_000);
