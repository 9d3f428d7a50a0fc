/**
 * The CSV checks that come before parsing, shared by the fast path and csv-parse: a record longer than
 * MAX_RECORD_BYTES is refused naming its line before the rest of it is buffered, and a file whose lines end in
 * more than one style (\n, \r\n, \r) is refused naming the first line that differs. Both checks work on
 * physical lines; an ending inside a quoted field is data, not a line ending.
 */
import { Transform, type TransformCallback } from "node:stream";
import { DataError } from "./data";

/** Longest CSV record (line) the trainer reads: far above any real row, far below what would exhaust memory. */
export const MAX_RECORD_BYTES = 1 << 20;

export type LineEnding = "\\n" | "\\r\\n" | "\\r";

export const recordTooLong = (name: string, line: number, limit: number) =>
  new DataError(
    `${name}: line ${line} is longer than ${limit} bytes, the longest CSV record the trainer reads; is this a CSV file with one row per line?`,
  );

export const mixedEndings = (name: string, line: number, first: LineEnding, now: LineEnding) =>
  new DataError(
    `${name}: mixed line endings: line ${line} ends with ${now} but the lines before it end with ${first}; convert the file to one style (e.g. dos2unix)`,
  );

/**
 * Line bookkeeping over a byte stream, chunk by chunk. After `scan`, `complete` is the stream offset where the
 * last whole line seen ends (or, once `error` is set, where the offending line starts): bytes before it may be
 * parsed. `line` is the physical line being read (1-based, endings inside quotes counted as csv-parse does).
 */
export class LineRules {
  line = 1;
  complete = 0;
  error: DataError | undefined;
  private style: LineEnding | undefined;
  private inQuote = false;
  private lineBytes = 0;
  private offset = 0;
  /** A "\r" ended the previous chunk: its meaning depends on the next byte. */
  private pendingCr = false;

  constructor(
    private readonly name: string,
    private readonly limit: number,
  ) {}

  /** Records a line ending that finished at stream offset `end`; false (and `error`) when the style differs. */
  private ending(kind: LineEnding, end: number): boolean {
    if (this.style === undefined) this.style = kind;
    else if (kind !== this.style) {
      this.error = mixedEndings(this.name, this.line, this.style, kind);
      return false;
    }
    this.line++;
    this.lineBytes = 0;
    this.complete = end;
    return true;
  }

  scan(buf: Uint8Array): void {
    if (this.error) return;
    const base = this.offset;
    this.offset += buf.length;
    let i = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      const crlf = buf.length > 0 && buf[0] === 0x0a;
      if (!this.ending(crlf ? "\\r\\n" : "\\r", base + (crlf ? 1 : 0))) return;
      if (crlf) i = 1;
    }
    for (; i < buf.length; i++) {
      const b = buf[i];
      if (b === 0x22) this.inQuote = !this.inQuote;
      else if (b === 0x0a || b === 0x0d) {
        if (this.inQuote) {
          if (b === 0x0a) this.line++;
        } else if (b === 0x0d && i + 1 === buf.length) {
          this.pendingCr = true;
          return;
        } else {
          const crlf = b === 0x0d && buf[i + 1] === 0x0a;
          if (crlf) i++;
          if (!this.ending(b === 0x0a ? "\\n" : crlf ? "\\r\\n" : "\\r", base + i + 1)) return;
          continue;
        }
      }
      if (++this.lineBytes > this.limit) {
        this.error = recordTooLong(this.name, this.line, this.limit);
        return;
      }
    }
  }

  /** At the end of the stream: a final lone "\r" is an ending too. */
  end(): void {
    if (this.pendingCr && !this.error) this.ending("\\r", this.offset);
    this.pendingCr = false;
    if (!this.error) this.complete = this.offset;
  }
}

/**
 * A Transform that passes whole lines through until one breaks a rule, then ends cleanly (so the parser
 * yields every record before that line first); `rules.error` then says why it stopped. It holds back at most
 * one partial line (bounded by the record limit).
 */
export class LineGuard extends Transform {
  readonly rules: LineRules;
  private carry: Buffer = Buffer.alloc(0);
  /** Stream offset of carry[0]. */
  private carryAt = 0;
  private stopped = false;

  constructor(name: string, limit = MAX_RECORD_BYTES) {
    super();
    this.rules = new LineRules(name, limit);
  }

  private pass(data: Buffer): void {
    const cut = this.rules.complete - this.carryAt;
    if (cut > 0) this.push(data.subarray(0, cut));
    this.carry = this.rules.error ? Buffer.alloc(0) : Buffer.from(data.subarray(Math.max(0, cut)));
    this.carryAt = Math.max(this.carryAt, this.rules.complete);
    if (this.rules.error) {
      this.stopped = true;
      this.push(null);
    }
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.rules.scan(chunk);
    this.pass(this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk);
    // Stopped: never ask for more, so the source stops reading (backpressure) until the reader destroys it.
    if (!this.stopped) done();
  }

  override _flush(done: TransformCallback): void {
    if (!this.stopped) {
      this.rules.end();
      this.pass(this.carry);
    }
    done();
  }
}
