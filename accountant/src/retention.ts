/**
 * Retention of usage records: a finished calendar month (UTC) rolls up into one record per team, and a
 * per-Job record is pruned once it is final, older than recordRetentionDays, has no time in the current
 * month, every month it has time in is rolled up, and its run has no Job left. ConfigMaps stay bounded:
 * one per Job of the last recordRetentionDays, plus one per team and month.
 */
import { periodOf, type Period } from "../../contract/accounting/budget";
import { runUidOf, type MonthRollup, type UsageRecord } from "../../contract/accounting/record";
import { sumFigures, usageOf } from "../../contract/accounting/usage";

/** Records deleted per team and pass at most: a first pass over a long history stays within its interval. */
export const PRUNE_PER_PASS = 500;

const DAY_MS = 86_400_000;

/** Where a record's time ends: its last span end, or, with a span still open, `now` (the record's `updated` when final). */
function endOf(r: UsageRecord, now: Date): number {
  const until = r.final ? Date.parse(r.updated) : now.getTime();
  return Math.max(...r.spans.map((s) => (s.end === null ? until : Date.parse(s.end))));
}

/** The months (`2026-11`) a record has span time in, oldest first. */
export function monthsOf(r: UsageRecord, now: Date): string[] {
  if (r.spans.length === 0) return [];
  const start = new Date(Math.min(...r.spans.map((s) => Date.parse(s.start))));
  const end = endOf(r, now);
  const out: string[] = [];
  for (let p = periodOf(start); p.from.getTime() < end || out.length === 0; p = periodOf(p.to)) out.push(p.name);
  return out;
}

/** The period of a month name. */
export function periodNamed(month: string): Period {
  return periodOf(new Date(`${month}-01T00:00:00Z`));
}

/** A team's roll-up of a finished month from every record with time in it. */
export function rollUp(
  team: string,
  namespace: string,
  month: string,
  records: readonly UsageRecord[],
  now: Date,
): MonthRollup {
  const p = periodNamed(month);
  const days = Math.round((p.to.getTime() - p.from.getTime()) / DAY_MS);
  const dayParts = Array.from({ length: days }, () => [] as ReturnType<typeof usageOf>[]);
  const monthParts: ReturnType<typeof usageOf>[] = [];
  const runs = new Set<string>();
  let counted = 0;
  for (const r of records) {
    const at = r.final ? new Date(r.updated) : now;
    const u = usageOf(r.spans, at, { region: r.region, from: p.from, to: p.to });
    if (u.gpuHours === 0 && !monthsOf(r, now).includes(month)) continue;
    counted++;
    monthParts.push(u);
    if (u.gpuHours > 0) runs.add(runUidOf(r));
    for (let d = 0; d < days; d++) {
      const from = new Date(p.from.getTime() + d * DAY_MS);
      dayParts[d].push(usageOf(r.spans, at, { region: r.region, from, to: new Date(from.getTime() + DAY_MS) }));
    }
  }
  return {
    version: 1,
    kind: "month",
    team,
    namespace,
    month,
    from: p.from.toISOString(),
    to: p.to.toISOString(),
    runs: runs.size,
    records: counted,
    figures: sumFigures(monthParts),
    days: dayParts.map((parts) => sumFigures(parts)),
    written: now.toISOString(),
  };
}

export interface RetentionPlan {
  /** Roll-ups to write (finished months with time and no roll-up yet). */
  readonly rollups: MonthRollup[];
  /** Records to delete, after the roll-ups are written. */
  readonly prune: UsageRecord[];
}

/**
 * What retention does this pass. `rolledUp`: months already rolled up; `liveRuns`: run UIDs that still have a
 * Job (a JobSet's older attempts stay while the JobSet does).
 */
export function planRetention(
  team: { name: string; namespace: string },
  records: readonly UsageRecord[],
  rolledUp: ReadonlySet<string>,
  liveRuns: ReadonlySet<string>,
  retentionDays: number,
  now: Date,
): RetentionPlan {
  const current = periodOf(now).name;
  const months = new Map<UsageRecord, string[]>(records.map((r) => [r, monthsOf(r, now)]));
  const due = new Set<string>();
  for (const ms of months.values()) for (const m of ms) if (m < current && !rolledUp.has(m)) due.add(m);
  const rollups = [...due].sort().map((m) => rollUp(team.name, team.namespace, m, records, now));
  const covered = new Set([...rolledUp, ...due]);
  const oldest = now.getTime() - retentionDays * DAY_MS;
  const prune = records
    .filter((r) => r.final && Date.parse(r.updated) < oldest && !liveRuns.has(runUidOf(r)))
    .filter((r) => months.get(r)!.every((m) => m < current && covered.has(m)))
    .slice(0, PRUNE_PER_PASS);
  return { rollups, prune };
}
