/**
 * The statistics pass's fast path for plain CSV: bytes split into fields and decimal numbers parsed in place,
 * without a string per cell. Plain means ASCII, no quotes, no whitespace around fields, no control characters,
 * the header's number of fields on every line, and "\n" or "\r\n" endings. On anything else the scanner stops
 * before that line and the caller hands the rest of the shard to csv-parse (the same rules, slower). The
 * record rules (csv-lines.ts) hold on both paths, and a property test holds the two to identical results.
 */
import type { Readable } from "node:stream";
import { canonicalLabel, DataError, FLOAT32_MAX, isMissing, type ParsedRecord } from "./data";
import { mixedEndings, recordTooLong, type LineEnding } from "./csv-lines";
import type { RunSpec } from "./spec";

/**
 * Complete plain lines of one buffer: `count` records of `cols` fields. Field f of record r is buf[starts, ends);
 * when it is a decimal number its value is in `values` with kind NUMBER, else kind TEXT (empty, a missing marker,
 * a category, or a bad value: the consumer decides from the text). `hashes` holds each record's hashRecord
 * value with seed `seed`.
 */
export interface PlainRows {
  readonly buf: Buffer;
  readonly starts: Int32Array;
  readonly ends: Int32Array;
  readonly values: Float64Array;
  readonly kinds: Uint8Array;
  readonly hashes: Uint32Array;
  readonly count: number;
}

export const NUMBER = 0;
export const TEXT = 1;

const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

class Offsets {
  starts = new Int32Array(0);
  ends = new Int32Array(0);
  values = new Float64Array(0);
  kinds = new Uint8Array(0);
  hashes = new Uint32Array(0);

  ensure(records: number, cols: number): void {
    if (this.hashes.length >= records) return;
    const n = Math.max(records, this.hashes.length * 2, 1024);
    const grow = <T extends Int32Array | Float64Array | Uint8Array | Uint32Array>(
      old: T,
      make: (k: number) => T,
      k: number,
    ): T => {
      const out = make(k);
      out.set(old as never);
      return out;
    };
    this.starts = grow(this.starts, (k) => new Int32Array(k), n * cols);
    this.ends = grow(this.ends, (k) => new Int32Array(k), n * cols);
    this.values = grow(this.values, (k) => new Float64Array(k), n * cols);
    this.kinds = grow(this.kinds, (k) => new Uint8Array(k), n * cols);
    this.hashes = grow(this.hashes, (k) => new Uint32Array(k), n);
  }
}

/** Scanner state carried from one buffer to the next. */
interface ScanState {
  readonly name: string;
  readonly columns: readonly string[];
  readonly limit: number;
  readonly seedHash: number;
  line: number;
  style: LineEnding | undefined;
  header: boolean;
}

/**
 * The whole plain lines of `data` into `o` (a plain function, not the generator: V8 keeps its locals in
 * registers). Returns the records read, the bytes consumed (whole lines) and whether it stopped at a line that
 * is not plain (`odd`).
 */
function scanLines(
  data: Buffer,
  o: Offsets,
  st: ScanState,
): { count: number; pos: number; odd: boolean; error?: DataError } {
  const cols = st.columns.length;
  const { limit, name } = st;
  let count = 0;
  let pos = 0;
  const n = data.length;
  while (pos < n) {
    o.ensure(count + 1, cols);
    const { starts, ends, values, kinds } = o;
    const base = count * cols;
    let f = 0;
    let i = pos;
    let end = -1;
    let plain = true;
    let h = st.seedHash;
    // Field by field: [sign] digits [. digits] [e [sign] digits] (data.ts's DECIMAL), then a delimiter; a
    // field with anything else is text. Every byte goes into the record's hash (hashRecord, rng.ts).
    for (;;) {
      const fieldStart = i;
      let mant = 0;
      let scale = 0;
      let digits = 0;
      let exact = true;
      let neg = false;
      let ex = 0;
      let eneg = false;
      let number = true;
      let b = i < n ? data[i] : -1;
      if (b === 0x2d || b === 0x2b) {
        neg = b === 0x2d;
        h = Math.imul(h ^ b, 0x01000193);
        b = ++i < n ? data[i] : -1;
      }
      while (b >= 0x30 && b <= 0x39) {
        h = Math.imul(h ^ b, 0x01000193);
        // At most 15 digits (leading zeros included) stay below 2^53: exact. Beyond, Number() reads it.
        if (digits < 15) mant = mant * 10 + (b - 0x30);
        else exact = false;
        digits++;
        b = ++i < n ? data[i] : -1;
      }
      if (b === 0x2e) {
        h = Math.imul(h ^ b, 0x01000193);
        b = ++i < n ? data[i] : -1;
        while (b >= 0x30 && b <= 0x39) {
          h = Math.imul(h ^ b, 0x01000193);
          if (digits < 15) {
            mant = mant * 10 + (b - 0x30);
            scale--;
          } else if (b !== 0x30) exact = false;
          digits++;
          b = ++i < n ? data[i] : -1;
        }
      }
      if (digits === 0) number = false;
      else if (b === 0x65 || b === 0x45) {
        h = Math.imul(h ^ b, 0x01000193);
        b = ++i < n ? data[i] : -1;
        if (b === 0x2d || b === 0x2b) {
          eneg = b === 0x2d;
          h = Math.imul(h ^ b, 0x01000193);
          b = ++i < n ? data[i] : -1;
        }
        let edigits = 0;
        while (b >= 0x30 && b <= 0x39) {
          h = Math.imul(h ^ b, 0x01000193);
          if (ex < 100000) ex = ex * 10 + (b - 0x30);
          edigits++;
          b = ++i < n ? data[i] : -1;
        }
        if (edigits === 0) number = false;
      }
      // Anything else up to the delimiter makes the field text.
      while (b !== -1 && b !== COMMA && b !== LF && b !== CR) {
        number = false;
        if (b < SPACE || b >= 0x7f || b === 0x22) plain = false;
        h = Math.imul(h ^ b, 0x01000193);
        b = ++i < n ? data[i] : -1;
      }
      if (b === -1) break; // the line goes on in the next chunk
      if (b === CR) {
        if (i + 1 === n) break; // its meaning depends on the next chunk
        if (data[i + 1] !== LF) {
          plain = false;
          break;
        }
      }
      if (f < cols) {
        const k = base + f;
        starts[k] = fieldStart;
        ends[k] = i;
        if (number) {
          const sc = scale + (eneg ? -ex : ex);
          if (exact && sc <= 22 && sc >= -22) {
            const v = sc >= 0 ? mant * POW10[sc] : mant / POW10[-sc];
            values[k] = neg ? -v : v;
          } else values[k] = Number(data.toString("latin1", fieldStart, i));
          kinds[k] = NUMBER;
        } else kinds[k] = TEXT;
        if (i > fieldStart && (data[fieldStart] === SPACE || data[i - 1] === SPACE)) plain = false;
      }
      f++;
      if (b !== COMMA) {
        end = b === CR ? i + 1 : i;
        break;
      }
      h = Math.imul(h ^ 0x1f, 0x01000193);
      i++;
    }
    if (!plain) return { count, pos, odd: true };
    if (end < 0) {
      if (i - pos > limit) return { count, pos, odd: false, error: recordTooLong(name, st.line, limit) };
      return { count, pos, odd: false };
    }
    const crlf = end > pos && data[end - 1] === CR;
    const lineEnd = crlf ? end - 1 : end;
    if (lineEnd - pos > limit) return { count, pos, odd: false, error: recordTooLong(name, st.line, limit) };
    const kind: LineEnding = crlf ? "\\r\\n" : "\\n";
    if (st.style === undefined) st.style = kind;
    else if (kind !== st.style) return { count, pos, odd: false, error: mixedEndings(name, st.line, st.style, kind) };
    if (lineEnd > pos) {
      if (f !== cols) return { count, pos, odd: true };
      if (!st.header) {
        st.header = true;
        for (let k = 0; k < cols; k++)
          if (data.toString("latin1", starts[base + k], ends[base + k]) !== st.columns[k])
            return { count, pos, odd: true };
      } else {
        h = Math.imul(h ^ 0x1f, 0x01000193);
        h ^= h >>> 16;
        h = Math.imul(h, 0x85ebca6b);
        h ^= h >>> 13;
        h = Math.imul(h, 0xc2b2ae35);
        h ^= h >>> 16;
        o.hashes[count] = h >>> 0;
        count++;
      }
    }
    st.line++;
    pos = end + 1;
  }
  return { count, pos, odd: false };
}

/**
 * The data records of a plain CSV stream in batches (the header line is compared with `columns`); one loop
 * over each byte splits the fields, hashes the record and parses decimal numbers. The return value is the
 * number of records yielded when the scan stopped at a line that is not plain, or undefined when it read the
 * whole stream. Throws the csv-lines errors (too long, mixed endings) exactly where csv-parse's guard would.
 */
export async function* plainCsvBatches(
  source: Readable,
  name: string,
  columns: readonly string[],
  limit: number,
  seed: number,
): AsyncGenerator<PlainRows, number | undefined> {
  const st: ScanState = {
    name,
    columns,
    limit,
    seedHash: (0x811c9dc5 ^ seed) >>> 0,
    line: 1,
    style: undefined,
    header: false,
  };
  let carry: Buffer | undefined;
  let yielded = 0;
  // Reused: the consumer is done with a batch before it asks for the next one.
  const o = new Offsets();
  try {
    for await (const chunk of source) {
      const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      const data = carry?.length ? Buffer.concat([carry, bytes]) : bytes;
      const { count, pos, odd, error } = scanLines(data, o, st);
      // The records before a refused line come first, as from csv-parse behind its line guard.
      if (count)
        yield { buf: data, starts: o.starts, ends: o.ends, values: o.values, kinds: o.kinds, hashes: o.hashes, count };
      yielded += count;
      if (error) throw error;
      if (odd) return yielded;
      carry = pos < data.length ? Buffer.from(data.subarray(pos)) : undefined;
    }
    if (carry?.length) {
      // The last line has no ending: close it with the file's style.
      const data = Buffer.concat([carry, Buffer.from(st.style === "\\r\\n" ? "\r\n" : "\n")]);
      const { count, odd, error } = scanLines(data, o, st);
      if (count)
        yield { buf: data, starts: o.starts, ends: o.ends, values: o.values, kinds: o.kinds, hashes: o.hashes, count };
      yielded += count;
      if (error) throw error;
      if (odd) return yielded;
    }
    return undefined;
  } catch (err) {
    // A read error (connection reset, bad gzip), said as csvBatches says it.
    if (err instanceof DataError) throw err;
    throw new DataError(`${name}: not a readable CSV: ${(err as Error).message}`);
  } finally {
    source.destroy();
  }
}

/** Whether buf[s, e) is a missing marker (isMissing on bytes: only short cells that start like one are checked). */
export function missingBytes(buf: Buffer, s: number, e: number): boolean {
  if (e === s) return true;
  if (e - s > 4) return false;
  const b = buf[s] | 0x20;
  if (b !== 0x6e && b !== 0x61 && buf[s] !== 0x3f) return false; // n, a, ?
  return isMissing(buf.toString("latin1", s, e));
}

/**
 * RecordParser.parse for a plain record: the same values, drop reasons and refusals. undefined when the record
 * needs RecordParser itself (a value that is not a decimal number, or overflows float32: it throws the error).
 */
export class PlainRecordParser {
  private readonly featureIdx: number[];
  private readonly isCategorical: boolean[];
  private readonly targetIdx: number;

  constructor(
    private readonly spec: RunSpec,
    columns: readonly string[],
    private readonly features: readonly string[],
    categorical: ReadonlySet<string>,
  ) {
    this.featureIdx = features.map((c) => columns.indexOf(c));
    this.isCategorical = features.map((c) => categorical.has(c));
    this.targetIdx = columns.indexOf(spec.dataset.target);
  }

  parse(rows: PlainRows, r: number, cols: number): ParsedRecord | { dropped: string } | undefined {
    const { buf, starts, ends, values: numbers, kinds } = rows;
    const base = r * cols;
    const t = base + this.targetIdx;
    if (kinds[t] === TEXT && missingBytes(buf, starts[t], ends[t]))
      return { dropped: `missing target ${this.spec.dataset.target}` };
    let target: number | string;
    if (this.spec.task !== "regression") target = canonicalLabel(buf.toString("latin1", starts[t], ends[t]));
    else {
      if (kinds[t] !== NUMBER || !(Math.abs(numbers[t]) <= FLOAT32_MAX)) return undefined;
      target = numbers[t];
    }
    const values: (number | string | null)[] = new Array(this.features.length);
    let missingColumn: string | undefined;
    for (let k = 0; k < this.features.length; k++) {
      const f = base + this.featureIdx[k];
      if (kinds[f] === TEXT && missingBytes(buf, starts[f], ends[f])) {
        missingColumn ??= this.features[k];
        values[k] = null;
      } else if (this.isCategorical[k]) values[k] = buf.toString("latin1", starts[f], ends[f]);
      else {
        if (kinds[f] !== NUMBER || !(Math.abs(numbers[f]) <= FLOAT32_MAX)) return undefined;
        values[k] = numbers[f];
      }
    }
    if (missingColumn !== undefined && this.spec.preprocess.missing === "drop")
      return { dropped: `missing ${missingColumn}` };
    return { values, target };
  }

  /** The record's fields as strings (for RecordParser and its messages). */
  static record(rows: PlainRows, r: number, cols: number): string[] {
    const out = new Array<string>(cols);
    for (let k = 0; k < cols; k++)
      out[k] = rows.buf.toString("latin1", rows.starts[r * cols + k], rows.ends[r * cols + k]);
    return out;
  }
}
