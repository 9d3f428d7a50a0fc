/** plan.md: the human view of a plan, and (with a base plan) the PR comment body. */
import type { Delta, PlanDiff } from "./diff";
import type { Plan } from "./plan";
import type { Range } from "./summary";

const usd = (x: number) => `$${x.toFixed(2)}`;
/** Per-unit prices can be below a cent's resolution at 2 decimals ($0.045/h). */
const usdUnit = (x: number) => `$${x < 0.1 ? x.toFixed(3) : x.toFixed(2)}`;
const range = (r: Range | null, unit: (x: number) => string, suffix = "") =>
  r ? (r.low === r.high ? `${unit(r.low)}${suffix}` : `${unit(r.low)}–${unit(r.high)}${suffix}`) : "n/a";
const kwNum = (x: number) => x.toFixed(2);
const kw = (x: number) => `${kwNum(x)} kW`;
const kwRange = (r: Range | null) => range(r, kwNum, " kW");

/** `g5.xlarge … g6.48xlarge` -> `g5, g6 (16 sizes)`; short lists stay as they are. */
function typesLabel(types: readonly string[]): string {
  if (types.length === 0) return "(any)";
  if (types.length <= 4) return types.join(", ");
  const families = [...new Set(types.map((t) => t.split(".")[0]))];
  return `${families.join(", ")} (${types.length} sizes)`;
}
const code = (s: string) => `\`${s}\``;

function headline(p: Plan): string {
  const s = p.summary;
  const policy =
    p.policy.violations.length === 0
      ? `policy: all ${p.policy.rules} rules pass`
      : `policy: **${p.policy.violations.length} violation(s)**`;
  const parts = [`**${s.resourceCount} resources**`, `**${s.maxGpus} GPUs** max`];
  if (s.idlePerHour !== null) parts.push(`idle **${usd(s.idlePerHour)}/h**`);
  if (s.fullLoadSpotPerHour)
    parts.push(
      `all pools at limit **${range(s.fullLoadSpotPerHour, usd, "/h")}** spot, **${range(s.fullLoadOnDemandPerHour, usd, "/h")}** on-demand`,
    );
  if (s.fullLoadKw) parts.push(`**${kwRange(s.fullLoadKw)}** GPU power at full load`);
  parts.push(policy);
  return parts.join(" · ");
}

function deltaRow(label: string, d: Delta, unit: (x: number) => string): string {
  const f = (x: number | null) => (x === null ? "n/a" : unit(x));
  const sign = d.delta === null ? "n/a" : d.delta > 0 ? `+${unit(d.delta)}` : d.delta < 0 ? `−${unit(-d.delta)}` : "±0";
  return `| ${label} | ${f(d.base)} | ${f(d.head)} | ${sign} |`;
}

const LIST_LIMIT = 40;

function refList(title: string, items: readonly { type: string; name: string; keys?: readonly string[] }[]): string[] {
  if (items.length === 0) return [];
  const lines = items
    .slice(0, LIST_LIMIT)
    .map((r) => `- ${code(r.type)} ${code(r.name)}${r.keys ? `: ${r.keys.map(code).join(", ")}` : ""}`);
  if (items.length > LIST_LIMIT) lines.push(`- … and ${items.length - LIST_LIMIT} more (see plan.json)`);
  return [
    `<details${items.length <= 10 ? " open" : ""}><summary>${title} (${items.length})</summary>`,
    "",
    ...lines,
    "",
    "</details>",
    "",
  ];
}

export function renderDiff(d: PlanDiff): string[] {
  const num = (x: number) => String(x);
  const out = [
    "### Changes against the base branch",
    "",
    `**${d.added.length} to add · ${d.changed.length} to change · ${d.removed.length} to remove**`,
    "",
    "| | base | this change | delta |",
    "|---|---:|---:|---:|",
    deltaRow("max GPUs", d.maxGpus, num),
    deltaRow("idle $/h", d.idlePerHour, usd),
    deltaRow("all pools at limit, spot $/h (high)", d.fullLoadSpotPerHour, usd),
    deltaRow("all pools at limit, on-demand $/h (high)", d.fullLoadOnDemandPerHour, usd),
    deltaRow("GPU power at full load (high)", d.fullLoadKw, kw),
    "",
    ...refList("Added", d.added),
    ...refList("Changed (inputs)", d.changed),
    ...refList("Removed", d.removed),
  ];
  return out;
}

export function renderPlan(p: Plan, diff?: PlanDiff): string {
  const s = p.summary;
  const out: string[] = [`## Kiln plan: stack ${code(p.stack)} (${s.platform})`, "", headline(p), ""];
  if (diff) out.push(...renderDiff(diff));

  out.push("### GPU pools", "");
  if (s.gpuPools.length === 0) out.push("No GPU pools.", "");
  else {
    out.push(
      "| pool | max GPUs | instance types | capacity | spot $/h at limit | on-demand $/h at limit | GPU kW at limit |",
      "|---|---:|---|---|---:|---:|---:|",
    );
    for (const g of s.gpuPools)
      out.push(
        `| ${g.name} | ${g.maxGpus} | ${typesLabel(g.instanceTypes)} | ${g.capacityTypes.join(", ")} | ${range(g.spotPerHour, usd)} | ${range(g.onDemandPerHour, usd)} | ${kwRange(g.kw)} |`,
      );
    out.push("");
  }

  out.push("### Kueue quotas", "");
  if (s.queues.length === 0) out.push("No ClusterQueues.", "");
  else {
    out.push(
      "| ClusterQueue | cohort | namespaces | GPUs per flavor: nominal (borrowing limit) |",
      "|---|---|---|---|",
    );
    for (const q of s.queues)
      out.push(
        `| ${q.clusterQueue} | ${q.cohort ?? ""} | ${q.namespaces.join(", ")} | ${q.gpus.map((g) => `${g.flavor}: ${g.nominalQuota ?? "?"}${g.borrowingLimit !== null ? ` (${g.borrowingLimit})` : ""}`).join("; ")} |`,
      );
    out.push("");
  }

  out.push("### Cost and power", "");
  if (s.idlePerHour === null)
    out.push(
      `Platform ${code(s.platform)} has no cloud bill in this model.${s.fullLoadKw ? ` GPU power at full load: ${kwRange(s.fullLoadKw)}.` : ""}`,
      "",
    );
  else {
    out.push("| idle item | count | $/h each | $/h |", "|---|---:|---:|---:|");
    for (const l of s.idleLines)
      out.push(`| ${l.item} | ${l.count} | ${usdUnit(l.perHour)} | ${usd(l.count * l.perHour)} |`);
    out.push(`| **idle total** | | | **${usd(s.idlePerHour)}** |`, "");
    out.push(
      `All GPU pools at their limit: **${range(s.fullLoadSpotPerHour, usd, "/h")}** on spot, **${range(s.fullLoadOnDemandPerHour, usd, "/h")}** on-demand (idle included; low = cheapest allowed type per GPU, high = dearest).`,
      "",
    );
  }
  out.push(
    `Prices and power from ${code("contract/catalog/prices.ts")} (as of ${s.pricesAsOf}; on-demand list prices, typical spot discount, NVIDIA board power; data transfer, storage and NAT processing not included).${s.unpricedTypes.length ? ` Not priced: ${s.unpricedTypes.join(", ")}.` : ""}`,
    "",
  );

  out.push("### Cluster services", "");
  const releases = s.releases ?? [];
  if (releases.length === 0) out.push("No Helm releases.", "");
  else {
    out.push("| release | namespace | chart | version |", "|---|---|---|---|");
    for (const r of releases) out.push(`| ${r.name} | ${r.namespace} | ${code(r.chart)} | ${r.version ?? "(local)"} |`);
    out.push("");
  }
  for (const t of s.topologies ?? [])
    out.push(
      `Kueue Topology ${code(t.name)}: ${t.levels.map(code).join(" > ")}; topology-aware flavors: ${(s.topologyFlavors ?? []).map(code).join(", ") || "none"}.`,
      "",
    );
  out.push(`EFA pools: ${(s.efaPools ?? []).map(code).join(", ") || "none"}.`, "");

  out.push("### Network", "");
  if (!s.network) out.push("No cloud network (the cluster brings its own).", "");
  else {
    const n = s.network;
    out.push(
      `VPC ${code(n.vpcCidr ?? "?")}, ${n.natGateways} NAT gateway(s), endpoints: ${n.endpoints.map((e) => `${e.service.split(".").pop()} (${e.type})`).join(", ") || "none"}.`,
      "",
    );
    out.push("| tier | AZ | CIDR |", "|---|---|---|");
    for (const sn of n.subnets) out.push(`| ${sn.tier} | ${sn.az} | ${sn.cidr} |`);
    out.push("");
  }

  out.push("### Policy", "");
  if (p.policy.violations.length === 0) out.push(`All ${p.policy.rules} rules of ${code("policy/")} pass.`, "");
  else for (const v of p.policy.violations) out.push(`- **${v.rule}** (${v.severity}): ${v.message}`);
  if (p.policy.violations.length) out.push("");

  if (p.rendered?.length || p.renderProblems?.length) {
    out.push("### Chart output checked", "");
    const byRelease = new Map<string, string[]>();
    for (const r of p.rendered ?? []) {
      const [release, obj] = r.name.split(":");
      byRelease.set(`${release} in ${r.name.split("@").pop()}`, [
        ...(byRelease.get(`${release} in ${r.name.split("@").pop()}`) ?? []),
        obj.split("@")[0],
      ]);
    }
    for (const [rel, objs] of byRelease) out.push(`- ${code(rel)}: ${objs.map(code).join(", ")}`);
    for (const problem of p.renderProblems ?? []) out.push(`- not rendered: ${problem}`);
    out.push("");
  }

  out.push(`<details><summary>Resources by type (${s.resourceCount})</summary>`, "", "| type | count |", "|---|---:|");
  for (const [t, c] of Object.entries(s.counts)) out.push(`| ${code(t)} | ${c} |`);
  out.push("", "</details>", "");
  out.push(
    `<sub>Offline plan: the real program evaluated under Pulumi mocks (no cloud credentials). ${code(`npm run plan -- --stack ${p.stack}`)}</sub>`,
    "",
  );
  return out.join("\n");
}
