/** Team usage this month against budget (cli/src/usage.ts sums it; the accountant holds a team's queue when spent). */
import type { TeamUsage } from "../accounting";
import { fixed, usd } from "../format";
import { Layout, Meter } from "./layout";

export interface TeamsPageProps {
  readonly usage: { teams: TeamUsage[]; since: Date } | null;
  readonly scope: string;
  readonly server: string;
}

const budgetText = (t: TeamUsage) => {
  const b = t.budget!;
  const f = (v: number) => (b.unit === "usd" ? usd(v) : `${fixed(v, 1)} GPU-h`);
  return `${f(b.spent)} of ${f(b.limit)} (${b.period})`;
};

export function TeamsPageView({ usage, scope, server }: TeamsPageProps) {
  return (
    <Layout title="Team usage" section="teams" scope={scope} server={server}>
      {usage === null ? (
        <p className="notes">Accounting is not available in this build of the plugin.</p>
      ) : (
        <>
          <p className="muted">Since {usage.since.toISOString().slice(0, 10)} (this calendar month, UTC).</p>
          <table id="teams">
            <thead>
              <tr>
                <th>Team</th>
                <th>Namespace</th>
                <th className="num">Runs</th>
                <th className="num">GPU-hours</th>
                <th className="num">Cost</th>
                <th className="num">kWh</th>
                <th className="num">kg CO2e</th>
                <th>Budget</th>
              </tr>
            </thead>
            <tbody>
              {usage.teams.map((t) => (
                <tr key={t.team} data-team={t.team}>
                  <td>{t.team}</td>
                  <td>{t.namespace}</td>
                  <td className="num">{t.runs}</td>
                  <td className="num">{fixed(t.gpuHours, 2)}</td>
                  <td className="num">{usd(t.usd)}</td>
                  <td className="num">{fixed(t.kWh, 2)}</td>
                  <td className="num">{fixed(t.co2eKg, 2)}</td>
                  <td>
                    {t.budget ? (
                      <>
                        <Meter value={t.budget.spent} max={t.budget.limit} label={budgetText(t)} />
                        {budgetText(t)}
                        {t.budget.held ? (
                          <div className="status Failed">held{t.budget.reason ? `: ${t.budget.reason}` : ""}</div>
                        ) : null}
                      </>
                    ) : (
                      <span className="muted">no budget</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </Layout>
  );
}
