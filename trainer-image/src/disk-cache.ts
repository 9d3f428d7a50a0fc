/**
 * The disk tier of the chunk cache: one binary file per shard and split in a directory of local disk
 * (the pod's emptyDir), written as the shard is first read and replayed chunk by chunk afterwards, so
 * memory stays bounded by a chunk. Within a byte budget (the spec's dataset.diskCacheGiB, the emptyDir's
 * size limit and the free space, whichever is least); a shard that does not fit is simply not cached.
 *
 * File: "KILNCHK1", cols, yCols (u32 LE); then per chunk rows, last (u32 LE), x, y (float32), records (int32).
 */
import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statfsSync, writeSync } from "node:fs";
import { open } from "node:fs/promises";
import * as path from "node:path";
import { chunkBytes } from "./chunk-cache";
import type { Chunk } from "./chunks";
import { makeDirs } from "./local-path";

const MAGIC = Buffer.from("KILNCHK1");
/** Left free on the file system (and under the emptyDir limit) so the run's own files still fit. */
const HEADROOM = 512 * 2 ** 20;

export interface DiskShardWriter {
  /** False when the chunk did not fit (the shard is then dropped from the cache). */
  write(c: Chunk): boolean;
  commit(): void;
  abort(): void;
}

export interface DiskTierOptions {
  /** Directory for the cache (created; a run's own subdirectory is removed by dispose()). */
  readonly base: string;
  readonly budgetBytes: number;
  readonly cols: number;
  readonly yCols: number;
  /** Something was not cached (the budget or the disk ran out): said once per reason. */
  readonly onSkip?: (reason: string) => void;
}

export class DiskTier {
  private readonly dir: string;
  private readonly files = new Map<string, string>();
  private used = 0;
  private readonly said = new Set<string>();

  constructor(private readonly opts: DiskTierOptions) {
    // Not mkdirSync({recursive}): it never returns under /proc (local-path.ts).
    makeDirs(opts.base);
    this.dir = path.join(opts.base, `run-${process.pid}-${randomBytes(4).toString("hex")}`);
    mkdirSync(this.dir, { mode: 0o700 });
  }

  has(key: string): boolean {
    return this.files.has(key);
  }

  private skip(reason: string): void {
    if (this.said.has(reason)) return;
    this.said.add(reason);
    this.opts.onSkip?.(reason);
  }

  /** Room left: the budget, and the file system's free space less the headroom. */
  private room(): number {
    let free = Infinity;
    try {
      const fs = statfsSync(this.dir);
      free = fs.bavail * fs.bsize - HEADROOM;
    } catch {
      // statfs unsupported: the budget alone bounds the cache.
    }
    return Math.min(this.opts.budgetBytes - this.used, free);
  }

  begin(key: string): DiskShardWriter | undefined {
    const file = path.join(this.dir, `${createHash("sha256").update(key).digest("hex").slice(0, 32)}.chunks`);
    const partial = `${file}.partial`;
    let fd: number | undefined;
    let bytes = 0;
    let committed = false;
    const close = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    };
    const abort = () => {
      if (committed) return;
      close();
      this.used -= bytes;
      bytes = 0;
      rmSync(partial, { force: true });
    };
    const header = Buffer.alloc(16);
    MAGIC.copy(header);
    header.writeUInt32LE(this.opts.cols, 8);
    header.writeUInt32LE(this.opts.yCols, 12);
    if (this.room() < header.length) {
      this.skip("the disk cache is full");
      return undefined;
    }
    try {
      fd = openSync(partial, "w", 0o600);
      writeSync(fd, header);
    } catch (err) {
      abort();
      this.skip(`cannot write the disk cache in ${this.dir}: ${(err as Error).message}`);
      return undefined;
    }
    bytes = header.length;
    this.used += bytes;
    return {
      write: (c) => {
        if (fd === undefined) return false;
        const size = 8 + chunkBytes(c);
        if (this.room() < size) {
          abort();
          this.skip("the disk cache is full");
          return false;
        }
        const head = Buffer.alloc(8);
        head.writeUInt32LE(c.rows, 0);
        head.writeUInt32LE(c.last ? 1 : 0, 4);
        try {
          for (const part of [head, c.x, c.y, c.records])
            writeSync(fd, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
        } catch (err) {
          abort();
          this.skip(`cannot write the disk cache in ${this.dir}: ${(err as Error).message}`);
          return false;
        }
        bytes += size;
        this.used += size;
        return true;
      },
      commit: () => {
        if (fd === undefined) return;
        close();
        renameSync(partial, file);
        committed = true;
        this.files.set(key, file);
      },
      abort,
    };
  }

  /** The chunks of a cached shard, read one at a time. */
  async *read(key: string): AsyncGenerator<Chunk> {
    const file = this.files.get(key);
    if (!file) throw new Error(`no disk cache for ${key}`);
    const { cols, yCols } = this.opts;
    const fh = await open(file, "r");
    try {
      const header = Buffer.alloc(16);
      await fh.read(header, 0, 16, 0);
      if (!header.subarray(0, 8).equals(MAGIC) || header.readUInt32LE(8) !== cols || header.readUInt32LE(12) !== yCols)
        throw new Error(`${file} is not this run's chunk cache`);
      let pos = 16;
      const head = Buffer.alloc(8);
      for (;;) {
        const { bytesRead } = await fh.read(head, 0, 8, pos);
        if (bytesRead === 0) return;
        if (bytesRead !== 8) throw new Error(`${file}: truncated at byte ${pos}`);
        pos += 8;
        const rows = head.readUInt32LE(0);
        const last = head.readUInt32LE(4) === 1;
        const body = new ArrayBuffer(rows * (cols + yCols + 1) * 4);
        if (body.byteLength) {
          const got = await fh.read(new Uint8Array(body), 0, body.byteLength, pos);
          if (got.bytesRead !== body.byteLength) throw new Error(`${file}: truncated at byte ${pos}`);
        }
        pos += body.byteLength;
        const x = new Float32Array(body, 0, rows * cols);
        const y = new Float32Array(body, rows * cols * 4, rows * yCols);
        const records = new Int32Array(body, rows * (cols + yCols) * 4, rows);
        // The shard index is relabelled by the reader (cachedChunks).
        yield { x, y, rows, records, shard: -1, last };
      }
    } finally {
      await fh.close();
    }
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Removes cache directories left by earlier processes in `base` (a restarted container in the same pod). */
export function removeStaleCaches(base: string): void {
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith("run-")) rmSync(path.join(base, n), { recursive: true, force: true });
}
