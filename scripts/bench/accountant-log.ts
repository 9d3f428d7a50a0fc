/**
 * The accountant's per-pass figures from its JSON log (pure: tested in test/scripts/bench/accountant-log.test.ts).
 * Reads either kind of line, whichever the accountant writes:
 *   {"msg":"pass","ms":812,"requests":14,"bytes":90311,...}   the accountant's own line per pass;
 *   {"msg":"bench-http-burst","ms":...,"requests":...,"bytes":...}   scripts/bench/http-meter.ts's line per
 *     burst of API calls (one pass of an accountant that lists every pass and logs no pass line);
 *     `"unfinished":true` marks a pass cut short by the end of the bench.
 * Own pass lines win when present. Other lines (and lines that are not JSON) are skipped.
 */

export interface PassFigure {
  readonly ms: number;
  readonly requests?: number;
  readonly bytes?: number;
}

export interface AccountantFigures {
  readonly source: "pass" | "bench-http-burst" | "none";
  readonly passes: number;
  readonly msP50: number;
  readonly msMax: number;
  readonly requestsMean: number;
  readonly bytesMean: number;
  readonly lastPass?: PassFigure;
  readonly errors: number;
  /** A pass still running when the bench stopped the accountant (counted, with its time so far). */
  readonly unfinished: number;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

export function parseAccountantLog(text: string): AccountantFigures {
  const own: PassFigure[] = [];
  const bursts: PassFigure[] = [];
  let errors = 0;
  let unfinished = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith("{")) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    if (o.level === "error") errors++;
    const ms = num(o.ms);
    if (ms === undefined) continue;
    const figure = { ms, requests: num(o.requests), bytes: num(o.bytes) };
    if (o.msg === "pass") own.push(figure);
    else if (o.msg === "bench-http-burst") bursts.push(figure);
    if (o.unfinished === true) unfinished++;
  }
  const passes = own.length ? own : bursts;
  const source = own.length ? "pass" : bursts.length ? "bench-http-burst" : "none";
  const sorted = passes.map((p) => p.ms).sort((a, b) => a - b);
  const mean = (xs: (number | undefined)[]) => {
    const ok = xs.filter((x): x is number => x !== undefined);
    return ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : NaN;
  };
  return {
    source,
    passes: passes.length,
    msP50: sorted.length ? sorted[Math.ceil(sorted.length / 2) - 1] : NaN,
    msMax: sorted.length ? sorted[sorted.length - 1] : NaN,
    requestsMean: mean(passes.map((p) => p.requests)),
    bytesMean: mean(passes.map((p) => p.bytes)),
    lastPass: passes[passes.length - 1],
    errors,
    unfinished,
  };
}
