/**
 * Every rule has a passing fixture (the compliant world) and a violating one (one mutation) that
 * produces exactly that rule's violations, evaluated through the whole pack.
 */
import { evaluate, RULES } from "../../policy/rules";
import { BREAKS, compliantWorld } from "./fixtures";

describe("policy pack rules", () => {
  test("the pack has at least 30 rules, all with unique names", () => {
    expect(RULES.length).toBeGreaterThanOrEqual(30);
    expect(new Set(RULES.map((r) => r.name)).size).toBe(RULES.length);
  });

  test("every rule has a violating fixture", () => {
    expect(Object.keys(BREAKS).sort()).toEqual(RULES.map((r) => r.name).sort());
  });

  test("the compliant fixture passes every rule", () => {
    expect(evaluate(compliantWorld().subjects())).toEqual([]);
  });

  test("every resource rule applies to something in the compliant fixture (so passing means something)", () => {
    const subjects = compliantWorld().subjects();
    const idle = RULES.filter((r) => r.kind === "resource" && !subjects.some((s) => r.applies(s.type, s.props))).map(
      (r) => r.name,
    );
    expect(idle).toEqual([]);
  });

  test.each(RULES.map((r) => r.name))("%s: its violating fixture fails that rule and no other", (name) => {
    const w = compliantWorld();
    BREAKS[name](w);
    const violations = evaluate(w.subjects());
    expect(violations.length).toBeGreaterThan(0);
    expect([...new Set(violations.map((v) => v.rule))]).toEqual([name]);
    for (const v of violations) expect(v.message).toMatch(/:/); // names the problem and the fix
  });
});

describe("rule details", () => {
  const run = (mutate: (w: ReturnType<typeof compliantWorld>) => void) => {
    const w = compliantWorld();
    mutate(w);
    return evaluate(w.subjects());
  };

  test("an EKS endpoint left public by default (endpointPublicAccess unset, no CIDRs) is a violation", () => {
    const v = run((w) => {
      const vpc = w.get("cluster").props.vpcConfig;
      delete vpc.endpointPublicAccess;
      delete vpc.publicAccessCidrs;
    });
    expect(v.map((x) => x.message)).toEqual([expect.stringContaining("open to 0.0.0.0/0 (AWS default)")]);
  });

  test("a private-only EKS endpoint needs no CIDRs", () => {
    expect(
      run((w) =>
        Object.assign(w.get("cluster").props.vpcConfig, { endpointPublicAccess: false, publicAccessCidrs: [] }),
      ),
    ).toEqual([]);
  });

  test("`*` resources are fine for non-data actions but not for kms:", () => {
    const v = run(
      (w) =>
        (w.get("trainer-policy").props.policy = JSON.stringify({
          Statement: [{ Effect: "Allow", Action: ["kms:Decrypt", "ec2:DescribeInstances"], Resource: "*" }],
        })),
    );
    expect(v).toHaveLength(1);
    expect(v[0].message).toContain('S3/KMS actions on Resource "*"');
  });

  test("Deny statements with s3:* (the TLS guard) are not wildcard violations", () => {
    expect(run(() => undefined).filter((v) => v.rule === "iam-no-wildcards")).toEqual([]);
  });

  test("images without a tag are implicitly latest", () => {
    const v = run((w) => (w.get("team-job").props.spec.template.spec.containers[0].image = "busybox"));
    expect(v.map((x) => x.message)).toEqual([expect.stringContaining("has no tag (implicitly latest)")]);
  });

  test("a digest pins an image even without a tag", () => {
    expect(
      run((w) => (w.get("team-job").props.spec.template.spec.containers[0].image = `busybox@sha256:${"a".repeat(64)}`)),
    ).toEqual([]);
  });

  test("trainer chart values that switch root on are caught", () => {
    const v = run((w) => (w.get("trainer-release").props.values.securityContext = { runAsUser: 0 }));
    expect(v.map((x) => [x.rule, x.message])).toEqual([
      ["trainer-pod-security", expect.stringContaining("runs the trainer as root")],
    ]);
  });

  test("trainer image tag latest in chart values is caught", () => {
    const v = run((w) => (w.get("trainer-release").props.values.image.tag = "latest"));
    expect(v.map((x) => x.rule)).toEqual(["images-pinned"]);
  });

  test("local charts (paths) need no version; remote ones need an exact one", () => {
    expect(run((w) => (w.get("kueue").props.version = "^0.14"))).toEqual([
      expect.objectContaining({ rule: "helm-chart-pinned" }),
    ]);
    expect(run((w) => delete w.get("trainer-release").props.version)).toEqual([]);
  });

  test("provider defaultTags satisfy the tag rule", () => {
    const v = run((w) => {
      const repo = w.get("repo");
      repo.props.tags = {};
      repo.provider = {
        urn: "urn:pulumi:t::kiln::pulumi:providers:aws::p",
        props: { defaultTags: { tags: { "kiln:cluster": "c", "kiln:stack": "t" } } },
      };
    });
    expect(v).toEqual([]);
  });

  test("values only known after deployment are not guessed about", () => {
    expect(run((w) => (w.get("bucket-policy").props.policy = "<computed>"))).toEqual([]);
  });

  test("a hostPath outside the GPU agents' kubelet sockets is not allowed, and none in training namespaces", () => {
    const v = run(
      (w) =>
        (w.get("team-job").props.spec.template.spec.volumes = [
          { name: "sock", hostPath: { path: "/var/lib/kubelet/device-plugins" } },
        ]),
    );
    expect(v.map((x) => x.rule)).toEqual(["trainer-pod-security"]);
  });
});
