import duckdb from '@duckdb/node-bindings';
import type { DuckDBDataChunk } from '@duckdb/node-api';
import type { DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { ColumnType } from '../../proto/generated/dynamos/v1/microservice.js';
import { ByteBuffer } from './byte-buffer.js';
import { valueWidth } from './column-types.js';

/** Bytes of one DuckDB string_t: a length, then 12 inline bytes or a 4-byte prefix and a pointer. */
const stringStructBytes = 16;
const inlineStringBytes = 12;

/**
 * Collects DuckDB result chunks (2,048 rows each) into one wire DataChunk, copying each column's
 * memory as it is: values and validity with one copy per vector, strings per value without
 * decoding them. Callers flush when `rowCount` is not a multiple of 8, so every appended
 * validity bitmap starts on a byte boundary.
 */
export class ChunkAssembler {
  private rows = 0;
  private columns: ColumnAssembly[];

  constructor(private readonly types: readonly ColumnType[]) {
    this.columns = types.map((t) => new ColumnAssembly(t));
  }

  get rowCount(): number {
    return this.rows;
  }

  get byteSize(): number {
    return this.columns.reduce((sum, c) => sum + c.byteSize, 0);
  }

  append(chunk: DuckDBDataChunk): void {
    const rows = chunk.rowCount;
    if (rows === 0) return;
    if (this.rows % 8 !== 0) throw new Error('ChunkAssembler: flush before appending after a partial byte of rows');
    for (let i = 0; i < this.columns.length; i++) {
      const vector = duckdb.data_chunk_get_vector(chunk.chunk, i);
      (this.columns[i] as ColumnAssembly).append(vector, rows, this.rows);
    }
    this.rows += rows;
  }

  /** The collected rows as one wire chunk; the assembler starts empty again. */
  take(): DataChunk {
    const out: DataChunk = { rowCount: this.rows, columns: this.columns.map((c) => c.finish(this.rows)) };
    this.rows = 0;
    this.columns = this.types.map((t) => new ColumnAssembly(t));
    return out;
  }
}

class ColumnAssembly {
  private readonly values = new ByteBuffer();
  private readonly offsets: ByteBuffer | undefined;
  private validity: ByteBuffer | undefined;
  private readonly width: number;

  constructor(private readonly type: ColumnType) {
    this.width = valueWidth(type);
    if (type === ColumnType.COLUMN_TYPE_UTF8) {
      this.offsets = new ByteBuffer();
      this.offsets.fill(0, 4);
    }
  }

  get byteSize(): number {
    return this.values.length + (this.offsets?.length ?? 0) + (this.validity?.length ?? 0);
  }

  append(vector: duckdb.Vector, rows: number, rowsBefore: number): void {
    const validity = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8) as Uint8Array | null | undefined;
    this.appendValidity(validity ?? undefined, rows, rowsBefore);
    if (this.width > 0) {
      this.values.append(duckdb.vector_get_data(vector, rows * this.width));
    } else {
      this.appendStrings(duckdb.vector_get_data(vector, rows * stringStructBytes), validity ?? undefined, rows);
    }
  }

  private appendValidity(bits: Uint8Array | undefined, rows: number, rowsBefore: number): void {
    const bytes = Math.ceil(rows / 8);
    if (bits !== undefined && this.validity === undefined && !allSet(bits, rows)) {
      this.validity = new ByteBuffer();
      this.validity.fill(0xff, rowsBefore / 8);
    }
    if (this.validity === undefined) return;
    if (bits === undefined) this.validity.fill(0xff, bytes);
    else this.validity.append(bits.subarray(0, bytes));
  }

  private appendStrings(structs: Uint8Array, validity: Uint8Array | undefined, rows: number): void {
    const offsets = this.offsets as ByteBuffer;
    const view = new DataView(structs.buffer, structs.byteOffset, structs.byteLength);
    offsets.reserve(rows * 4);
    const offsetView = new DataView(offsets.raw.buffer, offsets.raw.byteOffset);
    let end = this.values.length;
    for (let row = 0; row < rows; row++) {
      const at = row * stringStructBytes;
      const valid = validity === undefined || ((validity[row >> 3] as number) & (1 << (row & 7))) !== 0;
      const length = valid ? view.getUint32(at, true) : 0;
      if (length > 0) {
        if (length <= inlineStringBytes) {
          this.values.append(structs.subarray(at + 4, at + 4 + length));
        } else {
          this.values.append(duckdb.get_data_from_pointer(structs.buffer as ArrayBuffer, structs.byteOffset + at + 8, length));
        }
        end += length;
      }
      offsetView.setInt32(offsets.length, end, true);
      offsets.length += 4;
    }
  }

  finish(rows: number) {
    const validity = this.validity === undefined ? new Uint8Array(0) : this.validity.bytes().slice(0, Math.ceil(rows / 8));
    return {
      validity,
      values: this.values.bytes(),
      offsets: this.offsets === undefined ? new Uint8Array(0) : this.offsets.bytes(),
    };
  }
}

function allSet(bits: Uint8Array, rows: number): boolean {
  const full = rows >> 3;
  for (let i = 0; i < full; i++) if (bits[i] !== 0xff) return false;
  const rest = rows & 7;
  return rest === 0 || ((bits[full] as number) & ((1 << rest) - 1)) === (1 << rest) - 1;
}
