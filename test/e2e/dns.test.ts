/**
 * Cluster DNS on the local cluster (CoreDNS on the real node's address, scripts/cluster/node.sh): a pod on
 * the real node resolves a headless Service's pod host names (what a JobSet's ranks use to meet), the
 * short form through its search path, and a normal Service's name; a name outside the cluster domain does
 * not exist (answered locally: nothing is forwarded off the machine).
 */
import { GPU_TOLERATION } from "../../contract/gpu";
import { REAL_NODE_LABEL } from "../../scripts/cluster/real-node";
import { ensureImageOnNode, ensureStack, kubectl, kubectlJson, must, kubectlBin, runName, waitFor } from "./harness";

jest.setTimeout(10 * 60_000);

/** Prints the lookups as one JSON line: name -> address or error code. */
const RESOLVE = `const dns=require("dns").promises;(async()=>{const out={};for(const n of process.argv.slice(1)){try{out[n]=(await dns.lookup(n,{family:4})).address}catch(e){out[n]=e.code}}console.log(JSON.stringify(out))})()`;

describe("cluster DNS on the local cluster", () => {
  const ns = runName("e2e-dns");
  let image = "";

  beforeAll(async () => {
    await ensureStack();
    image = await ensureImageOnNode();
    await must(kubectlBin(), ["create", "namespace", ns]);
  });
  afterAll(async () => {
    await kubectl(["delete", "namespace", ns, "--wait=false"]);
  });

  const realNodePod = (name: string, labels: Record<string, string>, extra: object, command: string[]) => ({
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: ns, labels },
    spec: {
      ...extra,
      nodeSelector: { [REAL_NODE_LABEL]: "real" },
      tolerations: [{ ...GPU_TOLERATION }],
      restartPolicy: "Never",
      automountServiceAccountToken: false,
      securityContext: { runAsNonRoot: true, runAsUser: 10001 },
      containers: [
        { name: "main", image, imagePullPolicy: "IfNotPresent", command, env: [{ name: "HOME", value: "/tmp" }] },
      ],
    },
  });

  it("a pod resolves a headless Service's pod names and a Service's name; other names do not exist", async () => {
    const objects = [
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "peers", namespace: ns },
        spec: { clusterIP: "None", publishNotReadyAddresses: true, selector: { app: "peer" } },
      },
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: ns },
        spec: { selector: { app: "peer" }, ports: [{ port: 80 }] },
      },
      realNodePod("rank-0", { app: "peer" }, { hostname: "rank-0", subdomain: "peers" }, ["sleep", "600"]),
    ];
    await must(kubectlBin(), ["apply", "-f", "-"], {
      input: JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }),
    });
    const peer = await waitFor("pod rank-0 to run with an IP", 180_000, async () => {
      const p = await kubectlJson(["get", "pod", "rank-0", "-n", ns]);
      return p.status?.phase === "Running" && p.status.podIP ? (p.status.podIP as string) : undefined;
    });
    const clusterIp = (await kubectlJson(["get", "service", "web", "-n", ns])).spec.clusterIP as string;

    const names = [
      `rank-0.peers.${ns}.svc.cluster.local`,
      "rank-0.peers",
      `web.${ns}.svc.cluster.local`,
      "web",
      "no-such-pod.peers",
      "example.com",
    ];
    const client = realNodePod("client", { app: "client" }, {}, ["node", "-e", RESOLVE, ...names]);
    await must(kubectlBin(), ["apply", "-f", "-"], { input: JSON.stringify(client) });
    await waitFor("the client pod to finish", 180_000, async () => {
      const p = await kubectlJson(["get", "pod", "client", "-n", ns]);
      return ["Succeeded", "Failed"].includes(p.status?.phase) || undefined;
    });
    const log = (await must(kubectlBin(), ["logs", "client", "-n", ns])).trim().split("\n").pop()!;
    const resolved = JSON.parse(log) as Record<string, string>;
    expect(resolved).toEqual({
      [names[0]]: peer,
      [names[1]]: peer,
      [names[2]]: clusterIp,
      [names[3]]: clusterIp,
      // The opposite cases: an unknown pod name does not resolve, and a name outside the cluster domain
      // does not exist for CoreDNS (it forwards nothing off the machine): both fail at once, not "try again".
      [names[4]]: "ENOTFOUND",
      [names[5]]: "ENOTFOUND",
    });
  });
});
