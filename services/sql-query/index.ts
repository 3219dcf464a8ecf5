import type { DuckDBConnection } from '@duckdb/node-api';
import { DynamosError } from '../../knowledge/errors.js';
import type { DataSet, Microservice, ServiceContext } from '../microservice.js';
import { sqlIdentifier, sqlString } from '../workspace/sql-text.js';
import { prepareSelect, queryError } from './check-query.js';
import { uniqueColumnNames } from './unique-column-names.js';

export { leadingKeyword } from './check-query.js';
export { uniqueColumnNames } from './unique-column-names.js';

/**
 * sql-query: runs the requester's SQL over the steward's own tables (docs/architecture.md#single-use-jobs-embedded-default) into a new table.
 *
 * Unlike the original (pandasql, a case-sensitive `FROM (\w+)` regex, a hang on any SQL error),
 * the query must be exactly one SELECT; anything else is QUERY_REJECTED, and a query DuckDB cannot
 * parse, bind or run is QUERY_FAILED with DuckDB's first line. Duplicate column names of
 * `SELECT *` over a join are made unique (see uniqueColumnNames).
 *
 * The query runs through DuckDB's `query()` table function with its text as a string literal,
 * rather than pasted between brackets: no text of the requester's can close the bracket, and a
 * trailing `;` or `-- comment` is accepted.
 */
export const sqlQuery: Microservice = {
  name: 'sql-query',
  async run(ctx: ServiceContext, _inputs: readonly DataSet[]): Promise<DataSet[]> {
    await requireLockedWorkspace(ctx.db);
    const query = ctx.job.request.query;
    const prepared = await prepareSelect(ctx.db, query, ctx.job.tables.map((t) => t.name));
    let names: string[];
    try {
      names = uniqueColumnNames(Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnName(i)));
    } finally {
      prepared.destroySync();
    }
    const table = ctx.newTableName('query');
    const columns = names.map(sqlIdentifier).join(', ');
    try {
      await ctx.db.run(`CREATE VIEW ${sqlIdentifier(table)} AS SELECT * FROM query(${sqlString(query)}) AS q(${columns})`);
    } catch (error) {
      throw queryError(error);
    }
    return [{ table, providers: [ctx.job.party], artifacts: [] }];
  },
};

/**
 * Defence in depth: a requester's SQL runs only in a workspace that openWorkspace locked, so a
 * wiring mistake cannot expose the host's files.
 */
async function requireLockedWorkspace(db: DuckDBConnection): Promise<void> {
  const reader = await db.runAndReadAll(`SELECT current_setting('enable_external_access')::VARCHAR, current_setting('lock_configuration')::VARCHAR`);
  const [externalAccess, locked] = reader.getRowsJS()[0] ?? [];
  if (externalAccess !== 'false' || locked !== 'true') {
    throw new DynamosError('INTERNAL', 'sql-query refuses to run: the workspace is not locked (open it with openWorkspace)', {
      retryable: false,
    });
  }
}
