/**
 * What a reviewer wants from a plan, computed from its resources (config only where the cloud has
 * no resource for it, e.g. GPU pools on the local platform): counts, network, GPU pools, Kueue
 * quotas, $/hour idle and at full GPU load, and kW.
 */
import type { KilnConfig } from "../../infra/config";
import { GPU_POOL_LABEL, GPU_RESOURCE } from "../../contract/gpu";
import { isGpuNodePool } from "../../policy/rules/nodes";
import { gpuQuotas } from "../../policy/rules/queues";
import type { PlanResource } from "./evaluate";
import { familyOf } from "../../contract/catalog/gpu-families";
import { FAMILY_FACTS, FIXED_HOURLY, gpuTypesOf, INSTANCE_PRICES, PRICES_AS_OF } from "../../contract/catalog/prices";

export interface Range {
  readonly low: number;
  readonly high: number;
}

export interface GpuPoolSummary {
  readonly name: string;
  readonly maxGpus: number;
  /** Instance types the pool may launch (families expanded through the price table). */
  readonly instanceTypes: readonly string[];
  readonly capacityTypes: readonly string[];
  /** Where the figures came from: the NodePool resource (aws) or stack config (local). */
  readonly source: "NodePool" | "config";
  /** USD/hour with every GPU of the pool running; null when the types are not in the price table. */
  readonly spotPerHour: Range | null;
  readonly onDemandPerHour: Range | null;
  /** GPU board power at the limit, kW; null when the accelerator is unknown. */
  readonly kw: Range | null;
}

export interface QueueSummary {
  readonly clusterQueue: string;
  readonly cohort?: string;
  readonly namespaces: readonly string[];
  readonly gpus: readonly {
    readonly flavor: string;
    readonly nominalQuota: number | null;
    readonly borrowingLimit: number | null;
  }[];
}

export interface CostLine {
  readonly item: string;
  readonly count: number;
  readonly perHour: number;
}

export interface PlanSummary {
  readonly platform: string;
  readonly resourceCount: number;
  readonly counts: Readonly<Record<string, number>>;
  readonly network: {
    readonly vpcCidr?: string;
    readonly subnets: readonly {
      readonly name: string;
      readonly cidr: string;
      readonly az: string;
      readonly tier: "public" | "private";
    }[];
    readonly natGateways: number;
    readonly endpoints: readonly { readonly service: string; readonly type: string }[];
  } | null;
  readonly gpuPools: readonly GpuPoolSummary[];
  readonly maxGpus: number;
  readonly queues: readonly QueueSummary[];
  /** Idle: control plane, system nodes, NAT, interface endpoints. Null on platforms with no cloud bill. */
  readonly idlePerHour: number | null;
  readonly idleLines: readonly CostLine[];
  readonly fullLoadSpotPerHour: Range | null;
  readonly fullLoadOnDemandPerHour: Range | null;
  readonly fullLoadKw: Range | null;
  readonly unpricedTypes: readonly string[];
  readonly pricesAsOf: string;
  /** Helm releases the stack installs (controllers, device plugins, the trainer chart). */
  readonly releases?: readonly {
    readonly name: string;
    readonly namespace: string;
    readonly chart: string;
    readonly version: string | null;
  }[];
  /** Kueue Topology objects: name and levels, outermost first. */
  readonly topologies?: readonly { readonly name: string; readonly levels: readonly string[] }[];
  /** ResourceFlavors that place by topology. */
  readonly topologyFlavors?: readonly string[];
  /** NodePools whose nodes have EFA (label kiln.dev/efa=true). */
  readonly efaPools?: readonly string[];
}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "<computed>" ? v : undefined);
const n = (v: unknown): number | undefined =>
  typeof v === "number" ? v : typeof v === "string" && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
const round = (x: number) => Math.round(x * 100) / 100;
const ofType = (rs: readonly PlanResource[], mod: string) =>
  rs.filter((r) => r.type.split(":").slice(0, 2).join(":") === mod);

function network(rs: readonly PlanResource[]): PlanSummary["network"] {
  const vpc = ofType(rs, "aws:ec2/vpc")[0];
  if (!vpc) return null;
  const subnets = ofType(rs, "aws:ec2/subnet").map((s) => {
    const tags = (s.inputs.tags ?? {}) as Record<string, string>;
    const isPublic = tags["kubernetes.io/role/elb"] !== undefined || s.inputs.mapPublicIpOnLaunch === true;
    return {
      name: s.name,
      cidr: str(s.inputs.cidrBlock) ?? "?",
      az: str(s.inputs.availabilityZone) ?? "?",
      tier: isPublic ? ("public" as const) : ("private" as const),
    };
  });
  subnets.sort((a, b) => a.tier.localeCompare(b.tier) || a.az.localeCompare(b.az));
  return {
    vpcCidr: str(vpc.inputs.cidrBlock),
    subnets,
    natGateways: ofType(rs, "aws:ec2/natGateway").length,
    endpoints: ofType(rs, "aws:ec2/vpcEndpoint").map((e) => ({
      service: str(e.inputs.serviceName) ?? "?",
      type: str(e.inputs.vpcEndpointType) ?? "Gateway",
    })),
  };
}

/** Cost and power of `maxGpus` GPUs on the cheapest / dearest allowed type. */
function poolEconomics(
  types: readonly string[],
  maxGpus: number,
): Pick<GpuPoolSummary, "spotPerHour" | "onDemandPerHour" | "kw"> & { unpriced: string[] } {
  const priced = types.filter((t) => INSTANCE_PRICES[t]?.gpus > 0);
  const unpriced = types.filter((t) => !priced.includes(t));
  if (priced.length === 0) return { spotPerHour: null, onDemandPerHour: null, kw: null, unpriced };
  const perGpu = priced.map((t) => {
    const p = INSTANCE_PRICES[t];
    const f = FAMILY_FACTS[familyOf(t)];
    const od = p.onDemand / p.gpus;
    return { od, spot: od * (1 - (f?.spotDiscount ?? 0)), watts: f?.gpuWatts };
  });
  const range = (xs: number[]): Range => ({
    low: round(maxGpus * Math.min(...xs)),
    high: round(maxGpus * Math.max(...xs)),
  });
  const watts = perGpu.map((x) => x.watts).filter((w): w is number => w !== undefined);
  return {
    onDemandPerHour: range(perGpu.map((x) => x.od)),
    spotPerHour: range(perGpu.map((x) => x.spot)),
    kw: watts.length
      ? { low: round((maxGpus * Math.min(...watts)) / 1000), high: round((maxGpus * Math.max(...watts)) / 1000) }
      : null,
    unpriced,
  };
}

/** Instance types a NodePool may launch, from its requirements. */
function nodePoolTypes(requirements: any[]): string[] {
  const values = (key: string) =>
    requirements
      .filter((r) => r?.key === key && r?.operator === "In")
      .flatMap((r) => (Array.isArray(r.values) ? r.values : []));
  const types = values("node.kubernetes.io/instance-type");
  if (types.length) return types;
  return values("karpenter.k8s.aws/instance-family").flatMap((f: string) => gpuTypesOf(f));
}

function gpuPools(rs: readonly PlanResource[], config: KilnConfig): { pools: GpuPoolSummary[]; unpriced: string[] } {
  const unpriced: string[] = [];
  const nodePools = rs.filter((r) => isGpuNodePool({ type: r.type, props: r.inputs as Record<string, any> }));
  if (nodePools.length > 0) {
    const pools = nodePools.map((np) => {
      const spec = (np.inputs.spec ?? {}) as Record<string, any>;
      const reqs: any[] = spec.template?.spec?.requirements ?? [];
      const name = spec.template?.metadata?.labels?.[GPU_POOL_LABEL] ?? (np.inputs.metadata as any)?.name ?? np.name;
      const maxGpus = n(spec.limits?.[GPU_RESOURCE]) ?? 0;
      const types = nodePoolTypes(reqs);
      const capacity = reqs
        .filter((r) => r?.key === "karpenter.sh/capacity-type" && r?.operator === "In")
        .flatMap((r) => r.values ?? []);
      const econ = poolEconomics(types, maxGpus);
      unpriced.push(...econ.unpriced);
      return {
        name,
        maxGpus,
        instanceTypes: types,
        capacityTypes: capacity.length ? capacity : ["on-demand"],
        source: "NodePool" as const,
        spotPerHour: econ.spotPerHour,
        onDemandPerHour: econ.onDemandPerHour,
        kw: econ.kw,
      };
    });
    return { pools, unpriced };
  }
  const pools = config.gpuPools.map((p) => {
    const types = p.instanceTypes ?? (p.instanceFamilies ?? []).flatMap(gpuTypesOf);
    const econ = poolEconomics(types, p.maxGpus);
    unpriced.push(...econ.unpriced);
    const cloud = config.platform === "aws";
    return {
      name: p.name,
      maxGpus: p.maxGpus,
      instanceTypes: types,
      capacityTypes: cloud ? [...p.capacityTypes] : ["local"],
      source: "config" as const,
      spotPerHour: cloud ? econ.spotPerHour : null,
      onDemandPerHour: cloud ? econ.onDemandPerHour : null,
      kw: econ.kw,
    };
  });
  return { pools, unpriced };
}

function queues(rs: readonly PlanResource[]): QueueSummary[] {
  const isKueue = (r: PlanResource, kind: string) =>
    new RegExp(`^kubernetes:kueue\\.x-k8s\\.io/[^:]+:${kind}$`).test(r.type);
  const local = rs.filter((r) => isKueue(r, "LocalQueue"));
  return rs
    .filter((r) => isKueue(r, "ClusterQueue"))
    .map((cq) => {
      const name = str((cq.inputs.metadata as any)?.name) ?? cq.name;
      const spec = (cq.inputs.spec ?? {}) as Record<string, any>;
      const borrowing = new Map<string, number | null>();
      for (const g of spec.resourceGroups ?? [])
        for (const f of g?.flavors ?? [])
          for (const res of f?.resources ?? [])
            if (res?.name === GPU_RESOURCE) borrowing.set(f.name, n(res.borrowingLimit) ?? null);
      return {
        clusterQueue: name,
        cohort: str(spec.cohort ?? spec.cohortName),
        namespaces: local
          .filter((l) => (l.inputs.spec as any)?.clusterQueue === name)
          .map((l) => str((l.inputs.metadata as any)?.namespace) ?? "?"),
        gpus: [...gpuQuotas(cq.inputs as Record<string, any>)].map(([flavor, q]) => ({
          flavor,
          nominalQuota: q ?? null,
          borrowingLimit: borrowing.get(flavor) ?? null,
        })),
      };
    });
}

function idleCost(
  rs: readonly PlanResource[],
  config: KilnConfig,
  net: PlanSummary["network"],
  unpriced: string[],
): CostLine[] {
  const lines: CostLine[] = [];
  const clusters = ofType(rs, "aws:eks/cluster").length;
  if (clusters) lines.push({ item: "EKS control plane", count: clusters, perHour: FIXED_HOURLY.eksControlPlane });
  for (const ng of ofType(rs, "aws:eks/nodeGroup")) {
    const scaling = (ng.inputs.scalingConfig ?? {}) as Record<string, unknown>;
    const desired = n(scaling.desiredSize) ?? config.systemNodes.desiredSize;
    const types = (
      Array.isArray(ng.inputs.instanceTypes) ? ng.inputs.instanceTypes : config.systemNodes.instanceTypes
    ) as string[];
    const price = INSTANCE_PRICES[types[0]];
    if (!price) unpriced.push(types[0]);
    lines.push({ item: `system nodes (${types[0]})`, count: desired, perHour: price?.onDemand ?? 0 });
  }
  if (net?.natGateways) lines.push({ item: "NAT gateway", count: net.natGateways, perHour: FIXED_HOURLY.natGateway });
  const interfaceAzs = ofType(rs, "aws:ec2/vpcEndpoint")
    .filter((e) => e.inputs.vpcEndpointType === "Interface")
    .reduce((sum, e) => sum + (Array.isArray(e.inputs.subnetIds) ? e.inputs.subnetIds.length : config.azCount), 0);
  if (interfaceAzs)
    lines.push({
      item: "interface VPC endpoint-AZs",
      count: interfaceAzs,
      perHour: FIXED_HOURLY.interfaceEndpointPerAz,
    });
  return lines;
}

export function summarize(resources: readonly PlanResource[], config: KilnConfig): PlanSummary {
  const custom = resources.filter((r) => r.custom);
  const counts: Record<string, number> = {};
  for (const r of custom) counts[r.type] = (counts[r.type] ?? 0) + 1;
  const sortedCounts = Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  const net = network(custom);
  const { pools, unpriced } = gpuPools(custom, config);
  const cloud = config.platform === "aws";
  const idleLines = cloud ? idleCost(custom, config, net, unpriced) : [];
  const idle = cloud ? round(idleLines.reduce((s, l) => s + l.count * l.perHour, 0)) : null;
  const sum = (pick: (p: GpuPoolSummary) => Range | null): Range | null => {
    if (!cloud) return null;
    const rs = pools.map(pick).filter((r): r is Range => r !== null);
    return {
      low: round((idle ?? 0) + rs.reduce((s, r) => s + r.low, 0)),
      high: round((idle ?? 0) + rs.reduce((s, r) => s + r.high, 0)),
    };
  };
  const kws = pools.map((p) => p.kw).filter((k): k is Range => k !== null);
  return {
    platform: config.platform,
    resourceCount: custom.length,
    counts: sortedCounts,
    network: net,
    gpuPools: pools,
    maxGpus: pools.reduce((s, p) => s + p.maxGpus, 0),
    queues: queues(custom),
    idlePerHour: idle,
    idleLines,
    fullLoadSpotPerHour: sum((p) => p.spotPerHour),
    fullLoadOnDemandPerHour: sum((p) => p.onDemandPerHour),
    fullLoadKw: kws.length
      ? { low: round(kws.reduce((s, k) => s + k.low, 0)), high: round(kws.reduce((s, k) => s + k.high, 0)) }
      : null,
    unpricedTypes: [...new Set(unpriced)].sort(),
    pricesAsOf: PRICES_AS_OF,
    ...multiNode(custom),
  };
}

/** Releases, Topology objects, topology-aware flavors and EFA pools: what multi-node runs rely on (absent in plans made before them). */
function multiNode(
  rs: readonly PlanResource[],
): Required<Pick<PlanSummary, "releases" | "topologies" | "topologyFlavors" | "efaPools">> {
  const kind = (r: PlanResource, k: string) => r.type.endsWith(`:${k}`) && r.type.startsWith("kubernetes:");
  const meta = (r: PlanResource) => (r.inputs.metadata ?? {}) as Record<string, any>;
  const spec = (r: PlanResource) => (r.inputs.spec ?? {}) as Record<string, any>;
  return {
    releases: rs
      .filter((r) => /^kubernetes:helm\.sh\/v\d:Release$/.test(r.type))
      .map((r) => ({
        name: str(r.inputs.name) ?? r.name,
        namespace: str(r.inputs.namespace) ?? "default",
        chart: String(r.inputs.chart ?? "?").replace(/^.*\/charts\/trainer$/, "charts/trainer"),
        version: str(r.inputs.version) ?? null,
      }))
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    topologies: rs
      .filter((r) => kind(r, "Topology"))
      .map((r) => ({
        name: str(meta(r).name) ?? r.name,
        levels: ((spec(r).levels ?? []) as { nodeLabel: string }[]).map((l) => l.nodeLabel),
      })),
    topologyFlavors: rs
      .filter((r) => kind(r, "ResourceFlavor") && spec(r).topologyName)
      .map((r) => str(meta(r).name) ?? r.name)
      .sort(),
    efaPools: rs
      .filter((r) => kind(r, "NodePool") && spec(r).template?.metadata?.labels?.["kiln.dev/efa"] === "true")
      .map((r) => str(meta(r).name) ?? r.name)
      .sort(),
  };
}
