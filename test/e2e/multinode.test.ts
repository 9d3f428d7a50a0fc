/**
 * Runs with your own image on several nodes (issue 21): `kubectl kiln submit --image` makes a JobSet that
 * Kueue admits as one Workload (a gang). On simulated nodes: two runs that cannot both fit finish in turn
 * (no deadlock); a run that prefers one rack lands in one rack; a run that requires one block but fits in
 * none waits. The real distributed example (JAX over gloo) on the real node is in multinode-example.test.ts.
 */
import { SIMULATED_TOLERATION, RACK_NODES, BLOCK_RACKS, simulatedNodes } from "../../scripts/cluster/nodes";
import { LOCAL_TOPOLOGY_LEVELS, JOBSET_GROUP, peerSelector, TOPOLOGY_NAME } from "../../contract/workload";
import { submitterGroup } from "../../infra/cluster/team-namespace";
import { GPU_POOL_LABEL, GPU_RESOURCE, GPU_TAINT } from "../../contract/gpu";
import {
  ensureStack,
  harnessConfig,
  kiln,
  kubectl,
  kubectlBin,
  kubectlJson,
  must,
  POD_RUN_SECONDS,
  RUN_TIME_ANNOTATION,
  runName,
  waitFor,
} from "./harness";

jest.setTimeout(20 * 60_000);

const JOBSETS = `jobsets.${JOBSET_GROUP}`;

/** The JobSet `kubectl kiln submit --image` makes (client dry run), edited, then created as the plugin would. */
async function submitImageEdited(ns: string, name: string, args: string[], edit: (js: any) => void): Promise<any> {
  const r = await kiln([
    "submit",
    "-n",
    ns,
    "--name",
    name,
    "--image",
    "localhost/kiln/e2e-sim:1.0.0",
    ...args,
    "--dry-run=client",
    "-o",
    "json",
    "--",
    "sleep",
    "1",
  ]);
  if (r.code !== 0)
    throw new Error(`kubectl kiln submit --image --dry-run failed (${r.code}):\n${r.stderr}${r.stdout}`);
  const out = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"), r.stdout.lastIndexOf("}") + 1));
  // -o json of a run with peers prints a List (JobSet + NetworkPolicy); the JobSet is what Kueue admits.
  const js = out.kind === "List" ? out.items.find((o: any) => o.kind === "JobSet") : out;
  edit(js);
  await must(kubectlBin(), ["create", "-f", "-"], { input: JSON.stringify(js) });
  return js;
}

/** Pods of a JobSet on simulated GPU nodes: tolerate their taint, select them, and run `seconds` there. */
function onSimulatedNodes(seconds: number) {
  return (js: any) => {
    const pod = js.spec.replicatedJobs[0].template.spec.template;
    pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [RUN_TIME_ANNOTATION]: `${seconds}s` };
    pod.spec.tolerations = [...(pod.spec.tolerations ?? []), { ...SIMULATED_TOLERATION }];
    pod.spec.nodeSelector = { ...(pod.spec.nodeSelector ?? {}), type: "kwok" };
  };
}

const jobSetState = async (ns: string, name: string) => {
  const js = await kubectlJson(["get", JOBSETS, name, "-n", ns]);
  const cond = (js.status?.conditions ?? []).find(
    (c: any) => (c.type === "Completed" || c.type === "Failed") && c.status === "True",
  );
  return {
    suspended: js.spec.suspend === true,
    finished: cond?.type as string | undefined,
    restarts: js.status?.restarts ?? 0,
  };
};
const runPods = async (ns: string, run: string) =>
  (await kubectlJson<{ items: any[] }>(["get", "pods", "-n", ns, "-l", `kiln.dev/run=${run}`])).items;

describe("multi-node runs: gang admission and topology (simulated nodes)", () => {
  const created: [string, string][] = [];
  afterAll(async () => {
    for (const [ns, name] of created)
      await kubectl(["delete", JOBSETS, name, "-n", ns, "--ignore-not-found", "--wait=false"]);
  });
  beforeAll(async () => {
    await ensureStack();
  });

  it("two runs that cannot both fit the team's quota are admitted whole, one after the other, and both finish", async () => {
    const team = harnessConfig().teams.find((t) => t.pools?.length) ?? harnessConfig().teams[0];
    const pool = team.pools?.[0] ?? harnessConfig().gpuPools[0].name;
    // What Kueue may admit for the team in that pool: its nominal quota plus what it may borrow.
    const cq = await kubectlJson(["get", "clusterqueues.kueue.x-k8s.io", `kiln-${team.name}`]);
    const flavor = cq.spec.resourceGroups.flatMap((g: any) => g.flavors).find((f: any) => f.name === pool);
    const gpu = flavor.resources.find((r: any) => r.name === GPU_RESOURCE);
    const nominal = Number(gpu.nominalQuota);
    const ceiling = nominal + Number(gpu.borrowingLimit ?? 0);
    // Two nodes per run, as many GPUs per node as let one run fit (borrowing) while two exceed the ceiling.
    const perNode = Math.floor(ceiling / 4) + 1;
    expect(nominal).toBeGreaterThan(0);
    expect(2 * perNode).toBeLessThanOrEqual(ceiling);
    expect(2 * 2 * perNode).toBeGreaterThan(ceiling);
    const names = [runName("e2e-gang-a"), runName("e2e-gang-b")];
    for (const name of names) {
      created.push([team.namespace, name]);
      await submitImageEdited(team.namespace, name, ["--nodes", "2", "--gpus", String(perNode)], (js) => {
        onSimulatedNodes(POD_RUN_SECONDS * 3)(js);
        js.spec.replicatedJobs[0].template.spec.template.spec.nodeSelector[GPU_POOL_LABEL] = pool;
      });
    }
    // Gang: a run is admitted whole (both pods' GPUs) or not at all, so at most one holds quota at once.
    const seen: string[] = [];
    let mostAdmittedAtOnce = 0;
    await waitFor(
      "both runs to finish in turn",
      600_000,
      async () => {
        const states = await Promise.all(names.map((n) => jobSetState(team.namespace, n)));
        const admitted = names.filter((_, i) => !states[i].suspended && !states[i].finished);
        mostAdmittedAtOnce = Math.max(mostAdmittedAtOnce, admitted.length);
        for (const n of admitted) if (!seen.includes(n)) seen.push(n);
        return states.every((s) => s.finished === "Completed") || undefined;
      },
      2000,
    );
    expect(mostAdmittedAtOnce).toBe(1);
    expect(seen.sort()).toEqual([...names].sort());
  });

  describe("topology-aware placement", () => {
    const pool = "topo";
    const ns = () => harnessConfig().teams[0].namespace;
    const queue = "e2e-topology";
    // Two blocks of BLOCK_RACKS racks of RACK_NODES one-GPU nodes.
    const nodes = simulatedNodes([{ name: pool, nodes: 2 * BLOCK_RACKS * RACK_NODES, gpusPerNode: 1 }], 0).items;

    beforeAll(async () => {
      await must(kubectlBin(), ["apply", "--server-side", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: nodes }),
      });
      const objects = [
        {
          apiVersion: "kueue.x-k8s.io/v1beta1",
          kind: "ResourceFlavor",
          metadata: { name: pool },
          spec: {
            nodeLabels: { [GPU_POOL_LABEL]: pool },
            topologyName: TOPOLOGY_NAME,
            tolerations: [{ key: GPU_TAINT.key, operator: "Equal", value: GPU_TAINT.value, effect: GPU_TAINT.effect }],
          },
        },
        {
          apiVersion: "kueue.x-k8s.io/v1beta1",
          kind: "ClusterQueue",
          metadata: { name: queue },
          spec: {
            namespaceSelector: {},
            // Kueue places a pod set by topology only when one flavor holds all of its resources.
            resourceGroups: [
              {
                coveredResources: ["cpu", "memory", GPU_RESOURCE],
                flavors: [
                  {
                    name: pool,
                    resources: [
                      { name: "cpu", nominalQuota: 1000 },
                      { name: "memory", nominalQuota: "4Ti" },
                      { name: GPU_RESOURCE, nominalQuota: nodes.length },
                    ],
                  },
                ],
              },
            ],
          },
        },
        {
          apiVersion: "kueue.x-k8s.io/v1beta1",
          kind: "LocalQueue",
          metadata: { name: queue, namespace: ns() },
          spec: { clusterQueue: queue },
        },
      ];
      await must(kubectlBin(), ["apply", "-f", "-"], {
        input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
      });
      await waitFor("the topology nodes to be Ready", 120_000, async () => {
        const list = await kubectlJson<{ items: any[] }>(["get", "nodes", "-l", `${GPU_POOL_LABEL}=${pool}`]);
        return (
          list.items.filter((n) => n.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True"))
            .length === nodes.length || undefined
        );
      });
    });
    afterAll(async () => {
      await kubectl(["delete", "localqueue.kueue.x-k8s.io", queue, "-n", ns(), "--ignore-not-found"]);
      await kubectl(["delete", "clusterqueue.kueue.x-k8s.io", queue, "--ignore-not-found"]);
      await kubectl(["delete", "resourceflavor.kueue.x-k8s.io", pool, "--ignore-not-found"]);
      await kubectl(["delete", "nodes", "-l", `${GPU_POOL_LABEL}=${pool}`, "--ignore-not-found"]);
    });
    const place = async (node: string) =>
      (await kubectlJson(["get", "node", node])).metadata.labels as Record<string, string>;
    const [BLOCK, RACK] = LOCAL_TOPOLOGY_LEVELS;
    const onPool = (js: any) => {
      onSimulatedNodes(120)(js);
      js.spec.replicatedJobs[0].template.spec.template.spec.nodeSelector[GPU_POOL_LABEL] = pool;
    };

    it("a 4-node run that prefers one rack lands in one rack", async () => {
      const name = runName("e2e-rack");
      created.push([ns(), name]);
      await submitImageEdited(
        ns(),
        name,
        ["--nodes", String(RACK_NODES), "--gpus", "1", "--queue", queue, "--topology", "preferred:rack"],
        onPool,
      );
      const pods = await waitFor(`the ${RACK_NODES} pods of ${name} to be bound`, 180_000, async () => {
        const p = (await runPods(ns(), name)).filter((x) => x.spec.nodeName);
        return p.length === RACK_NODES ? p : undefined;
      });
      const racks = new Set(await Promise.all(pods.map(async (p: any) => (await place(p.spec.nodeName))[RACK])));
      expect(racks.size).toBe(1);
      await kubectl(["delete", JOBSETS, name, "-n", ns(), "--wait=false"]);
    });

    it("a run that requires one block but fits in none waits, while one that fits is admitted", async () => {
      const big = runName("e2e-block-big");
      const fits = runName("e2e-block-fits");
      created.push([ns(), big], [ns(), fits]);
      const blockNodes = RACK_NODES * BLOCK_RACKS;
      await submitImageEdited(
        ns(),
        big,
        ["--nodes", String(blockNodes + 1), "--gpus", "1", "--queue", queue, "--topology", "required:block"],
        onPool,
      );
      await submitImageEdited(
        ns(),
        fits,
        ["--nodes", String(blockNodes), "--gpus", "1", "--queue", queue, "--topology", "required:block"],
        onPool,
      );
      // The opposite case first: a run of exactly one block is admitted and lands in one block.
      const pods = await waitFor(`the pods of ${fits} to be bound`, 180_000, async () => {
        const p = (await runPods(ns(), fits)).filter((x) => x.spec.nodeName);
        return p.length === blockNodes ? p : undefined;
      });
      expect(new Set(await Promise.all(pods.map(async (p: any) => (await place(p.spec.nodeName))[BLOCK]))).size).toBe(
        1,
      );
      // The quota holds both (2 blocks of GPUs), but no block holds the big one: it stays suspended, podless.
      await new Promise((r) => setTimeout(r, 15_000));
      expect((await jobSetState(ns(), big)).suspended).toBe(true);
      expect(await runPods(ns(), big)).toEqual([]);
      const wl = (await kubectlJson<{ items: any[] }>(["get", "workloads.kueue.x-k8s.io", "-n", ns()])).items.find(
        (w) => (w.metadata.ownerReferences ?? []).some((o: any) => o.name === big),
      );
      const reserved = (wl?.status?.conditions ?? []).find((c: any) => c.type === "QuotaReserved");
      expect(reserved?.status ?? "False").toBe("False");
    });
  });
});

describe("a submitter's NetworkPolicies (the program's admission policy, on the real API server)", () => {
  const team = () => harnessConfig().teams[0];
  /** kubectl as a member of the team's submitter group (impersonated with the admin kubeconfig). */
  const asSubmitter = (args: string[], input?: string) =>
    kubectl(
      [
        "--as",
        "e2e-submitter",
        "--as-group",
        submitterGroup(team().name),
        "--as-group",
        "system:authenticated",
        ...args,
      ],
      input === undefined ? {} : { input },
    );
  const policy = (name: string, spec: object) =>
    JSON.stringify({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name, namespace: team().namespace },
      spec,
    });
  const peers = (run: string) => ({ podSelector: { matchLabels: peerSelector(run) } });

  beforeAll(async () => {
    await ensureStack();
  });

  it("lets a submitter create exactly a run's peers policy (what submit --image makes) and nothing wider", async () => {
    const run = runName("e2e-vap");
    const created: string[] = [];
    try {
      // The plugin's own object for a 2-node run, as the submitter would send it.
      const r = await kiln([
        "submit",
        "-n",
        team().namespace,
        "--name",
        run,
        "--image",
        "localhost/kiln/e2e-sim:1.0.0",
        "--nodes",
        "2",
        "--dry-run=client",
        "-o",
        "json",
        "--",
        "true",
      ]);
      const list = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"), r.stdout.lastIndexOf("}") + 1));
      const own = list.items.find((o: any) => o.kind === "NetworkPolicy");
      const ok = await asSubmitter(["create", "-f", "-"], JSON.stringify(own));
      expect(ok.stderr).toBe("");
      created.push(own.metadata.name);
      // The opposite cases: an allow-all, a wider selector, and an egress to the internet are refused by the policy.
      const denied = [
        ["allow-all", policy("allow-all", { podSelector: {}, ingress: [{}], policyTypes: ["Ingress"] })],
        ["every pod of the namespace", policy(`${run}x-peers`, { podSelector: {}, ingress: [{ from: [peers(run)] }] })],
        [
          "egress to 0.0.0.0/0",
          policy(`${run}y-peers`, {
            ...peers(`${run}y`),
            egress: [{ to: [peers(`${run}y`)] }, { to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] }],
          }),
        ],
      ];
      for (const [what, obj] of denied) {
        const res = await asSubmitter(["create", "-f", "-"], obj);
        expect([what, res.code !== 0 && /kiln-run-peers/.test(res.stderr)]).toEqual([what, true]);
      }
      // And the default-deny stays: a submitter may not delete it.
      const del = await asSubmitter([
        "delete",
        "networkpolicy",
        "default-deny",
        "-n",
        team().namespace,
        "--dry-run=server",
      ]);
      expect(del.stderr).toMatch(/forbidden/);
    } finally {
      for (const n of created)
        await kubectl(["delete", "networkpolicy", n, "-n", team().namespace, "--ignore-not-found"]);
    }
  });
});
