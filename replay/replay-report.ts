import type { ReplayResult } from './replay.js';
import type { StrategySummary } from './replay-stats.js';

/** The columns of report.csv and the printed table, in order: one name, one way to read it. */
const columns: readonly { readonly name: string; readonly of: (s: StrategySummary) => number | string }[] = [
  { name: 'strategy', of: (s) => s.strategy },
  { name: 'requests', of: (s) => s.requests },
  { name: 'authorised', of: (s) => s.authorised },
  { name: 'denied', of: (s) => s.denied },
  { name: 'completed', of: (s) => s.results.completed },
  { name: 'incomplete', of: (s) => s.results.incomplete },
  { name: 'failed', of: (s) => s.results.failed },
  { name: 'cancelled', of: (s) => s.results.cancelled },
  { name: 'latency_p50_ms', of: (s) => s.latencyP50Ms },
  { name: 'latency_p95_ms', of: (s) => s.latencyP95Ms },
  { name: 'latency_p99_ms', of: (s) => s.latencyP99Ms },
  { name: 'energy_per_request_j', of: (s) => s.energyPerRequestJ },
  { name: 'energy_total_j', of: (s) => s.energyTotalJ },
  { name: 'utility_mean', of: (s) => s.utilityMean },
  { name: 'switches', of: (s) => s.switches },
  { name: 'max_switches_per_hold_down', of: (s) => s.maxSwitchesPerHoldDown },
  { name: 'policy_violations', of: (s) => s.policyViolations },
];

/** report.json: the trace it came from, the seed, and every strategy's summary. Stable bytes. */
export function reportJson(result: ReplayResult, traceName: string): string {
  const { header } = result;
  const report = {
    trace: traceName,
    source: header.source,
    ...(header.scenario === undefined ? {} : { scenario: header.scenario }),
    durationMs: header.durationMs ?? null,
    seed: result.seed,
    requests: result.requests,
    strategies: result.summaries,
  };
  return `${JSON.stringify(report, null, 2)}\n`;
}

export function reportCsv(summaries: readonly StrategySummary[]): string {
  const rows = [columns.map((c) => c.name), ...summaries.map((s) => columns.map((c) => String(c.of(s))))];
  return `${rows.map((r) => r.join(',')).join('\n')}\n`;
}

/** The report as a terminal table: one row per column of the CSV, one column per strategy. */
export function reportTable(summaries: readonly StrategySummary[]): string {
  const rows = columns.map((c) => [c.name, ...summaries.map((s) => String(c.of(s)))]);
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] as string).length))) ?? [];
  const line = (r: readonly string[]) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  ');
  const [head, ...body] = rows;
  return [line(head as string[]), '-'.repeat(widths.reduce((s, w) => s + w + 2, -2)), ...body.map(line)].join('\n');
}
