/** Writing Parquet with hyparquet-writer: the convert subcommand's shards (and the tests' fixtures). */
import { gzipSync } from "node:zlib";
import { ByteWriter, ParquetWriter, parquetWriteBuffer, type ColumnSource, type SchemaElement } from "hyparquet-writer";

/** Codecs the writer can produce here: snappy (hyparquet-writer's own), gzip (node:zlib), none. */
export const WRITE_CODECS = { snappy: "SNAPPY", gzip: "GZIP", none: "UNCOMPRESSED" } as const;
export type WriteCodec = keyof typeof WRITE_CODECS;

const compressors = { GZIP: (input: Uint8Array) => new Uint8Array(gzipSync(input)) };

/** A whole table as one Parquet file in memory (tests, small tables). */
export function writeParquetBuffer(opts: {
  columnData: ColumnSource[];
  rowGroupSize?: number;
  codec?: WriteCodec | "UNCOMPRESSED";
}): ArrayBuffer {
  const codec =
    opts.codec === undefined ? undefined : opts.codec === "UNCOMPRESSED" ? "UNCOMPRESSED" : WRITE_CODECS[opts.codec];
  return parquetWriteBuffer({ columnData: opts.columnData, rowGroupSize: opts.rowGroupSize, codec, compressors });
}

/** A file written row group by row group: `write` appends one (or more, of at most `rowGroupRows`). */
export class ParquetFileWriter {
  private readonly out = new ByteWriter();
  private readonly writer: ParquetWriter;

  constructor(
    schema: SchemaElement[],
    codec: WriteCodec,
    private readonly rowGroupRows: number,
  ) {
    this.writer = new ParquetWriter({
      writer: this.out,
      schema,
      codec: WRITE_CODECS[codec],
      compressors,
      createdBy: "kiln-trainer convert (hyparquet-writer)",
    });
  }

  write(columnData: ColumnSource[]): void {
    void this.writer.write({ columnData, rowGroupSize: this.rowGroupRows });
  }

  /** The finished file's bytes. */
  finish(): Buffer {
    this.writer.finish();
    return Buffer.from(this.out.getBuffer());
  }
}
