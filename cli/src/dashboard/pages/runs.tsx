/** The runs list: filters (status, namespace, name), one page of runs, links to the next pages. */
import { age, fixed, usd } from "../format";
import { PHASES, type RunFilter } from "../runs";
import type { RunListRow, RunsPage } from "../service";
import { Layout, Notes } from "./layout";

export interface RunsPageProps {
  readonly data: RunsPage;
  readonly filter: RunFilter;
  readonly now: Date;
  readonly scope: string;
  readonly server: string;
}

/** This page's query string with `changes` applied (empty values dropped). */
export function query(filter: RunFilter, size: number, page: number): string {
  const q = new URLSearchParams();
  if (filter.phase) q.set("status", filter.phase);
  if (filter.namespace) q.set("namespace", filter.namespace);
  if (filter.name) q.set("q", filter.name);
  if (page > 1) q.set("page", String(page));
  if (size !== 50) q.set("size", String(size));
  const s = q.toString();
  return s ? `?${s}` : "";
}

export const runHref = (r: { namespace: string; name: string }) =>
  `/runs/${encodeURIComponent(r.namespace)}/${encodeURIComponent(r.name)}`;

function Row({ r, now }: { r: RunListRow; now: Date }) {
  return (
    <tr data-run={`${r.namespace}/${r.name}`}>
      <td>{r.namespace}</td>
      <td>
        <a href={runHref(r)}>{r.name}</a>
      </td>
      <td>
        <span className={`status ${r.phase}`}>{r.status}</span>
        {r.waitReason ? <div className="reason">{r.waitReason}</div> : null}
      </td>
      <td>{r.queue ? `${r.queue}${r.clusterQueue ? ` → ${r.clusterQueue}` : ""}` : "-"}</td>
      <td className="num">{r.position ?? "-"}</td>
      <td className="num">
        {r.kind === "JobSet" && r.nodes > 1
          ? `${r.gpus * r.nodes} (${r.nodes} nodes × ${r.gpus})`
          : r.completions > 1
            ? `${r.gpus}×${r.completions}`
            : r.gpus}
      </td>
      <td>{r.pool ?? "-"}</td>
      <td>{age(r.created, now)}</td>
      <td>{r.bestMetric ?? "-"}</td>
      <td className="num">{fixed(r.usage?.gpuHours, 2)}</td>
      <td className="num">{usd(r.usage?.usd)}</td>
    </tr>
  );
}

export function RunsPageView({ data, filter, now, scope, server }: RunsPageProps) {
  const { page } = data;
  const total = Object.values(data.counts).reduce((s, n) => s + (n ?? 0), 0);
  return (
    <Layout title="Runs" section="runs" scope={scope} server={server}>
      <form className="filters" method="get" action="/">
        <label>
          Status
          <select name="status" defaultValue={filter.phase ?? ""}>
            <option value="">all ({total})</option>
            {PHASES.map((p) => (
              <option key={p} value={p}>
                {p} ({data.counts[p] ?? 0})
              </option>
            ))}
          </select>
        </label>
        <label>
          Namespace
          <select name="namespace" defaultValue={filter.namespace ?? ""}>
            <option value="">all</option>
            {data.namespaces.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <label>
          Name contains
          <input type="search" name="q" defaultValue={filter.name ?? ""} />
        </label>
        <input type="hidden" name="size" value={page.size} />
        <button type="submit">Filter</button>
      </form>
      <Notes notes={data.notes} />
      <Pager data={data} filter={filter} />
      {page.items.length === 0 ? (
        <p className="muted" id="no-runs">
          No runs match.
        </p>
      ) : (
        <table id="runs">
          <thead>
            <tr>
              <th>Namespace</th>
              <th>Name</th>
              <th>Status</th>
              <th>Queue</th>
              <th
                className="num"
                title="place among the ClusterQueue's waiting workloads, in Kueue's order: higher priority first, then older"
              >
                Position
              </th>
              <th className="num">GPUs</th>
              <th>Pool</th>
              <th>Age</th>
              <th>Best metric</th>
              <th className="num">GPU-hours</th>
              <th className="num">Cost</th>
            </tr>
          </thead>
          <tbody>
            {page.items.map((r) => (
              <Row key={`${r.namespace}/${r.name}`} r={r} now={now} />
            ))}
          </tbody>
        </table>
      )}
      <Pager data={data} filter={filter} />
    </Layout>
  );
}

function Pager({ data, filter }: { data: RunsPage; filter: RunFilter }) {
  const { page } = data;
  return (
    <div className="pager">
      {page.page > 1 ? (
        <a href={`/${query(filter, page.size, page.page - 1)}`} rel="prev">
          ← newer
        </a>
      ) : null}
      <span className="page-info">
        page {page.page} of {page.pages} · {page.total} runs
      </span>
      {page.page < page.pages ? (
        <a href={`/${query(filter, page.size, page.page + 1)}`} rel="next">
          older →
        </a>
      ) : null}
    </div>
  );
}
