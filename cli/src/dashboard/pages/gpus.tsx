/** GPU allocation per pool: allocatable nvidia.com/gpu of the pool's nodes against what bound pods request. */
import type { PoolAllocation } from "../pools";
import { Layout, Meter } from "./layout";

export function GpusPageView({
  pools,
  scope,
  server,
}: {
  pools: readonly PoolAllocation[];
  scope: string;
  server: string;
}) {
  return (
    <Layout title="GPU allocation" section="gpus" scope={scope} server={server}>
      {pools.length === 0 ? (
        <p className="muted">No nodes labelled kiln.dev/gpu-pool (Karpenter starts them on demand).</p>
      ) : null}
      {pools.length ? (
        <table id="pools">
          <thead>
            <tr>
              <th>Pool</th>
              <th className="num">Nodes</th>
              <th className="num">Allocatable</th>
              <th className="num">Requested</th>
              <th className="num">Free</th>
              <th>Allocation</th>
            </tr>
          </thead>
          <tbody>
            {pools.map((p) => (
              <tr key={p.pool} data-pool={p.pool}>
                <td>{p.pool}</td>
                <td className="num">{p.nodes.length}</td>
                <td className="num allocatable">{p.allocatable}</td>
                <td className="num requested">{p.requested}</td>
                <td className="num">{Math.max(0, p.allocatable - p.requested)}</td>
                <td>
                  <Meter
                    value={p.requested}
                    max={p.allocatable}
                    label={`${p.requested} of ${p.allocatable} GPUs requested`}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {pools.map((p) => (
        <section key={p.pool}>
          <h2>Pool {p.pool}</h2>
          <table className="nodes">
            <thead>
              <tr>
                <th>Node</th>
                <th>Ready</th>
                <th className="num">Allocatable</th>
                <th className="num">Requested</th>
                <th className="num">GPU pods</th>
              </tr>
            </thead>
            <tbody>
              {p.nodes.map((n) => (
                <tr key={n.name}>
                  <td>
                    {n.name}
                    {n.simulated ? <span className="muted"> (simulated, KWOK)</span> : null}
                  </td>
                  <td>{n.ready ? "yes" : "no"}</td>
                  <td className="num">{n.allocatable}</td>
                  <td className="num">{n.requested}</td>
                  <td className="num">{n.pods}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      ))}
    </Layout>
  );
}
