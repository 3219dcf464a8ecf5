import type { DataSet, Microservice, ServiceContext } from '../microservice.js';
import { sqlIdentifier, sqlString } from '../workspace/sql-text.js';
import { isNumericType, tableColumns } from '../workspace/table-columns.js';
import type { TableColumn } from '../workspace/table-columns.js';

/** The column sql-aggregate adds first: which steward a row came from. */
export const providerColumn = 'provider';

/**
 * sql-aggregate: combines every input into one table, each input's rows exactly once (the original
 * repeated the first provider's rows), with a leading `provider` column naming the input's
 * steward (its providers joined by `,` when an input already combines several).
 *
 * Columns are matched by name, case-insensitively (UNION ALL BY NAME); a column an input lacks is
 * NULL for its rows. A column whose type differs between inputs keeps DuckDB's common type when
 * all are numeric and becomes VARCHAR otherwise, so stewards' differently typed files always
 * combine. An input's own column named `provider` is kept as `provider_1`.
 */
export const sqlAggregate: Microservice = {
  name: 'sql-aggregate',
  async run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]> {
    if (inputs.length === 0) return [];
    const columnsOf = await Promise.all(inputs.map((input) => tableColumns(ctx.db, input.table)));
    const asText = conflictingColumns(columnsOf);
    const selects = inputs.map((input, i) => {
      const exprs = (columnsOf[i] ?? []).map((c) => {
        const name = c.name.toLowerCase() === providerColumn ? `${providerColumn}_1` : c.name;
        const value = asText.has(c.name.toLowerCase()) ? `CAST(${sqlIdentifier(c.name)} AS VARCHAR)` : sqlIdentifier(c.name);
        return `${value} AS ${sqlIdentifier(name)}`;
      });
      const provider = `${sqlString(input.providers.join(','))} AS ${sqlIdentifier(providerColumn)}`;
      return `SELECT ${[provider, ...exprs].join(', ')} FROM ${sqlIdentifier(input.table)}`;
    });
    const table = ctx.newTableName('aggregate');
    await ctx.db.run(`CREATE VIEW ${sqlIdentifier(table)} AS ${selects.join('\nUNION ALL BY NAME\n')}`);
    const providers = [...new Set(inputs.flatMap((input) => input.providers))];
    return [{ table, providers, artifacts: inputs.flatMap((input) => input.artifacts) }];
  },
};

/** Lower-case names of columns whose types differ between inputs and are not all numeric. */
function conflictingColumns(columnsOf: readonly (readonly TableColumn[])[]): Set<string> {
  const typesOf = new Map<string, TableColumn[]>();
  for (const columns of columnsOf) {
    for (const column of columns) {
      const key = column.name.toLowerCase();
      typesOf.set(key, [...(typesOf.get(key) ?? []), column]);
    }
  }
  const conflicting = new Set<string>();
  for (const [name, columns] of typesOf) {
    const types = new Set(columns.map((c) => c.type));
    if (types.size > 1 && !columns.every((c) => isNumericType(c.typeId))) conflicting.add(name);
  }
  return conflicting;
}
