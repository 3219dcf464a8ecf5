import type { TopLevelSpec } from 'vega-lite';
import type { TimelineBucket } from './replay-stats.js';

const schema = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The figures a replay draws, by file name (docs/replay.md#figures). */
export function figureSpecs(timeline: readonly TimelineBucket[], title: string): Record<string, TopLevelSpec> {
  const perBucket = timeline.map((b) => ({ strategy: b.strategy, minute: b.minute, latency: b.meanLatencyMs, energy: b.energyPerRequestJ }));
  const choices = timeline.flatMap((b) => Object.entries(b.choices).map(([choice, n]) => ({ strategy: b.strategy, minute: b.minute, choice, share: n / b.requests })));
  const line = (field: 'latency' | 'energy', axis: string, what: string): TopLevelSpec => ({
    $schema: schema,
    title: `${what} over time per strategy — ${title}`,
    width: 640,
    height: 280,
    data: { values: perBucket },
    mark: { type: 'line', point: false, interpolate: 'step-after' },
    encoding: {
      x: { field: 'minute', type: 'quantitative', title: 'time (minutes since the trace began)' },
      y: { field, type: 'quantitative', title: axis },
      // One legend for both channels: colour and dash together tell the lines apart where they overlap.
      color: { field: 'strategy', type: 'nominal', title: 'strategy' },
      strokeDash: { field: 'strategy', type: 'nominal', title: 'strategy' },
    },
  });
  return {
    'latency-over-time.svg': line('latency', 'mean latency of answered requests (ms)', 'Latency'),
    'energy-over-time.svg': line('energy', 'energy per request (J)', 'Energy'),
    'archetype-over-time.svg': {
      $schema: schema,
      title: `Chosen archetype over time — ${title}`,
      data: { values: choices },
      facet: { row: { field: 'strategy', type: 'nominal', title: 'strategy' } },
      spec: {
        width: 640,
        height: 110,
        mark: { type: 'area', interpolate: 'step-after' },
        encoding: {
          x: { field: 'minute', type: 'quantitative', title: 'time (minutes since the trace began)' },
          y: { field: 'share', type: 'quantitative', stack: 'normalize', title: 'share of requests', axis: { format: '%' } },
          color: { field: 'choice', type: 'nominal', title: 'archetype (@TTP)', legend: { labelLimit: 400 } },
        },
      },
    },
  };
}

/**
 * Renders each figure as SVG without a browser or canvas (vega's SVG renderer). The same
 * timeline gives the same bytes.
 */
export async function renderFigures(specs: Record<string, TopLevelSpec>): Promise<Record<string, string>> {
  const [vegaLite, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: 'none' });
    try {
      out[name] = await view.toSVG();
    } finally {
      view.finalize();
    }
  }
  return out;
}
