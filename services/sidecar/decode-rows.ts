import type { ColumnSchema, DataChunk } from '../../proto/generated/dynamos/v1/microservice.js';
import { ColumnType } from '../../proto/generated/dynamos/v1/microservice.js';
import { checkShape } from './table-writer.js';

const utf8 = new TextDecoder();
const msPerDay = 86_400_000;

/**
 * A wire chunk as JSON-safe rows: 64-bit integers become numbers when exact and strings
 * otherwise, dates ISO dates, timestamps ISO instants, non-finite doubles strings.
 */
export function decodeRows(columns: readonly ColumnSchema[], chunk: DataChunk): unknown[][] {
  checkShape(chunk, columns);
  const rows: unknown[][] = Array.from({ length: chunk.rowCount }, () => new Array<unknown>(columns.length));
  columns.forEach((schema, c) => {
    const column = chunk.columns[c] as DataChunk['columns'][number];
    const values = new DataView(column.values.buffer, column.values.byteOffset, column.values.byteLength);
    const offsets = new DataView(column.offsets.buffer, column.offsets.byteOffset, column.offsets.byteLength);
    const { validity } = column;
    for (let r = 0; r < chunk.rowCount; r++) {
      const row = rows[r] as unknown[];
      if (validity.length > 0 && ((validity[r >> 3] as number) & (1 << (r & 7))) === 0) {
        row[c] = null;
        continue;
      }
      row[c] = readValue(schema.type, values, offsets, column.values, r);
    }
  });
  return rows;
}

function readValue(type: ColumnType, values: DataView, offsets: DataView, bytes: Uint8Array, r: number): unknown {
  switch (type) {
    case ColumnType.COLUMN_TYPE_BOOL:
      return values.getUint8(r) !== 0;
    case ColumnType.COLUMN_TYPE_INT32:
      return values.getInt32(r * 4, true);
    case ColumnType.COLUMN_TYPE_INT64: {
      const big = values.getBigInt64(r * 8, true);
      return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big.toString();
    }
    case ColumnType.COLUMN_TYPE_FLOAT64: {
      const x = values.getFloat64(r * 8, true);
      return Number.isFinite(x) ? x : String(x);
    }
    case ColumnType.COLUMN_TYPE_UTF8:
      return utf8.decode(bytes.subarray(offsets.getInt32(r * 4, true), offsets.getInt32(r * 4 + 4, true)));
    case ColumnType.COLUMN_TYPE_DATE:
      return new Date(values.getInt32(r * 4, true) * msPerDay).toISOString().slice(0, 10);
    case ColumnType.COLUMN_TYPE_TIMESTAMP:
      return new Date(Number(values.getBigInt64(r * 8, true) / 1000n)).toISOString();
    default:
      return null;
  }
}
