import type { TopLevelSpec } from 'vega-lite';

/** At most this many bars; more would be unreadable. */
export const maxBars = 50;

export interface Bar {
  readonly category: string;
  readonly value: number | null;
}

export interface BarChart {
  readonly category: string;
  readonly value: string;
  readonly bars: readonly Bar[];
  /** Rows in the table; more than bars.length when the chart was cut. */
  readonly totalRows: number;
}

/** The chart's title: "<value> by <category>", saying so when only the first bars are shown. */
export function chartTitle(chart: BarChart): string {
  const title = `${chart.value} by ${chart.category}`;
  return chart.totalRows > chart.bars.length ? `${title} (first ${chart.bars.length} of ${chart.totalRows} rows)` : title;
}

/** A vega-lite bar chart, bars in table order. Field names are fixed so any column name is safe. */
export function barChartSpec(chart: BarChart): TopLevelSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: chartTitle(chart),
    data: { values: chart.bars.map((bar) => ({ category: bar.category, value: bar.value })) },
    mark: 'bar',
    encoding: {
      x: { field: 'category', type: 'nominal', sort: null, title: chart.category },
      y: { field: 'value', type: 'quantitative', title: chart.value },
    },
  };
}

/**
 * Renders the chart as SVG without a browser or canvas. vega and vega-lite are imported here, on
 * first use, so jobs that draw no chart do not load them. The same chart gives the same bytes.
 */
export async function renderBarChartSvg(chart: BarChart): Promise<string> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const view = new vega.View(vega.parse(vegaLite.compile(barChartSpec(chart)).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
