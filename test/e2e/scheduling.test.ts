/**
 * Scenario 2: `kubectl create job <run> --from=cronjob/kiln-trainer -n <team ns>` makes a Job whose pod
 * requests nvidia.com/gpu, is admitted by Kueue, lands on the real node (a GPU node of an allowed pool:
 * simulated GPU nodes are tainted) and trains to completion; a GPU pod that asks for a simulated node
 * gets one of the right pool; a CPU run lands on a CPU node; a pod without the GPU toleration never
 * lands on a GPU node.
 */
import { REAL_NODE_LABEL } from "../../scripts/cluster/real-node";
import { GPU_POOL_LABEL, GPU_TAINT } from "../../contract/gpu";
import {
  createJobFromTemplate,
  ensureStack,
  gpusRequested,
  harnessConfig,
  jobSucceeded,
  kubectl,
  kubectlJson,
  must,
  kubectlBin,
  nodeLabels,
  POD_RUN_SECONDS,
  runName,
  waitFor,
  waitScheduled,
} from "./harness";

jest.setTimeout(10 * 60_000);

const POOL = GPU_POOL_LABEL;

describe("where training Jobs run", () => {
  const created: [string, string][] = [];
  beforeAll(async () => {
    await ensureStack();
  });
  afterAll(async () => {
    for (const [ns, name] of created)
      await kubectl(["delete", "job", name, "-n", ns, "--ignore-not-found", "--wait=false"]);
  });

  for (const teamIndex of [0, 1]) {
    it(`kubectl create job --from=cronjob/kiln-trainer in team #${teamIndex}'s namespace runs on the real GPU node of an allowed pool and trains to completion`, async () => {
      const team = harnessConfig().teams[teamIndex];
      if (!team)
        throw new Error(`the harness stack config has no team #${teamIndex}; Pulumi.local.yaml needs two teams`);
      const name = runName("e2e-gpu");
      created.push([team.namespace, name]);
      // Exactly the README command.
      await must(kubectlBin(), ["create", "job", name, "--from=cronjob/kiln-trainer", "-n", team.namespace]);
      const job = await kubectlJson(["get", "job", name, "-n", team.namespace]);
      expect(gpusRequested(job)).toBeGreaterThan(0);

      const [pod] = await waitScheduled(team.namespace, name);
      const labels = await nodeLabels(pod.node!);
      expect(labels[REAL_NODE_LABEL]).toBe("real");
      expect(labels[POOL]).toBeDefined();
      const allowed = team.pools ?? harnessConfig().gpuPools.map((p) => p.name);
      expect(allowed).toContain(labels[POOL]);
      // Kueue admitted it to the ResourceFlavor of that pool, whose nodeLabels pinned the pod there.
      expect(pod.nodeSelector?.[POOL]).toBe(labels[POOL]);

      // The default run spec really trains (Auto MPG, up to 100 epochs) on the real node.
      await waitFor(
        `Job ${name} to succeed`,
        600_000,
        async () => (await jobSucceeded(team.namespace, name)) >= 1,
        2000,
      );
    });
  }

  it("a GPU run that asks for a simulated node lands on a KWOK node of an allowed pool, pinned there by Kueue's flavor, and completes", async () => {
    const team = harnessConfig().teams[1] ?? harnessConfig().teams[0];
    const name = runName("e2e-sim");
    created.push([team.namespace, name]);
    const job = await createJobFromTemplate(team.namespace, name, { simulated: true });
    expect(gpusRequested(job)).toBeGreaterThan(0);
    const [pod] = await waitScheduled(team.namespace, name);
    const labels = await nodeLabels(pod.node!);
    expect(labels.type).toBe("kwok");
    expect(team.pools ?? harnessConfig().gpuPools.map((p) => p.name)).toContain(labels[POOL]);
    expect(pod.nodeSelector?.[POOL]).toBe(labels[POOL]);
    await waitFor(
      `Job ${name} to succeed`,
      (POD_RUN_SECONDS + 90) * 1000,
      async () => (await jobSucceeded(team.namespace, name)) >= 1,
    );
  });

  it("a CPU run (no GPU request) lands on a CPU node and completes", async () => {
    const team = harnessConfig().teams[0];
    const name = runName("e2e-cpu");
    created.push([team.namespace, name]);
    const job = await createJobFromTemplate(team.namespace, name, { gpus: 0 });
    expect(gpusRequested(job)).toBe(0);
    const [pod] = await waitScheduled(team.namespace, name);
    const labels = await nodeLabels(pod.node!);
    expect(labels.type).toBe("kwok");
    expect(labels[POOL]).toBeUndefined();
    expect(labels["kiln.dev/node-role"]).toBe("cpu");
    await waitFor(
      `Job ${name} to succeed`,
      (POD_RUN_SECONDS + 90) * 1000,
      async () => (await jobSucceeded(team.namespace, name)) >= 1,
    );
  });

  it("pods without the nvidia.com/gpu toleration never land on a GPU node", async () => {
    const ns = "default";
    const pool = harnessConfig().gpuPools[0].name;
    const base = runName("e2e-notol");
    const pod = (name: string, nodeSelector?: Record<string, string>) => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: ns, labels: { "kiln.dev/e2e": base } },
      spec: {
        containers: [
          { name: "c", image: "registry.k8s.io/pause:3.10", resources: { requests: { cpu: "100m", memory: "64Mi" } } },
        ],
        ...(nodeSelector ? { nodeSelector } : {}),
      },
    });
    const pinned = `${base}-pinned`;
    const items = [pod(pinned, { [POOL]: pool }), ...[0, 1, 2, 3, 4, 5].map((i) => pod(`${base}-${i}`))];
    try {
      await must(kubectlBin(), ["create", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items }),
      });
      // The free pods all get a node, and every one of them is a CPU node.
      const placed = await waitFor("the untolerated pods to be scheduled", 120_000, async () => {
        const list = await kubectlJson<{ items: any[] }>(["get", "pods", "-n", ns, "-l", `kiln.dev/e2e=${base}`]);
        const free = list.items.filter((p) => p.metadata.name !== pinned);
        return free.every((p) => p.spec.nodeName) ? free.map((p) => p.spec.nodeName as string) : undefined;
      });
      for (const node of placed) expect((await nodeLabels(node))[POOL]).toBeUndefined();
      // The pod pinned to a GPU pool without the toleration stays Pending with the taint as the reason.
      const reason = await waitFor("the scheduler to explain why the pinned pod is unschedulable", 60_000, async () => {
        const p = await kubectlJson(["get", "pod", pinned, "-n", ns]);
        const cond = (p.status?.conditions ?? []).find((c: any) => c.type === "PodScheduled" && c.status === "False");
        return cond?.reason === "Unschedulable" ? (cond.message as string) : undefined;
      });
      expect(reason).toMatch(/untolerated taint/);
      await new Promise((r) => setTimeout(r, 5000));
      const still = await kubectlJson(["get", "pod", pinned, "-n", ns]);
      expect(still.spec.nodeName).toBeUndefined();
      expect(still.status.phase).toBe("Pending");
      // Control: the same pod with the toleration added (tolerations may be appended) lands in that pool.
      await must(kubectlBin(), [
        "patch",
        "pod",
        pinned,
        "-n",
        ns,
        "--type",
        "json",
        "-p",
        JSON.stringify([{ op: "add", path: "/spec/tolerations/-", value: { ...GPU_TAINT, operator: "Equal" } }]),
      ]);
      const node = await waitFor(
        "the tolerating pod to be scheduled",
        60_000,
        async () => (await kubectlJson(["get", "pod", pinned, "-n", ns])).spec.nodeName as string | undefined,
      );
      expect((await nodeLabels(node))[POOL]).toBe(pool);
    } finally {
      await kubectl(["delete", "pods", "-n", ns, "-l", `kiln.dev/e2e=${base}`, "--wait=false"]);
    }
  });
});
