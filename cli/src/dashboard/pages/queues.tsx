/** Kueue ClusterQueues: quota, reservation, usage and borrowing per flavor and resource; their LocalQueues. */
import { formatQuantity } from "../quantity";
import type { QueueView } from "../queues";
import { Layout, Meter } from "./layout";

export function QueuesPageView({
  queues,
  scope,
  server,
}: {
  queues: readonly QueueView[];
  scope: string;
  server: string;
}) {
  return (
    <Layout title="Queues" section="queues" scope={scope} server={server}>
      {queues.length === 0 ? <p className="muted">No Kueue ClusterQueues (or no permission to list them).</p> : null}
      {queues.map((q) => (
        <section key={q.name} className="queue" data-queue={q.name}>
          <h2>
            {q.name}
            <span className="muted">
              {" "}
              · cohort {q.cohort ?? "none"} · {q.pending} pending, {q.reserving} reserving, {q.admitted} admitted
            </span>
            {q.stopPolicy !== "None" ? (
              <span className="status Failed">
                {" "}
                held ({q.stopPolicy}){q.holdReason ? `: ${q.holdReason}` : ""}
              </span>
            ) : null}
          </h2>
          <table className="quota">
            <thead>
              <tr>
                <th>Flavor</th>
                <th>Resource</th>
                <th className="num">Nominal</th>
                <th className="num">Borrowing limit</th>
                <th className="num">Lending limit</th>
                <th className="num">Reserved</th>
                <th className="num">Used</th>
                <th className="num">Borrowed</th>
                <th>Use of nominal</th>
              </tr>
            </thead>
            <tbody>
              {q.resources.map((r) => (
                <tr key={`${r.flavor}/${r.resource}`} data-flavor={r.flavor} data-resource={r.resource}>
                  <td>{r.flavor}</td>
                  <td>{r.resource}</td>
                  <td className="num nominal">{formatQuantity(r.resource, r.nominal)}</td>
                  <td className="num">
                    {r.borrowingLimit === null ? "unlimited" : formatQuantity(r.resource, r.borrowingLimit)}
                  </td>
                  <td className="num">{r.lendingLimit === null ? "-" : formatQuantity(r.resource, r.lendingLimit)}</td>
                  <td className="num reserved">{formatQuantity(r.resource, r.reserved)}</td>
                  <td className="num used">{formatQuantity(r.resource, r.used)}</td>
                  <td className="num borrowed">{formatQuantity(r.resource, r.borrowed)}</td>
                  <td>
                    <Meter
                      value={r.used}
                      max={r.nominal}
                      label={`${formatQuantity(r.resource, r.used)} of ${formatQuantity(r.resource, r.nominal)}`}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {q.localQueues.length ? (
            <p className="muted">
              LocalQueues:{" "}
              {q.localQueues.map((l, i) => (
                <span key={`${l.namespace}/${l.name}`}>
                  {i > 0 ? ", " : ""}
                  <a href={`/?namespace=${encodeURIComponent(l.namespace)}&status=Queued`}>
                    {l.namespace}/{l.name}
                  </a>{" "}
                  ({l.pending} pending, {l.admitted} admitted)
                </span>
              ))}
            </p>
          ) : null}
        </section>
      ))}
    </Layout>
  );
}
