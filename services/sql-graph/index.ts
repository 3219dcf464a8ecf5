import { DynamosError } from '../../knowledge/errors.js';
import type { Artifact, DataSet, Microservice, ServiceContext } from '../microservice.js';
import { sqlIdentifier } from '../workspace/sql-text.js';
import { isNumericType, isTextType, tableColumns } from '../workspace/table-columns.js';
import { maxBars, renderBarChartSvg } from './bar-chart.js';
import type { Bar, BarChart } from './bar-chart.js';

export { barChartSpec, chartTitle, maxBars } from './bar-chart.js';

/** The category label when the table has no text column: bars are numbered rows. */
const rowCategory = 'row';

/**
 * sql-graph: per input, a bar chart of the table (normally the algorithm's result) as an SVG
 * artifact `graph.svg`; the table passes through unchanged. The original listed sql-graph but
 * never implemented it.
 *
 * Category = the first text column (the row's position when there is none); value = the first
 * numeric column. Bars follow the table's order, at most 50 of them. Non-finite values draw no bar.
 *
 * @throws DynamosError ALGORITHM_INPUT_INVALID when the table has no numeric column.
 */
export const sqlGraph: Microservice = {
  name: 'sql-graph',
  async run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]> {
    const outputs: DataSet[] = [];
    for (const input of inputs) {
      const chart = await readChart(ctx, input.table);
      const artifact: Artifact = { name: 'graph.svg', mediaType: 'image/svg+xml', content: await renderBarChartSvg(chart) };
      outputs.push({ ...input, artifacts: [...input.artifacts, artifact] });
    }
    return outputs;
  },
};

async function readChart(ctx: ServiceContext, table: string): Promise<BarChart> {
  const columns = await tableColumns(ctx.db, table);
  const category = columns.find((c) => isTextType(c.typeId));
  const value = columns.find((c) => isNumericType(c.typeId));
  if (value === undefined) {
    throw new DynamosError('ALGORITHM_INPUT_INVALID', `sql-graph needs a numeric column; the table has ${columns.map((c) => `${c.name} ${c.type}`).join(', ')}`, {
      retryable: false,
    });
  }
  const categoryExpr = category === undefined ? 'NULL' : `CAST(${sqlIdentifier(category.name)} AS VARCHAR)`;
  const from = `FROM ${sqlIdentifier(table)}`;
  const counted = await ctx.db.runAndReadAll(`SELECT count(*) ${from}`);
  const totalRows = Number(counted.getRowsJS()[0]?.[0] ?? 0);
  // A plain scan with LIMIT returns the first rows in table order (DuckDB preserves insertion order).
  const reader = await ctx.db.runAndReadAll(`SELECT ${categoryExpr}, CAST(${sqlIdentifier(value.name)} AS DOUBLE) ${from} LIMIT ${maxBars}`);
  const rows = reader.getRowsJS();
  const bars: Bar[] = rows.map(([label, amount], i) => ({
    category: category === undefined ? String(i + 1) : label === null ? '(null)' : String(label),
    value: typeof amount === 'number' && Number.isFinite(amount) ? amount : null,
  }));
  return { category: category?.name ?? rowCategory, value: value.name, bars, totalRows };
}
