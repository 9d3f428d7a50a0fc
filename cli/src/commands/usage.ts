/** `kubectl kiln usage [--team T] [--since 7d|month]`: GPU-hours, dollars, energy and CO2e per team, and budgets. */
import type { Command } from "commander";
import { validateDnsLabel } from "../job";
import { type Deps, globalsOf, Session } from "../context";
import { explainApiError, statusCode, UsageError } from "../errors";
import { formatObject, renderTable, type OutputFormat } from "../output";
import { formatAmount } from "../../../contract/accounting/budget";
import { formatGpuHours, formatUsd, parseSince, usageOfTeams, type TeamUsage } from "../usage";
import { outputOption } from "./common";

interface UsageFlags {
  team?: string;
  since: string;
  output: OutputFormat;
}

export const USAGE_HEADER = [
  "TEAM",
  "NAMESPACE",
  "RUNS",
  "GPU-HOURS",
  "COST",
  "ENERGY-KWH",
  "CO2E-KG",
  "BUDGET",
] as const;

/** The BUDGET cell: `12.00 of 100.00 GPU-hours (2026-12)`, `HELD: ...`, or `-`. */
export function budgetCell(t: TeamUsage): string {
  const b = t.budget;
  if (!b) return "-";
  return `${b.held ? "HELD " : ""}${formatAmount(b.unit, b.spent)} of ${formatAmount(b.unit, b.limit)} (${b.period})`;
}

export function usageRow(t: TeamUsage): string[] {
  return [
    t.team,
    t.namespace,
    String(t.runs),
    formatGpuHours(t.gpuHours),
    formatUsd(t.usd),
    t.kWh.toPrecision(3),
    t.co2eKg.toPrecision(3),
    budgetCell(t),
  ];
}

export function registerUsage(program: Command, deps: Deps): void {
  program
    .command("usage")
    .description(
      "GPU-hours, estimated dollars, energy and CO2e per team (every run: finished, failed, cancelled, sweep indices), and budgets",
    )
    .option("--team <team>", "only this team")
    .option("--since <window>", "window: 90m, 24h, 7d, or month (this calendar month, UTC, the budget period)", "month")
    .addOption(outputOption())
    .action(async (flags: UsageFlags, cmd: Command) => {
      const now = deps.now();
      const since = parseSince(flags.since, now);
      if (!since)
        throw new UsageError(`--since "${flags.since}" must be a number with m, h or d (90m, 24h, 7d), or month`);
      if (flags.team !== undefined) validateDnsLabel("--team", flags.team);
      const globals = globalsOf(cmd);
      const session = new Session(deps, globals);
      const api = session.api;
      // -n narrows to one namespace; otherwise every namespace the user may read records in.
      let namespaces: string[] | undefined = globals.namespace ? [globals.namespace] : undefined;
      let teams: TeamUsage[];
      try {
        try {
          teams = await usageOfTeams(api, { namespaces, team: flags.team, since, now });
        } catch (err) {
          if (namespaces || statusCode(err) !== 403) throw err;
          namespaces = [session.namespace];
          deps.io.err(
            `note: you may not list usage records in every namespace; showing namespace ${session.namespace} (use -n)\n`,
          );
          teams = await usageOfTeams(api, { namespaces, team: flags.team, since, now });
        }
      } catch (err) {
        throw explainApiError(err, {
          attempting: "reading usage records",
          server: api.server,
          namespace: session.namespace,
        });
      }
      const window = { since: since.toISOString(), until: now.toISOString() };
      if (flags.output !== "table") {
        deps.io.out(formatObject({ ...window, teams }, flags.output));
        return;
      }
      if (teams.length === 0) {
        deps.io.err(`No usage recorded${flags.team ? ` for team ${flags.team}` : ""} since ${window.since}.\n`);
        return;
      }
      deps.io.out(renderTable(USAGE_HEADER, teams.map(usageRow)));
      for (const t of teams) if (t.budget?.held) deps.io.err(`note: ${t.budget.reason}\n`);
    });
}
