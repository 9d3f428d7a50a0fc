import { declaredObjects, parseHelmKey } from "../../e2e/objects";

describe("objects the local stack declares (e2e scenario 1 and 5 inventory)", () => {
  it("parses Helm release resource keys Kind[.group]/apiVersion", () => {
    expect(parseHelmKey("CronJob.batch/batch/v1")).toEqual({ kind: "CronJob", apiVersion: "batch/v1" });
    expect(parseHelmKey("ConfigMap/v1")).toEqual({ kind: "ConfigMap", apiVersion: "v1" });
    expect(() => parseHelmKey("ConfigMap")).toThrow("unexpected Helm resource key 'ConfigMap'");
  });

  it("takes kubernetes custom resources and expands Helm releases; skips providers and components", () => {
    const objects = declaredObjects([
      {
        urn: "u1",
        type: "pulumi:providers:kubernetes",
        custom: true,
        outputs: { kind: "x", apiVersion: "v1", metadata: { name: "p" } },
      },
      { urn: "u2", type: "kiln:cluster:Queues", custom: false, outputs: {} },
      {
        urn: "u3",
        type: "kubernetes:core/v1:Namespace",
        custom: true,
        outputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "kiln-research" } },
      },
      {
        urn: "u4",
        type: "kubernetes:kueue.x-k8s.io/v1beta1:ClusterQueue",
        custom: true,
        outputs: { apiVersion: "kueue.x-k8s.io/v1beta1", kind: "ClusterQueue", metadata: { name: "kiln-research" } },
      },
      {
        urn: "u5",
        type: "kubernetes:helm.sh/v3:Release",
        custom: true,
        outputs: {
          namespace: "kiln-research",
          resourceNames: { "CronJob.batch/batch/v1": ["kiln-trainer"], "ServiceAccount/v1": ["other/sa"] },
        },
      },
    ]);
    expect(objects).toEqual([
      { apiVersion: "v1", kind: "Namespace", name: "kiln-research", namespace: undefined, from: "u3" },
      {
        apiVersion: "kueue.x-k8s.io/v1beta1",
        kind: "ClusterQueue",
        name: "kiln-research",
        namespace: undefined,
        from: "u4",
      },
      {
        apiVersion: "batch/v1",
        kind: "CronJob",
        name: "kiln-trainer",
        namespace: "kiln-research",
        from: "u5 / CronJob",
      },
      { apiVersion: "v1", kind: "ServiceAccount", name: "sa", namespace: "other", from: "u5 / ServiceAccount" },
    ]);
  });
});
