import { StatementType } from '@duckdb/node-api';
import type { DuckDBConnection, DuckDBExtractedStatements, DuckDBPreparedStatement } from '@duckdb/node-api';
import type { SerializedQuery } from '../../knowledge/query-tables.js';
import { interpretSerializedQuery } from '../../knowledge/query-tables.js';
import { foldIdentifier } from '../../knowledge/sql-surface.js';
import { DynamosError } from '../../knowledge/errors.js';
import { duckdbMessage } from '../workspace/table-columns.js';

/**
 * Keywords a read-only query may start with. DuckDB types PRAGMA calls such as `PRAGMA version`
 * as SELECT too; they cannot be nested in a query, so they are refused by name.
 */
const selectKeywords: ReadonlySet<string> = new Set([
  'SELECT',
  'WITH',
  'FROM',
  'VALUES',
  'TABLE',
  'PIVOT',
  'UNPIVOT',
  'SUMMARIZE',
  'DESCRIBE',
  'SHOW',
]);

/**
 * Checks that `query` is exactly one SELECT statement inside the closed SQL surface
 * (knowledge/sql-surface.ts) that reads only `tables`, and prepares it (which binds it: tables
 * and columns exist). Nothing of the query runs here.
 *
 * @throws DynamosError QUERY_REJECTED when the text is empty, holds several statements, is not a
 *   SELECT, calls a function outside the allowlist, reads anything but `tables`, or reaches a file
 *   (the workspace refuses external access); QUERY_FAILED when DuckDB cannot parse or bind it, with
 *   DuckDB's first line.
 */
export async function prepareSelect(db: DuckDBConnection, query: string, tables: readonly string[]): Promise<DuckDBPreparedStatement> {
  const extracted = await extractStatements(db, query);
  if (extracted.count !== 1) throw rejected(`expected exactly one SELECT statement, found ${extracted.count} statements`, 'multiple');
  const parsed = await parseQuery(db, query);
  if (parsed.kind === 'syntaxError') throw failed(`Parser Error: ${parsed.message}`, undefined);
  const keyword = leadingKeyword(query);
  if (!selectKeywords.has(keyword)) {
    throw rejected(`expected one SELECT statement, found ${keyword === '' ? 'an unrecognised' : withArticle(keyword)} statement`, keyword);
  }
  if (parsed.kind === 'notSelect') {
    throw rejected(`expected one SELECT statement, found a statement that is not a SELECT behind ${keyword}`, keyword);
  }
  // The daemon checked the same on its own parser; a job never trusts that it did.
  const allowed = new Set(tables.map(foldIdentifier));
  const outside = parsed.tables.filter((t) => !allowed.has(foldIdentifier(t)));
  const refused = [...parsed.refused.map((r) => r.message), ...outside.map((t) => `table ${t} is not one of this job's tables (${tables.join(', ') || 'none'})`)];
  if (refused.length > 0) throw rejected(`query refused: ${refused.join('; ')}`, [...parsed.refused.map((r) => r.name), ...outside].join(', '));
  let prepared: DuckDBPreparedStatement;
  try {
    prepared = await extracted.prepare(0);
  } catch (error) {
    throw queryError(error);
  }
  if (prepared.statementType !== StatementType.SELECT) {
    const found = StatementType[prepared.statementType] ?? String(prepared.statementType);
    prepared.destroySync();
    throw rejected(`expected one SELECT statement, found ${withArticle(found)} statement`, found);
  }
  return prepared;
}

async function extractStatements(db: DuckDBConnection, query: string): Promise<DuckDBExtractedStatements> {
  try {
    return await db.extractStatements(query);
  } catch (error) {
    const message = duckdbMessage(error);
    const parserPrefix = 'Failed to extract statements: ';
    if (message.startsWith(parserPrefix)) throw failed(message.slice(parserPrefix.length), error);
    // DuckDB reports text without any statement (empty, only comments) as a bare native error.
    throw rejected('the query holds no statement', 'none', error);
  }
}

/**
 * DuckDB's parser alone (no binding), so a statement is classified by what it is, not by
 * whether the tables it names could take it.
 */
async function parseQuery(db: DuckDBConnection, query: string): Promise<SerializedQuery> {
  const reader = await db.runAndReadAll('SELECT json_serialize_sql($1::VARCHAR)', [query]);
  return interpretSerializedQuery(String(reader.getRowsJS()[0]?.[0]));
}

/** Maps a DuckDB error of a query: refused file access is a rejection, the rest a failure. */
export function queryError(error: unknown): DynamosError {
  const message = duckdbMessage(error);
  if (message.startsWith('Permission Error')) {
    return rejected(`the query reaches outside the steward's tables: ${message}`, 'external access', error);
  }
  return failed(message, error);
}

/** The statement's first word in upper case, after comments, white space and opening brackets. */
export function leadingKeyword(query: string): string {
  const rest = query.replace(/^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/|\()*/, '');
  return /^[A-Za-z_]+/.exec(rest)?.[0]?.toUpperCase() ?? '';
}

function withArticle(word: string): string {
  return `${/^[AEIOU]/.test(word) ? 'an' : 'a'} ${word}`;
}

function rejected(message: string, found: string, cause?: unknown): DynamosError {
  return new DynamosError('QUERY_REJECTED', message, { retryable: false, cause, details: { found } });
}

function failed(message: string, cause: unknown): DynamosError {
  return new DynamosError('QUERY_FAILED', message, { retryable: false, cause });
}
