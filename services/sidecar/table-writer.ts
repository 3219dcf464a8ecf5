import duckdb from '@duckdb/node-bindings';
import { BIGINT, BOOLEAN, DATE, DOUBLE, DuckDBDataChunk, INTEGER, TIMESTAMP, VARCHAR } from '@duckdb/node-api';
import type { DuckDBAppender, DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { ColumnSchema, DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { ColumnType } from '../../proto/generated/dynamos/v1/microservice.js';
import { sqlIdentifier } from '../workspace/sql-text.js';
import { sqlTypeOf, valueWidth } from './column-types.js';

const duckTypes: Partial<Record<ColumnType, DuckDBType>> = {
  [ColumnType.COLUMN_TYPE_BOOL]: BOOLEAN,
  [ColumnType.COLUMN_TYPE_INT32]: INTEGER,
  [ColumnType.COLUMN_TYPE_INT64]: BIGINT,
  [ColumnType.COLUMN_TYPE_FLOAT64]: DOUBLE,
  [ColumnType.COLUMN_TYPE_UTF8]: VARCHAR,
  [ColumnType.COLUMN_TYPE_DATE]: DATE,
  [ColumnType.COLUMN_TYPE_TIMESTAMP]: TIMESTAMP,
};

/**
 * Writes received wire chunks into a new table of a job's database, copying fixed-width columns
 * and validity bitmaps straight into DuckDB vectors.
 */
export class TableWriter {
  private readonly vectorSize = duckdb.vector_size();

  private constructor(
    private readonly appender: DuckDBAppender,
    private readonly columns: readonly ColumnSchema[],
    private readonly types: readonly DuckDBType[],
  ) {}

  static async create(db: DuckDBConnection, table: string, columns: readonly ColumnSchema[]): Promise<TableWriter> {
    const types = columns.map((c) => {
      const type = duckTypes[c.type];
      if (type === undefined) throw new DynamosError('STREAM_INVALID', `column ${c.name} has unknown wire type ${c.type}`, { retryable: false });
      return type;
    });
    const defs = columns.map((c) => `${sqlIdentifier(c.name)} ${sqlTypeOf(c.type)}`).join(', ');
    await db.run(`CREATE TABLE ${sqlIdentifier(table)} (${defs})`);
    return new TableWriter(await db.createAppender(table), columns, types);
  }

  append(chunk: DataChunk): void {
    checkShape(chunk, this.columns);
    for (let start = 0; start < chunk.rowCount; start += this.vectorSize) {
      const rows = Math.min(this.vectorSize, chunk.rowCount - start);
      const target = DuckDBDataChunk.create(this.types, rows);
      this.columns.forEach((schema, c) => {
        const column = chunk.columns[c] as DataChunk['columns'][number];
        const vector = duckdb.data_chunk_get_vector(target.chunk, c);
        if (column.validity.length > 0) {
          duckdb.vector_ensure_validity_writable(vector);
          const v = column.validity;
          duckdb.copy_data_to_vector_validity(vector, 0, v.buffer as ArrayBuffer, v.byteOffset + start / 8, Math.ceil(rows / 8));
        }
        const width = valueWidth(schema.type);
        if (width > 0) {
          const v = column.values;
          duckdb.copy_data_to_vector(vector, 0, v.buffer as ArrayBuffer, v.byteOffset + start * width, rows * width);
        } else {
          writeStrings(vector, column, start, rows);
        }
      });
      this.appender.appendDataChunk(target);
    }
  }

  close(): void {
    this.appender.closeSync();
  }
}

function writeStrings(vector: duckdb.Vector, column: DataChunk['columns'][number], start: number, rows: number): void {
  const offsets = new DataView(column.offsets.buffer, column.offsets.byteOffset, column.offsets.byteLength);
  const { validity, values } = column;
  for (let i = 0; i < rows; i++) {
    const row = start + i;
    if (validity.length > 0 && ((validity[row >> 3] as number) & (1 << (row & 7))) === 0) continue;
    const from = offsets.getInt32(row * 4, true);
    const to = offsets.getInt32(row * 4 + 4, true);
    duckdb.vector_assign_string_element_len(vector, i, values.subarray(from, to));
  }
}

/** Refuses a chunk whose buffers do not match its schema: a sender bug must not corrupt memory. */
export function checkShape(chunk: DataChunk, columns: readonly ColumnSchema[]): void {
  const fail = (why: string) => {
    throw new DynamosError('STREAM_INVALID', `received chunk does not match its schema: ${why}`, { retryable: false });
  };
  if (chunk.columns.length !== columns.length) fail(`${chunk.columns.length} columns for a schema of ${columns.length}`);
  const rows = chunk.rowCount;
  columns.forEach((schema, c) => {
    const column = chunk.columns[c] as DataChunk['columns'][number];
    if (column.validity.length > 0 && column.validity.length < Math.ceil(rows / 8)) fail(`${schema.name}: short validity`);
    const width = valueWidth(schema.type);
    if (width > 0) {
      if (column.values.length !== rows * width) fail(`${schema.name}: ${column.values.length} value bytes for ${rows} rows`);
      return;
    }
    if (column.offsets.length !== (rows + 1) * 4) fail(`${schema.name}: ${column.offsets.length} offset bytes for ${rows} rows`);
    const offsets = new DataView(column.offsets.buffer, column.offsets.byteOffset, column.offsets.byteLength);
    let previous = 0;
    for (let i = 0; i <= rows; i++) {
      const at = offsets.getInt32(i * 4, true);
      if (at < previous || at > column.values.length) fail(`${schema.name}: offsets out of order or range`);
      previous = at;
    }
  });
}
