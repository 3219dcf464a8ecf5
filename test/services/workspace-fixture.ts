import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DuckDBInstance } from '@duckdb/node-api';
import type { AnonymizationRules } from '../../knowledge/marketplace/marketplace-schema.js';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { createEngine, openWorkspace } from '../../services/workspace/workspace.js';
import type { Workspace } from '../../services/workspace/workspace.js';

export interface CsvWorkspace extends Workspace {
  /** The temp dir holding the CSVs; removed by close(). */
  readonly dir: string;
  readonly tables: readonly TableSource[];
}

/**
 * Writes each table's text as `<name>.csv` to a fresh temp dir and opens a locked workspace on them,
 * with the tables anonymised at the source when `anonymization` is given.
 */
export async function csvWorkspace(csvByTable: Readonly<Record<string, string>>, delimiter = ';', anonymization?: AnonymizationRules): Promise<CsvWorkspace> {
  const dir = mkdtempSync(join(tmpdir(), 'dynamos-ws-'));
  const tables = Object.entries(csvByTable).map(([name, text]): TableSource => {
    const file = join(dir, `${name}.csv`);
    writeFileSync(file, text);
    return { name, file, format: 'csv', delimiter };
  });
  const workspace = await openWorkspace(await createEngine({ threads: 2 }), tables, anonymization === undefined ? {} : { anonymization }).catch((error: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  });
  return {
    db: workspace.db,
    anonymizedAtSource: workspace.anonymizedAtSource,
    dir,
    tables,
    close: () => {
      workspace.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh in-memory database with tables made by `statements`, for services that take tables as given. */
export async function memoryDb(...statements: string[]): Promise<DuckDBConnection> {
  const db = await (await DuckDBInstance.create(':memory:', { threads: '2' })).connect();
  for (const statement of statements) await db.run(statement);
  return db;
}

/** All rows of a table or query as JS values, in the query's order. */
export async function rowsOf(db: DuckDBConnection, tableOrQuery: string): Promise<unknown[][]> {
  const sql = /^\s*(SELECT|FROM|WITH)\b/i.test(tableOrQuery) ? tableOrQuery : `SELECT * FROM "${tableOrQuery}"`;
  return (await db.runAndReadAll(sql)).getRowsJS();
}

/** Column names and DuckDB types of a table, as `name TYPE`. */
export async function schemaOf(db: DuckDBConnection, table: string): Promise<string[]> {
  const reader = await db.runAndReadAll(`DESCRIBE "${table}"`);
  return reader.getRowsJS().map(([name, type]) => `${String(name)} ${String(type)}`);
}
