import { DuckDBTypeId } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlIdentifier } from './sql-text.js';

/** One column of a job table, as services need it to build SQL. */
export interface TableColumn {
  readonly name: string;
  readonly typeId: DuckDBTypeId;
  /** DuckDB's SQL spelling of the type, e.g. `BIGINT`, `DECIMAL(10,2)`. */
  readonly type: string;
}

/** The columns of a table of the job's database, in table order. */
export async function tableColumns(db: DuckDBConnection, table: string): Promise<TableColumn[]> {
  const prepared = await db.prepare(`SELECT * FROM ${sqlIdentifier(table)} LIMIT 0`);
  try {
    return Array.from({ length: prepared.columnCount }, (_, i) => ({
      name: prepared.columnName(i),
      typeId: prepared.columnTypeId(i),
      type: prepared.columnType(i).toString(),
    }));
  } finally {
    prepared.destroySync();
  }
}

const integerTypes: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.TINYINT,
  DuckDBTypeId.SMALLINT,
  DuckDBTypeId.INTEGER,
  DuckDBTypeId.BIGINT,
  DuckDBTypeId.HUGEINT,
  DuckDBTypeId.UTINYINT,
  DuckDBTypeId.USMALLINT,
  DuckDBTypeId.UINTEGER,
  DuckDBTypeId.UBIGINT,
  DuckDBTypeId.UHUGEINT,
]);

const numericTypes: ReadonlySet<DuckDBTypeId> = new Set([...integerTypes, DuckDBTypeId.FLOAT, DuckDBTypeId.DOUBLE, DuckDBTypeId.DECIMAL]);

const dateTypes: ReadonlySet<DuckDBTypeId> = new Set([
  DuckDBTypeId.DATE,
  DuckDBTypeId.TIMESTAMP,
  DuckDBTypeId.TIMESTAMP_S,
  DuckDBTypeId.TIMESTAMP_MS,
  DuckDBTypeId.TIMESTAMP_NS,
  DuckDBTypeId.TIMESTAMP_TZ,
]);

export function isIntegerType(typeId: DuckDBTypeId): boolean {
  return integerTypes.has(typeId);
}

/** Integers, floating point and decimals. */
export function isNumericType(typeId: DuckDBTypeId): boolean {
  return numericTypes.has(typeId);
}

/** Dates and timestamps of every precision, with or without time zone. */
export function isDateType(typeId: DuckDBTypeId): boolean {
  return dateTypes.has(typeId);
}

export function isTextType(typeId: DuckDBTypeId): boolean {
  return typeId === DuckDBTypeId.VARCHAR;
}

/** The first line of a DuckDB error, which names its kind and cause (`Binder Error: ...`). */
export function duckdbMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

/**
 * An error DuckDB raised while computing the requester's data (a bad cast, an overflow) as
 * QUERY_FAILED with DuckDB's first line. Views make the chain lazy, so such an error can surface
 * in any service or while streaming; it is still the query's failure. Anything else passes as is.
 */
export function asQueryFailure(error: unknown): unknown {
  if (error instanceof DynamosError || !(error instanceof Error)) return error;
  if (!/^[A-Za-z ]+ Error: /.test(error.message)) return error;
  if (error.message.startsWith('Out of Memory Error: ')) {
    return new DynamosError('JOB_OUT_OF_MEMORY', `the query needs more memory than a job may use: ${duckdbMessage(error)}`, { retryable: false, cause: error });
  }
  return new DynamosError('QUERY_FAILED', duckdbMessage(error), { retryable: false, cause: error });
}
