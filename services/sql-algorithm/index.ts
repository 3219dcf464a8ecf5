import type { DuckDBConnection } from '@duckdb/node-api';
import { algorithmNames } from '../../knowledge/catalog.js';
import type { AlgorithmName } from '../../knowledge/catalog.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { DataSet, Microservice, ServiceContext } from '../microservice.js';
import { providerColumn } from '../sql-aggregate/index.js';
import { sqlIdentifier } from '../workspace/sql-text.js';
import { asQueryFailure, isNumericType, tableColumns } from '../workspace/table-columns.js';
import type { TableColumn } from '../workspace/table-columns.js';

/**
 * sql-algorithm: runs `job.request.algorithm` on each input on its own (after sql-aggregate there
 * is one input holding every provider's rows).
 * - `average`: the original's wage-gap analysis, done in SQL: per Geslacht, the mean of the
 *   numeric Salschal values (`average_salary_scale` DOUBLE) and how many there were (`employees`
 *   BIGINT), ordered by Geslacht. Text, NaN and infinite salaries are ignored (the original let
 *   `nan` poison the mean). Unlike the original, every Geslacht value gets a row, not only M and V.
 * - `count`: the number of rows, per provider when the input has a `provider` column.
 * - `describe`: DuckDB's SUMMARIZE of every column.
 * - `none`: the input unchanged.
 *
 * @throws DynamosError ALGORITHM_INPUT_INVALID when the input lacks a column the algorithm reads;
 *   REQUEST_INVALID for an algorithm name not in the catalog.
 */
export const sqlAlgorithm: Microservice = {
  name: 'sql-algorithm',
  async run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]> {
    const algorithm = ctx.job.request.algorithm;
    const outputs: DataSet[] = [];
    for (const input of inputs) {
      if (algorithm === 'none') {
        outputs.push(input);
        continue;
      }
      const table = ctx.newTableName(algorithm);
      const select = algorithmSelect(algorithm, input.table, await tableColumns(ctx.db, input.table));
      await createTable(ctx.db, table, select);
      outputs.push({ ...input, table });
    }
    return outputs;
  },
};

type TableAlgorithm = Exclude<AlgorithmName, 'none'>;

function algorithmSelect(algorithm: TableAlgorithm, table: string, columns: readonly TableColumn[]): string {
  switch (algorithm) {
    case 'average':
      return averageSelect(table, columns);
    case 'count':
      return countSelect(table, columns);
    case 'describe':
      return `SELECT * FROM (SUMMARIZE ${sqlIdentifier(table)})`;
    default: {
      const _exhaustive: never = algorithm;
      throw new DynamosError('REQUEST_INVALID', `unknown algorithm "${String(_exhaustive)}"; known: ${algorithmNames.join(', ')}`, {
        retryable: false,
      });
    }
  }
}

function averageSelect(table: string, columns: readonly TableColumn[]): string {
  const [gender, salary] = requireColumns(columns, ['Geslacht', 'Salschal'], 'average') as [TableColumn, TableColumn];
  const asDouble = isNumericType(salary.typeId)
    ? `CAST(${sqlIdentifier(salary.name)} AS DOUBLE)`
    : `TRY_CAST(CAST(${sqlIdentifier(salary.name)} AS VARCHAR) AS DOUBLE)`;
  const g = sqlIdentifier(gender.name);
  return [
    `SELECT ${g} AS "Geslacht", avg(salary) AS average_salary_scale, count(salary) AS employees`,
    `FROM (SELECT ${g}, CASE WHEN isfinite(${asDouble}) THEN ${asDouble} END AS salary FROM ${sqlIdentifier(table)})`,
    `GROUP BY ${g} ORDER BY ${g}`,
  ].join('\n');
}

function countSelect(table: string, columns: readonly TableColumn[]): string {
  const provider = columns.find((c) => c.name.toLowerCase() === providerColumn);
  if (provider === undefined) return `SELECT count(*) AS "rows" FROM ${sqlIdentifier(table)}`;
  const p = sqlIdentifier(provider.name);
  return `SELECT ${p} AS "provider", count(*) AS "rows" FROM ${sqlIdentifier(table)} GROUP BY ${p} ORDER BY ${p}`;
}

function requireColumns(columns: readonly TableColumn[], names: readonly string[], algorithm: string): TableColumn[] {
  const found = names.map((name) => columns.find((c) => c.name.toLowerCase() === name.toLowerCase()));
  const missing = names.filter((_, i) => found[i] === undefined);
  if (missing.length === 0) return found as TableColumn[];
  const present = columns.map((c) => c.name);
  throw new DynamosError(
    'ALGORITHM_INPUT_INVALID',
    `algorithm ${algorithm} needs the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; the input has ${present.join(', ') || 'no columns'}`,
    { retryable: false, details: { missing, present } },
  );
}

async function createTable(db: DuckDBConnection, table: string, select: string): Promise<void> {
  try {
    await db.run(`CREATE TABLE ${sqlIdentifier(table)} AS ${select}`);
  } catch (error) {
    throw asQueryFailure(error);
  }
}
