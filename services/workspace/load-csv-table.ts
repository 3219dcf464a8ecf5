import { open } from 'node:fs/promises';
import type { DuckDBConnection } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { ColumnRule } from '../../knowledge/marketplace/marketplace-schema.js';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { anonymizedSelectList, readsAsText, ruleOf } from '../sql-anonymize/source-view.js';
import type { PseudonymSecret } from '../sql-anonymize/source-view.js';
import { sqlIdentifier, sqlString } from './sql-text.js';
import type { TableColumn } from './table-columns.js';

const sampleBytes = 64 * 1024;

/**
 * How DuckDB should split a CSV's lines. Files in the wild end lines with `\n`, `\r\n`, a bare
 * `\r` or `\r\r\n` (the original's Personen files); DuckDB's sniffer handles the first two and
 * gives up on the others, which read correctly as `\r`-separated with the stray `\n` tolerated.
 */
export function csvLineOptions(sample: Uint8Array): string {
  for (let i = 0; i < sample.length; i++) {
    if (sample[i] !== 0x0d) continue;
    if (sample[i + 1] === 0x0a) continue;
    if (i + 1 === sample.length) break;
    return `new_line = '\\r', strict_mode = false`;
  }
  return '';
}

/**
 * Makes a steward's CSV file a table of the job's database: a view over the file, so each query
 * reads only the columns it needs, fused with the rest of the chain, instead of materialising
 * every column first. The dialect and column types are sniffed once and written into the view,
 * so binding the view later does not sniff the file again.
 */
export async function loadCsvTable(db: DuckDBConnection, table: TableSource, opts: { sniffed?: string; anonymized?: SourceAnonymization } = {}): Promise<void> {
  let read = opts.sniffed ?? (await sniffedReadCsv(db, table));
  let select = '*';
  if (opts.anonymized !== undefined) {
    const { rules, secret } = opts.anonymized;
    const columns = await readColumns(db, table, read);
    // A generalised or removed column is read as text, so a value the sniffer's type does not fit
    // (a date in a yyyymmdd column, far past the sniffed rows) becomes NULL through its rule
    // instead of failing the whole table.
    const asText = columns.filter((c) => readsAsText(ruleOf(c.name, rules)));
    read = withTextColumns(read, asText.map((c) => c.name));
    select = anonymizedSelectList(table.name, columns, rules, secret);
  }
  try {
    await db.run(`CREATE VIEW ${sqlIdentifier(table.name)} AS SELECT ${select} FROM ${read}`);
  } catch (cause) {
    throw notCsv(table, cause);
  }
}

/** How a steward's table is anonymised at the source: its rules, and the job's pseudonym secret. */
export interface SourceAnonymization {
  readonly rules: Readonly<Record<string, ColumnRule>>;
  readonly secret: PseudonymSecret;
}

/**
 * The sniffer's `read_csv(..., columns={'name': 'TYPE', ...})` with `names` read as VARCHAR. A name
 * the call does not list (it cannot: the sniffer lists every column) stays as it is.
 */
export function withTextColumns(read: string, names: readonly string[]): string {
  let out = read;
  for (const name of names) {
    const quoted = sqlString(name).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out.replace(new RegExp(`(${quoted}\\s*:\\s*)'[^']*'`), `$1'VARCHAR'`);
  }
  return out;
}

/** The columns `read` yields, from binding it (nothing is read but what binding needs). */
async function readColumns(db: DuckDBConnection, table: TableSource, read: string): Promise<TableColumn[]> {
  let prepared;
  try {
    prepared = await db.prepare(`SELECT * FROM ${read}`);
  } catch (cause) {
    throw notCsv(table, cause);
  }
  try {
    return Array.from({ length: prepared.columnCount }, (_, i) => ({ name: prepared.columnName(i), typeId: prepared.columnTypeId(i), type: prepared.columnType(i).toString() }));
  } finally {
    prepared.destroySync();
  }
}

/** The `read_csv(...)` call DuckDB's sniffer settles on for this file, with every option explicit. */
export async function sniffedReadCsv(db: DuckDBConnection, table: TableSource): Promise<string> {
  const lineOptions = csvLineOptions(await readSample(table));
  const options = [`delim = ${sqlString(table.delimiter)}`, 'header = true', ...(lineOptions ? [lineOptions] : [])].join(', ');
  let prompt: unknown;
  try {
    const reader = await db.runAndReadAll(`SELECT Prompt FROM sniff_csv(${sqlString(table.file)}, ${options})`);
    prompt = reader.getRowsJS()[0]?.[0];
  } catch (cause) {
    throw notCsv(table, cause);
  }
  const call = typeof prompt === 'string' ? /^FROM\s+(read_csv\([\s\S]*\))\s*;?\s*$/.exec(prompt.trim())?.[1] : undefined;
  if (call === undefined) throw notCsv(table, new Error(`unexpected sniffer answer ${JSON.stringify(prompt)}`));
  return call;
}

async function readSample(table: TableSource): Promise<Uint8Array> {
  try {
    const handle = await open(table.file, 'r');
    try {
      const buffer = Buffer.alloc(sampleBytes);
      const { bytesRead } = await handle.read(buffer, 0, sampleBytes, 0);
      return buffer.subarray(0, bytesRead);
    } finally {
      await handle.close();
    }
  } catch (cause) {
    // The requester sees this: the table's name and why, never where the file lives.
    const why = (cause as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new DynamosError('DATA_UNAVAILABLE', `table ${table.name}: its file cannot be read (${why})`, {
      retryable: false,
      cause,
    });
  }
}

function notCsv(table: TableSource, cause: unknown): DynamosError {
  const first = (cause as Error).message.split('\n')[0];
  return new DynamosError('DATA_UNAVAILABLE', `table ${table.name}: its file does not load as CSV: ${first}`, { retryable: false, cause });
}

