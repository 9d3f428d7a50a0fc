/** One run: facts, why it waits, live training curves (client script), outputs in the store, pods and conditions. */
import type { ReactNode } from "react";
import { GPU_POOL_LABEL } from "../../../../contract/gpu";
import { podOutcome } from "../../commands/status";
import { isJobSet } from "../../runs";
import { ARTIFACTS } from "../artifacts";
import { age, fixed, usd } from "../format";
import type { RunDetail } from "../service";
import { Layout } from "./layout";
import { runHref } from "./runs";

export interface RunPageProps {
  readonly detail: RunDetail;
  readonly now: Date;
  readonly scope: string;
  readonly server: string;
}

const withIndex = (href: string, index: number | null) => (index === null ? href : `${href}?index=${index}`);

function Facts({ detail, now }: { detail: RunDetail; now: Date }) {
  const { row, job } = detail;
  const u = row.usage;
  const facts: [string, ReactNode][] = [
    ["Namespace", row.namespace],
    [
      "Status",
      <span key="status" className={`status ${row.phase}`}>
        {row.status}
      </span>,
    ],
    ["Created", row.created ? `${row.created} (${age(row.created, now)} ago)` : "-"],
    [
      "Queue",
      row.queue ? `${row.queue} → ${row.clusterQueue ?? "?"}${row.position ? ` (position ${row.position})` : ""}` : "-",
    ],
    [
      "GPUs",
      row.gpus > 0
        ? `${row.gpus} per ${row.kind === "JobSet" ? `node x ${row.nodes} = ${row.gpus * row.nodes}` : "pod"}${row.pool ? `, pool ${row.pool}` : ""}`
        : "0 (CPU run)",
    ],
    ["Best metric", row.bestMetric ?? "-"],
    ["GPU-hours", u ? fixed(u.gpuHours, 3) : "-"],
    ["Cost", u ? `${usd(u.usd)}${u.instanceType ? ` (${u.instanceType}, ${u.capacityType ?? "?"})` : ""}` : "-"],
    ["Energy", u ? `${fixed(u.kWh, 3)} kWh, ${fixed(u.co2eKg, 3)} kg CO2e` : "-"],
  ];
  if (u?.basis.length) facts.push(["Basis", u.basis.join("; ")]);
  if (isJobSet(job)) {
    facts.push(
      ["Nodes", String(row.nodes)],
      ["Restarts", String(row.restarts)],
      ["Image", job.spec.replicatedJobs[0]?.template.spec.template.spec?.containers[0]?.image ?? "-"],
    );
  } else if (job.spec?.completionMode === "Indexed") {
    const s = job.status;
    facts.push([
      "Sweep",
      `${job.spec.completions ?? 1} points, parallelism ${job.spec.parallelism ?? 1}: ${s?.succeeded ?? 0} succeeded, ${s?.failed ?? 0} failed, ${s?.active ?? 0} running`,
    ]);
  }
  return (
    <dl className="facts" id="facts">
      {facts.map(([k, v]) => [<dt key={`${k}-t`}>{k}</dt>, <dd key={`${k}-d`}>{v}</dd>])}
    </dl>
  );
}

function SweepPoints({ detail }: { detail: RunDetail }) {
  const job = detail.job;
  const ranks = isJobSet(job);
  const n = ranks ? detail.row.nodes : job.spec?.completionMode === "Indexed" ? (job.spec.completions ?? 1) : 0;
  if (n <= 1) return null;
  return (
    <p>
      {ranks ? "Rank (its log, current restart attempt)" : "Sweep point"}:{" "}
      {Array.from({ length: Math.min(n, 200) }, (_, i) =>
        // The position is the rank or sweep point itself: the link's identity, never reordered.
        i === detail.index ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the index is the rank or sweep point
          <strong key={i}> {i} </strong>
        ) : (
          // biome-ignore lint/suspicious/noArrayIndexKey: the index is the rank or sweep point
          <a key={i} href={withIndex(runHref(detail.row), i)}>
            {" "}
            {i}{" "}
          </a>
        ),
      )}
    </p>
  );
}

function Curve({ detail }: { detail: RunDetail }) {
  const { curve, row } = detail;
  const src = withIndex(`/api${runHref(row)}/curve`, detail.index);
  const last = curve.epochs.slice(-10);
  const live = !["Succeeded", "Failed"].includes(row.phase);
  return (
    <section>
      <h2>Training curves</h2>
      {detail.logNote ? <p className="muted">{detail.logNote}</p> : null}
      {curve.error ? <p className="notes">trainer: {curve.error}</p> : null}
      <div id="curve" data-src={src} data-live={live ? "true" : "false"} data-epochs={curve.epochs.length} />
      {last.length ? (
        <table id="epochs">
          <thead>
            <tr>
              <th className="num">Epoch</th>
              <th className="num">Loss</th>
              <th className="num">Val loss</th>
              {curve.metrics.map((m) => (
                <th key={m} className="num">
                  {m}
                </th>
              ))}
              <th className="num">ms/step</th>
            </tr>
          </thead>
          <tbody>
            {last.map((e) => (
              <tr key={e.epoch}>
                <td className="num">{e.epoch}</td>
                <td className="num">{fixed(e.loss, 4)}</td>
                <td className="num">{fixed(e.val_loss, 4)}</td>
                {curve.metrics.map((m) => (
                  <td key={m} className="num">
                    {fixed(e.metrics?.[m], 4)}
                  </td>
                ))}
                <td className="num">{fixed(e.msPerStep, 1)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {curve.epochs.length > last.length ? (
        <p className="muted">
          last {last.length} of {curve.epochs.length} epochs
        </p>
      ) : null}
    </section>
  );
}

function Outputs({ detail }: { detail: RunDetail }) {
  const { store } = detail;
  const base = `${runHref(detail.row)}/artifacts`;
  const test = (store.metrics?.test ?? null) as Record<string, unknown> | null;
  return (
    <section id="outputs">
      <h2>Outputs</h2>
      <p>
        Store: <code>{store.uri ?? "unknown"}</code>
        {store.run ? (
          <>
            {" "}
            · run.json status <strong id="store-status">{String(store.run.status)}</strong>, attempts{" "}
            {String(store.run.attempts ?? "-")}
          </>
        ) : null}
      </p>
      {store.note ? <p className="notes">{store.note}</p> : null}
      {test ? (
        <table id="test-metrics">
          <tbody>
            {Object.entries(test)
              .filter(([, v]) => typeof v === "number")
              .map(([k, v]) => (
                <tr key={k}>
                  <th>{k}</th>
                  <td className="num">{fixed(v as number, 4)}</td>
                </tr>
              ))}
          </tbody>
        </table>
      ) : null}
      {store.uri ? (
        <ul>
          {Object.keys(ARTIFACTS).map((k) => (
            <li key={k}>
              <a href={withIndex(`${base}/${k}`, detail.index)}>{k}</a>
            </li>
          ))}
        </ul>
      ) : null}
      {store.run?.status === "succeeded" ? (
        <iframe className="report" title="report" sandbox="" src={withIndex(`${base}/report.html`, detail.index)} />
      ) : null}
    </section>
  );
}

export function RunPageView({ detail, now, scope, server }: RunPageProps) {
  const { job, pods, workload } = detail;
  const conditions = [
    ...(job.status?.conditions ?? []).map((c) => ({ of: isJobSet(job) ? "JobSet" : "Job", ...c })),
    ...(workload?.status?.conditions ?? []).map((c) => ({ of: "Workload", ...c })),
  ];
  return (
    <Layout
      title={detail.row.name}
      section="runs"
      scope={scope}
      server={server}
      head={
        <>
          <link rel="stylesheet" href="/assets/dashboard.css" />
          <script defer src="/assets/dashboard.js" />
        </>
      }
    >
      {detail.row.waitReason ? (
        <p className="notes" id="wait-reason">
          Waiting: {detail.row.waitReason}
        </p>
      ) : null}
      <Facts detail={detail} now={now} />
      <SweepPoints detail={detail} />
      <Curve detail={detail} />
      <Outputs detail={detail} />
      <h2>Pods</h2>
      {pods.length ? (
        <table id="pods">
          <thead>
            <tr>
              <th>Name</th>
              <th>Phase</th>
              <th>Node</th>
              <th>Age</th>
              <th>Trainer</th>
            </tr>
          </thead>
          <tbody>
            {pods.map((p) => (
              <tr key={p.metadata?.name}>
                <td>{p.metadata?.name}</td>
                <td>{p.status?.phase ?? "?"}</td>
                <td>
                  {p.spec?.nodeName ?? "<none>"}
                  {p.spec?.nodeSelector?.[GPU_POOL_LABEL] ? (
                    <span className="muted"> ({p.spec.nodeSelector[GPU_POOL_LABEL]})</span>
                  ) : null}
                </td>
                <td>
                  {age(
                    p.metadata?.creationTimestamp ? new Date(p.metadata.creationTimestamp).toISOString() : null,
                    now,
                  )}
                </td>
                <td>{podOutcome(p)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">none yet</p>
      )}
      {conditions.length ? (
        <>
          <h2>Conditions</h2>
          <table id="conditions">
            <thead>
              <tr>
                <th>Of</th>
                <th>Type</th>
                <th>Status</th>
                <th>Reason</th>
                <th>Message</th>
              </tr>
            </thead>
            <tbody>
              {conditions.map((c) => (
                <tr key={`${c.of}/${c.type}`}>
                  <td>{c.of}</td>
                  <td>{c.type}</td>
                  <td>{c.status}</td>
                  <td>{c.reason ?? ""}</td>
                  <td className="reason">{c.message ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </Layout>
  );
}
