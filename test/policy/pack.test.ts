/**
 * The CrossGuard pack runs the same rule functions: feed its validateResource / validateStack
 * callbacks CrossGuard-shaped arguments and compare with the offline evaluator.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import YAML from "yaml";
import type {
  PolicyResource,
  ResourceValidationArgs,
  ResourceValidationPolicy,
  StackValidationArgs,
  StackValidationPolicy,
} from "@pulumi/policy";
import { PACK_NAME, POLICIES } from "../../policy/pack";
import { evaluate, type PolicySubject, RULES } from "../../policy/rules";
import { BREAKS, compliantWorld } from "./fixtures";

const POLICY_DIR = path.resolve(__dirname, "../../policy");

/** What CrossGuard hands a pack, built from rule subjects. */
function crossGuard(subjects: PolicySubject[]): { reported: { policy: string; message: string; urn?: string }[] } {
  const reported: { policy: string; message: string; urn?: string }[] = [];
  const byUrn = new Map<string, PolicyResource>();
  const resources: PolicyResource[] = subjects.map((s) => {
    const r = {
      type: s.type,
      props: s.props,
      urn: s.urn,
      name: s.name,
      opts: {} as any,
      provider: s.provider ? { type: "pulumi:providers:aws", name: "p", ...s.provider } : undefined,
      dependencies: [] as PolicyResource[],
      propertyDependencies: {},
    } as unknown as PolicyResource;
    byUrn.set(s.urn, r);
    return r;
  });
  for (const [i, s] of subjects.entries())
    resources[i].dependencies = s.dependencies.map((d) => byUrn.get(d)!).filter(Boolean);
  for (const policy of POLICIES) {
    const report = (message: string, urn?: string) => reported.push({ policy: policy.name, message, urn });
    const rv = (policy as ResourceValidationPolicy).validateResource;
    if (rv) {
      for (const r of resources) {
        const args = {
          type: r.type,
          props: r.props,
          urn: r.urn,
          name: r.name,
          opts: r.opts,
          provider: r.provider,
        } as unknown as ResourceValidationArgs;
        for (const f of Array.isArray(rv) ? rv : [rv]) f(args, (m) => report(m, r.urn));
      }
    }
    const sv = (policy as StackValidationPolicy).validateStack;
    if (sv) sv({ resources } as unknown as StackValidationArgs, report);
  }
  return { reported };
}

describe("CrossGuard policy pack", () => {
  test("every rule is a mandatory policy of the pack, under its own name", () => {
    expect(POLICIES.map((p) => p.name)).toEqual(RULES.map((r) => r.name));
    for (const p of POLICIES) expect(p.enforcementLevel).toBe("mandatory");
    expect(PACK_NAME).toMatch(/^[a-zA-Z0-9._-]+$/);
  });

  test("the compliant fixture reports nothing through the pack", () => {
    expect(crossGuard(compliantWorld().subjects()).reported).toEqual([]);
  });

  test.each(Object.keys(BREAKS))("%s: the pack reports exactly what the offline evaluator reports", (name) => {
    const w = compliantWorld();
    BREAKS[name](w);
    const offline = evaluate(w.subjects()).map((v) => ({ policy: v.rule, message: v.message, urn: v.urn }));
    const pack = crossGuard(w.subjects()).reported;
    expect(pack).toEqual(offline);
    expect(pack.length).toBeGreaterThan(0);
  });

  test("index.ts serves exactly these policies as one mandatory pack", () => {
    const served: unknown[] = [];
    jest.isolateModules(() => {
      jest.doMock("@pulumi/policy", () => ({
        PolicyPack: jest.fn((name: string, args: unknown) => served.push({ name, args })),
      }));
      require("../../policy/index");
    });
    expect(served).toEqual([
      {
        name: PACK_NAME,
        args: expect.objectContaining({ enforcementLevel: "mandatory", policies: expect.any(Array) }),
      },
    ]);
    expect((served[0] as any).args.policies.map((p: { name: string }) => p.name)).toEqual(RULES.map((r) => r.name));
  });

  test("the pack directory is a nodejs policy pack with a versioned package.json", () => {
    const project = YAML.parse(fs.readFileSync(path.join(POLICY_DIR, "PulumiPolicy.yaml"), "utf8"));
    expect(project.runtime).toBe("nodejs");
    const pkg = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "package.json"), "utf8"));
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+$/);
    expect(Object.keys(pkg.dependencies)).toEqual(expect.arrayContaining(["@pulumi/policy", "@pulumi/pulumi"]));
    const root = JSON.parse(fs.readFileSync(path.join(POLICY_DIR, "..", "package.json"), "utf8"));
    expect(pkg.dependencies["@pulumi/pulumi"]).toBe(root.dependencies["@pulumi/pulumi"]);
  });
});

test("policy/README.md lists every rule with its description", () => {
  const readme = fs.readFileSync(path.join(POLICY_DIR, "README.md"), "utf8");
  for (const r of RULES) expect(readme).toContain(`| \`${r.name}\` | ${r.kind} | ${r.severity} | ${r.description} |`);
  expect(readme).toContain(`${RULES.length} mandatory rules`);
});
