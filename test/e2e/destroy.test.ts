/**
 * Scenario 5: `pulumi destroy --stack local --yes` leaves no Kiln object behind: every object the
 * stack had declared is gone from the API server, and nothing labelled app.kubernetes.io/part-of=kiln
 * remains. (Other suites bring the stack back with ensureStack() when they run after this one.)
 */
import { ensureStack, kubectl, pulumi, waitFor } from "./harness";
import { type DeclaredObject, readObject, stackObjects } from "./objects";

jest.setTimeout(20 * 60_000);

describe("pulumi destroy --stack local", () => {
  let before: DeclaredObject[] = [];

  beforeAll(async () => {
    await ensureStack();
    before = await stackObjects();
  });

  it("succeeds", async () => {
    expect(before.length).toBeGreaterThan(10);
    const r = await pulumi(["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    if (r.code !== 0) throw new Error(`pulumi destroy failed:\n${r.stdout}\n${r.stderr}`);
  });

  it("leaves none of the stack's objects on the API server", async () => {
    // Namespaces finalize asynchronously (the namespace controller empties them first).
    const left = await waitFor(
      "the stack's objects to be deleted",
      180_000,
      async () => {
        const remaining: string[] = [];
        for (const o of before)
          if (await readObject(o)) remaining.push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`);
        return remaining.length === 0 ? remaining : undefined;
      },
      3000,
    ).catch(async () => {
      const remaining: string[] = [];
      for (const o of before)
        if (await readObject(o)) remaining.push(`${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}`);
      return remaining;
    });
    expect(left).toEqual([]);
  });

  it("leaves nothing labelled app.kubernetes.io/part-of=kiln in the cluster or the stack's namespaces", async () => {
    // Cluster-scoped kinds everywhere; namespaced kinds in every namespace the stack used (other
    // namespaces, e.g. bench:cluster's, are not the stack's to clean).
    const clusterKinds =
      "namespaces,clusterqueues.kueue.x-k8s.io,resourceflavors.kueue.x-k8s.io,priorityclasses,clusterroles,clusterrolebindings";
    const r = await kubectl(["get", clusterKinds, "-l", "app.kubernetes.io/part-of=kiln", "-o", "name"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe("");
    const namespaces = new Set<string>([
      ...before.filter((o) => o.kind === "Namespace").map((o) => o.name),
      ...before.flatMap((o) => (o.namespace ? [o.namespace] : [])),
    ]);
    expect(namespaces.size).toBeGreaterThan(0);
    const nsKinds =
      "localqueues.kueue.x-k8s.io,roles,rolebindings,configmaps,secrets,serviceaccounts,cronjobs,jobs,networkpolicies,resourcequotas,limitranges";
    for (const ns of namespaces) {
      const n = await kubectl(["get", nsKinds, "-n", ns, "-l", "app.kubernetes.io/part-of=kiln", "-o", "name"]);
      expect(n.code).toBe(0);
      expect(`${ns}: ${n.stdout.trim()}`).toBe(`${ns}: `);
    }
  });

  it("the stack state is empty", async () => {
    expect(await stackObjects()).toEqual([]);
  });
});
