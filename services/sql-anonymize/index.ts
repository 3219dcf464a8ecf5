import { DynamosError } from '../../knowledge/errors.js';
import type { DataSet, Microservice, ServiceContext } from '../microservice.js';
import { sqlIdentifier } from '../workspace/load-csv-table.js';
import { isDateType, isIntegerType, isTextType, tableColumns } from '../workspace/table-columns.js';
import type { TableColumn } from '../workspace/table-columns.js';

/** The original's date columns (birth date, employment start), cut to the year. */
export const dateColumns: readonly string[] = ['Gebdat', 'Ingdatdv'];

/**
 * Whether `column` is `base` or one of its duplicates `base_1`, `base_2`… that sql-query makes
 * for a join, compared case-insensitively.
 */
export function isColumnOrDuplicate(column: string, base: string): boolean {
  const lower = column.toLowerCase();
  const baseLower = base.toLowerCase();
  return lower === baseLower || (lower.startsWith(`${baseLower}_`) && /^\d+$/.test(lower.slice(baseLower.length + 1)));
}

/**
 * sql-anonymize: per input, cuts the date columns Gebdat and Ingdatdv to the year and removes every
 * column the steward marked sensitive (`job.sensitiveColumns`); the other columns keep their order.
 * The original only cut the dates and let sensitive columns through.
 *
 * @throws DynamosError QUERY_REJECTED when every column of an input is sensitive.
 */
export const sqlAnonymize: Microservice = {
  name: 'sql-anonymize',
  async run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]> {
    const outputs: DataSet[] = [];
    for (const input of inputs) {
      const columns = await tableColumns(ctx.db, input.table);
      const kept = columns.filter((c) => !ctx.job.sensitiveColumns.some((s) => isColumnOrDuplicate(c.name, s)));
      if (kept.length === 0) {
        throw new DynamosError('QUERY_REJECTED', `every column of the result is sensitive: ${columns.map((c) => c.name).join(', ')}`, {
          retryable: false,
        });
      }
      const table = ctx.newTableName('anonymize');
      const select = kept.map((c) => `${anonymizedValue(c)} AS ${sqlIdentifier(c.name)}`).join(', ');
      await ctx.db.run(`CREATE VIEW ${sqlIdentifier(table)} AS SELECT ${select} FROM ${sqlIdentifier(input.table)}`);
      outputs.push({ ...input, table });
    }
    return outputs;
  },
};

/**
 * The SQL for one column's anonymised value. A date column becomes its year:
 * - DATE or TIMESTAMP: `year(x)`;
 * - integer (`19900101`): the first 4 digits as an integer (`1990`), the original's rule applied
 *   to the number's text; values shorter than 4 digits stay as they are;
 * - text: the first 4 characters when at least 4 long (the original's rule), else unchanged;
 * - anything else: the text rule on the value cast to text.
 * Other columns pass unchanged.
 */
function anonymizedValue(column: TableColumn): string {
  const x = sqlIdentifier(column.name);
  if (!dateColumns.some((d) => isColumnOrDuplicate(column.name, d))) return x;
  if (isDateType(column.typeId)) return `year(${x})`;
  if (isIntegerType(column.typeId)) {
    return `CASE WHEN length(CAST(${x} AS VARCHAR)) >= 4 THEN CAST(left(CAST(${x} AS VARCHAR), 4) AS BIGINT) ELSE CAST(${x} AS BIGINT) END`;
  }
  const text = isTextType(column.typeId) ? x : `CAST(${x} AS VARCHAR)`;
  return `CASE WHEN length(${text}) >= 4 THEN left(${text}, 4) ELSE ${text} END`;
}
