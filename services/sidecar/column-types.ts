import { DuckDBTypeId } from '@duckdb/node-api';
import type { DuckDBType } from '@duckdb/node-api';
import type { ColumnKind } from '../../knowledge/ports/job-runner.js';
import { ColumnType } from '../../proto/generated/dynamos/v1/microservice.js';

/**
 * How each DuckDB type crosses the wire. Types with an Arrow-like fixed layout are copied as they
 * are; narrower integers widen, exotic numbers become doubles, everything else (lists, structs,
 * intervals, …) travels as its text.
 */
export interface WireType {
  readonly type: ColumnType;
  /** The SQL cast that turns the column into the wire type, or undefined when none is needed. */
  readonly cast?: string;
}

export function wireTypeOf(duck: DuckDBType): WireType {
  switch (duck.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return { type: ColumnType.COLUMN_TYPE_BOOL };
    case DuckDBTypeId.INTEGER:
      return { type: ColumnType.COLUMN_TYPE_INT32 };
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
      return { type: ColumnType.COLUMN_TYPE_INT32, cast: 'INTEGER' };
    case DuckDBTypeId.BIGINT:
      return { type: ColumnType.COLUMN_TYPE_INT64 };
    case DuckDBTypeId.UINTEGER:
      return { type: ColumnType.COLUMN_TYPE_INT64, cast: 'BIGINT' };
    case DuckDBTypeId.DOUBLE:
      return { type: ColumnType.COLUMN_TYPE_FLOAT64 };
    case DuckDBTypeId.FLOAT:
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.UBIGINT:
      return { type: ColumnType.COLUMN_TYPE_FLOAT64, cast: 'DOUBLE' };
    case DuckDBTypeId.VARCHAR:
      return { type: ColumnType.COLUMN_TYPE_UTF8 };
    case DuckDBTypeId.DATE:
      return { type: ColumnType.COLUMN_TYPE_DATE };
    case DuckDBTypeId.TIMESTAMP:
      return { type: ColumnType.COLUMN_TYPE_TIMESTAMP };
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
    case DuckDBTypeId.TIMESTAMP_TZ:
      return { type: ColumnType.COLUMN_TYPE_TIMESTAMP, cast: 'TIMESTAMP' };
    default:
      return { type: ColumnType.COLUMN_TYPE_UTF8, cast: 'VARCHAR' };
  }
}

/** Bytes per value of a fixed-width wire type; 0 for UTF-8. */
export function valueWidth(type: ColumnType): number {
  switch (type) {
    case ColumnType.COLUMN_TYPE_BOOL:
      return 1;
    case ColumnType.COLUMN_TYPE_INT32:
    case ColumnType.COLUMN_TYPE_DATE:
      return 4;
    case ColumnType.COLUMN_TYPE_INT64:
    case ColumnType.COLUMN_TYPE_FLOAT64:
    case ColumnType.COLUMN_TYPE_TIMESTAMP:
      return 8;
    case ColumnType.COLUMN_TYPE_UTF8:
      return 0;
    default:
      throw new Error(`column type ${String(type)} has no wire layout`);
  }
}

/** The SQL type a received column is stored as. */
export function sqlTypeOf(type: ColumnType): string {
  const sql: Partial<Record<ColumnType, string>> = {
    [ColumnType.COLUMN_TYPE_BOOL]: 'BOOLEAN',
    [ColumnType.COLUMN_TYPE_INT32]: 'INTEGER',
    [ColumnType.COLUMN_TYPE_INT64]: 'BIGINT',
    [ColumnType.COLUMN_TYPE_FLOAT64]: 'DOUBLE',
    [ColumnType.COLUMN_TYPE_UTF8]: 'VARCHAR',
    [ColumnType.COLUMN_TYPE_DATE]: 'DATE',
    [ColumnType.COLUMN_TYPE_TIMESTAMP]: 'TIMESTAMP',
  };
  const name = sql[type];
  if (name === undefined) throw new Error(`column type ${String(type)} has no SQL type`);
  return name;
}

export function columnKindOf(type: ColumnType): ColumnKind {
  const kinds: Partial<Record<ColumnType, ColumnKind>> = {
    [ColumnType.COLUMN_TYPE_BOOL]: 'bool',
    [ColumnType.COLUMN_TYPE_INT32]: 'int32',
    [ColumnType.COLUMN_TYPE_INT64]: 'int64',
    [ColumnType.COLUMN_TYPE_FLOAT64]: 'float64',
    [ColumnType.COLUMN_TYPE_UTF8]: 'utf8',
    [ColumnType.COLUMN_TYPE_DATE]: 'date',
    [ColumnType.COLUMN_TYPE_TIMESTAMP]: 'timestamp',
  };
  const kind = kinds[type];
  if (kind === undefined) throw new Error(`column type ${String(type)} is not a known kind`);
  return kind;
}
