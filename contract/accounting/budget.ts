/**
 * Budgets: a team's GPU-hours or dollars per calendar month (UTC). When the month's spend reaches the
 * budget the team's ClusterQueue is held (Kueue `stopPolicy: Hold`: nothing new is admitted, admitted
 * work runs to its end); the next month releases it.
 */
import type { Figures } from "./usage";

export type BudgetUnit = "gpuHours" | "usd";

export interface Budget {
  readonly unit: BudgetUnit;
  readonly limit: number;
}

export interface Period {
  /** `2026-12` */
  readonly name: string;
  readonly from: Date;
  readonly to: Date;
}

/** The calendar month (UTC) that holds `now`. */
export function periodOf(now: Date): Period {
  const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
  const to = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return { name: from.toISOString().slice(0, 7), from, to };
}

/** What the plugin and the dashboard show of a team's budget (the kiln-budget ConfigMap's JSON). */
export interface BudgetStatus {
  readonly team: string;
  readonly unit: BudgetUnit;
  readonly limit: number;
  readonly spent: number;
  readonly period: string;
  readonly held: boolean;
  /** Why new runs wait, when held. */
  readonly reason: string | null;
  /** The spend of the period in every unit. */
  readonly figures: Figures;
}

/** `$12.30`, `1.50 GPU-hours`; amounts under 0.1 keep two significant digits (`0.0022 GPU-hours`). */
export function formatAmount(unit: BudgetUnit, v: number): string {
  const n = v !== 0 && Math.abs(v) < 0.1 ? v.toPrecision(2) : v.toFixed(2);
  return unit === "usd" ? `$${n}` : `${n} GPU-hours`;
}

/** The budget status of a team given its spend in `period`. */
export function budgetStatus(team: string, budget: Budget, period: Period, spend: Figures): BudgetStatus {
  // Unpriced usage (an instance type missing from the table) cannot count against a dollar budget.
  const spent = budget.unit === "usd" ? (spend.usd ?? 0) : spend.gpuHours;
  const held = spent >= budget.limit;
  const reason = held
    ? `team ${team} has used ${formatAmount(budget.unit, spent)} of its ${formatAmount(budget.unit, budget.limit)} budget for ${period.name}: new runs wait until ${period.to.toISOString().slice(0, 10)} (running runs finish)`
    : null;
  return {
    team,
    unit: budget.unit,
    limit: budget.limit,
    spent: Number(spent.toFixed(6)),
    period: period.name,
    held,
    reason,
    figures: spend,
  };
}
