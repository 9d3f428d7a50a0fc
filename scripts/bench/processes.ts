/**
 * Which process used the CPU and memory during the bench: /proc samples of the control plane's
 * components (PIDs from the harness's .kiln/run/<component>.pid), the accountant, the dashboard and the
 * bench itself, and etcd's database size from its /metrics. CPU is cumulative user+system time over the
 * sampled window (a share of one core; the machine has os.cpus().length), RSS the peak seen.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const CLOCK_TICKS = 100;

export interface ProcessFigure {
  readonly name: string;
  readonly pid: number;
  /** Mean CPU over the window, % of one core. */
  readonly cpuPct: number;
  readonly cpuSeconds: number;
  readonly peakRssMiB: number;
}

interface Reading {
  readonly cpuTicks: number;
  readonly rssKiB: number;
}

function read(pid: number): Reading | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name (which may hold spaces) start at the last ')'.
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const cpuTicks = Number(f[11]) + Number(f[12]);
    const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    return { cpuTicks, rssKiB: rss ? Number(rss[1]) : 0 };
  } catch {
    return undefined;
  }
}

/** The harness's components that are running, by name, from their PID files. */
export function harnessPids(runDir: string): Map<string, number> {
  const out = new Map<string, number>();
  if (!fs.existsSync(runDir)) return out;
  for (const f of fs.readdirSync(runDir)) {
    if (!f.endsWith(".pid")) continue;
    const pid = Number(fs.readFileSync(path.join(runDir, f), "utf8").trim());
    if (Number.isInteger(pid) && read(pid)) out.set(f.slice(0, -4), pid);
  }
  return out;
}

export class ProcessSampler {
  private readonly first = new Map<string, { pid: number; at: number; r: Reading }>();
  private readonly last = new Map<string, { at: number; r: Reading }>();
  private readonly peakRss = new Map<string, number>();
  private timer?: NodeJS.Timeout;

  constructor(private readonly pids: () => Map<string, number>) {}

  start(everyMs = 2000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    const now = Date.now();
    for (const [name, pid] of this.pids()) {
      const r = read(pid);
      if (!r) continue;
      if (!this.first.has(name) || this.first.get(name)!.pid !== pid) this.first.set(name, { pid, at: now, r });
      this.last.set(name, { at: now, r });
      this.peakRss.set(name, Math.max(this.peakRss.get(name) ?? 0, r.rssKiB));
    }
  }

  stop(): ProcessFigure[] {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const out: ProcessFigure[] = [];
    for (const [name, f] of this.first) {
      const l = this.last.get(name)!;
      const seconds = (l.at - f.at) / 1000;
      const cpuSeconds = (l.r.cpuTicks - f.r.cpuTicks) / CLOCK_TICKS;
      out.push({
        name,
        pid: f.pid,
        cpuSeconds,
        cpuPct: seconds > 0 ? (100 * cpuSeconds) / seconds : NaN,
        peakRssMiB: (this.peakRss.get(name) ?? 0) / 1024,
      });
    }
    return out.sort((a, b) => b.cpuSeconds - a.cpuSeconds);
  }
}

export const machineCores = () => os.cpus().length;

/** etcd's backend size (bytes allocated, bytes in use) from its metrics endpoint. */
export async function etcdDbSize(metricsUrl: string): Promise<{ totalBytes: number; inUseBytes: number } | undefined> {
  try {
    const text = await (await fetch(metricsUrl)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
    return {
      totalBytes: value("etcd_mvcc_db_total_size_in_bytes"),
      inUseBytes: value("etcd_mvcc_db_total_size_in_use_in_bytes"),
    };
  } catch {
    return undefined;
  }
}
