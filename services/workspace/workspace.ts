import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { AnonymizationRules } from '../../knowledge/marketplace/marketplace-schema.js';
import { freshPseudonymSecret } from '../sql-anonymize/source-view.js';
import { loadCsvTable } from './load-csv-table.js';
import { sqlString } from './sql-text.js';

/** A job's private DuckDB database: the steward's permitted tables and nothing else. */
export interface Workspace {
  readonly db: DuckDBConnection;
  /** Whether the tables were built from the steward's anonymisation (`anonymization` given). */
  readonly anonymizedAtSource: boolean;
  close(): void;
}

export interface WorkspaceOptions {
  /** Where DuckDB may spill; a directory the job runner removes when the job ends. */
  readonly tempDir?: string;
  /** DuckDB threads for this job. @default DuckDB's choice (the number of cores) */
  readonly threads?: number;
  /** Table name → its `read_csv(...)` call, sniffed before; tables without one are sniffed here. */
  readonly tableReads?: Readonly<Record<string, string>>;
  /** DuckDB memory limit such as '2GB'. @default DuckDB's (80 % of RAM) */
  readonly memoryLimit?: string;
  /**
   * The steward's anonymisation: when given, each table is a view that already applies it (the
   * only view of the data that exists), with pseudonyms keyed by a secret made here, per job.
   */
  readonly anonymization?: AnonymizationRules;
}

/** Creates the database engine; done before a job is assigned, so a warm process is ready at once. */
export async function createEngine(opts: WorkspaceOptions = {}): Promise<DuckDBInstance> {
  return DuckDBInstance.create(':memory:', {
    autoinstall_known_extensions: 'false',
    autoload_known_extensions: 'false',
    ...(opts.threads === undefined ? {} : { threads: String(opts.threads) }),
    ...(opts.memoryLimit === undefined ? {} : { memory_limit: opts.memoryLimit }),
  });
}

/**
 * Defines the job's tables, then closes every door: no file but the steward's own table files,
 * no network, extension or setting is reachable from SQL afterwards (`read_csv('/etc/passwd')`,
 * COPY, ATTACH, INSTALL all fail).
 */
export async function openWorkspace(
  engine: DuckDBInstance,
  tables: readonly TableSource[],
  opts: WorkspaceOptions = {},
): Promise<Workspace> {
  const db = await engine.connect();
  try {
    await requireFreshEngine(db);
    if (opts.threads !== undefined) await db.run(`SET threads = ${Math.max(1, Math.floor(opts.threads))}`);
    if (opts.tempDir !== undefined) await db.run(`SET temp_directory = ${sqlString(opts.tempDir)}`);
    else await db.run(`SET temp_directory = ''`);
    const secret = opts.anonymization === undefined ? undefined : freshPseudonymSecret();
    // Sniff the files side by side, a connection each: one connection runs one statement at a time.
    await Promise.all(tables.map(async (table) => {
      const own = await engine.connect();
      const sniffed = opts.tableReads?.[table.name];
      const rules = secret === undefined ? undefined : rulesOf(opts.anonymization ?? {}, table.name);
      try {
        await loadCsvTable(own, table, { ...(sniffed === undefined ? {} : { sniffed }), ...(rules === undefined || secret === undefined ? {} : { anonymized: { rules, secret } }) });
      } finally {
        own.closeSync();
      }
    }));
    // The tables are views over the steward's files: those files, and nothing else, stay readable.
    await db.run(`SET allowed_paths = [${tables.map((t) => sqlString(t.file)).join(', ')}]`);
    await db.run('SET enable_external_access = false');
    await db.run('SET lock_configuration = true');
  } catch (error) {
    db.closeSync();
    throw error;
  }
  return { db, anonymizedAtSource: opts.anonymization !== undefined, close: () => db.closeSync() };
}

/** The rules for `table`, its name compared case-insensitively as SQL does; none is an empty set. */
function rulesOf(anonymization: AnonymizationRules, table: string) {
  const key = Object.keys(anonymization).find((t) => t.toLowerCase() === table.toLowerCase());
  return key === undefined ? {} : (anonymization[key] ?? {});
}

/**
 * The lock is engine-wide: an engine serves one workspace, one job. A second workspace on the
 * same engine would fail on its first setting with DuckDB's puzzling "configuration has been
 * locked"; say what went wrong instead.
 */
async function requireFreshEngine(db: DuckDBConnection): Promise<void> {
  const reader = await db.runAndReadAll(`SELECT current_setting('lock_configuration')::VARCHAR`);
  if (reader.getRowsJS()[0]?.[0] === 'true') {
    throw new DynamosError('INTERNAL', 'this DuckDB engine already serves a locked workspace; create a fresh engine (createEngine) per job', {
      retryable: false,
    });
  }
}
