import { FieldType, InfluxDB } from 'influx';
import type { IPoint } from 'influx';
import { seededRandom } from '../../experiments/seeded-random.js';

/**
 * Stands in for `dynamos replay TRACE --strategy dynamos,threshold,utility --influx URL` until the
 * replay writes to InfluxDB itself: it writes the points a replay writes (docs/grafana.md), so the
 * experiments dashboard's queries can be checked against a real InfluxDB. The numbers are made up
 * but shaped like a TTP-overload replay: half-way through, the TTP is overloaded, dataThroughTtp
 * slows down, and the strategies differ in whether and when they move to computeToData.
 *
 * Once the replay CLI writes to InfluxDB, the experiments test should run it instead.
 */

/** The measurements' schema: `switched` is an integer field, every other field a float. */
const schema = [
  { measurement: 'replay_request', tags: ['trace', 'strategy', 'archetype', 'result'], fields: { latency_ms: FieldType.FLOAT, energy_j: FieldType.FLOAT, utility: FieldType.FLOAT, switched: FieldType.INTEGER } },
  {
    measurement: 'replay_summary',
    tags: ['trace', 'strategy'],
    fields: Object.fromEntries(
      ['requests', 'authorised', 'denied', 'latency_p50_ms', 'latency_p95_ms', 'latency_p99_ms', 'energy_total_j', 'energy_per_request_j', 'utility_mean', 'switches', 'policy_violations'].map((f) => [f, FieldType.FLOAT]),
    ),
  },
];

export const fixtureStrategies = ['dynamos', 'threshold', 'utility'] as const;
type StrategyName = (typeof fixtureStrategies)[number];

export interface FixtureReplay {
  /** The trace tag: its file name without extension. */
  readonly trace: string;
  readonly strategies: readonly StrategyName[];
  /** Requests per strategy. */
  readonly requests: number;
}

interface RequestPoint {
  readonly at: Date;
  readonly archetype: string;
  readonly result: 'completed' | 'incomplete' | 'denied' | 'failed' | 'cancelled';
  readonly latencyMs: number;
  readonly energyJ: number;
  readonly utility: number;
  readonly switched: 0 | 1;
}

const trace = 'ttp-overload';
const requests = 60;
const spacingMs = 10_000;

/** The archetype a strategy chooses for request `i` of `requests`, with the TTP overloaded from the middle on. */
function choose(strategy: StrategyName, i: number): string {
  const overloaded = i >= requests / 2;
  switch (strategy) {
    case 'dynamos':
      return 'dataThroughTtp'; // the original's rules ignore load
    case 'threshold':
      return overloaded ? 'computeToData' : 'dataThroughTtp';
    case 'utility':
      return overloaded && i >= requests / 2 + 3 ? 'computeToData' : 'dataThroughTtp'; // hysteresis: a few requests later
    default: {
      const _exhaustive: never = strategy;
      return _exhaustive;
    }
  }
}

/** One strategy's requests, deterministic; the last one decided at `endMs`. */
function requestPoints(strategy: StrategyName, endMs: number): RequestPoint[] {
  const random = seededRandom(fixtureStrategies.indexOf(strategy) + 1);
  const points: RequestPoint[] = [];
  let previous: string | undefined;
  for (let i = 0; i < requests; i++) {
    const at = new Date(endMs - (requests - 1 - i) * spacingMs);
    if (i % 10 === 9) {
      points.push({ at, archetype: 'none', result: 'denied', latencyMs: 2 + random(), energyJ: 0, utility: 0, switched: 0 });
      continue;
    }
    const archetype = choose(strategy, i);
    const overloadedTtp = archetype === 'dataThroughTtp' && i >= requests / 2;
    // The original's anchors: 14 s computeToData, 32 s dataThroughTtp; an overloaded TTP is slower.
    const latencyMs = (archetype === 'computeToData' ? 14_000 : 32_000) * (overloadedTtp ? 1.8 : 1) * (0.9 + 0.2 * random());
    points.push({
      at,
      archetype,
      result: i % 17 === 16 ? 'incomplete' : 'completed',
      latencyMs,
      energyJ: latencyMs * 0.004 * (0.8 + 0.4 * random()),
      utility: overloadedTtp ? 0.3 + 0.1 * random() : 0.7 + 0.2 * random(),
      switched: previous !== undefined && previous !== archetype ? 1 : 0,
    });
    previous = archetype;
  }
  return points;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0;
}

function summaryFields(points: readonly RequestPoint[]): Record<string, number> {
  const answered = points.filter((p) => p.result !== 'denied');
  const latencies = answered.map((p) => p.latencyMs).sort((a, b) => a - b);
  const energy = points.reduce((s, p) => s + p.energyJ, 0);
  return {
    requests: points.length,
    authorised: answered.length,
    denied: points.length - answered.length,
    latency_p50_ms: percentile(latencies, 50),
    latency_p95_ms: percentile(latencies, 95),
    latency_p99_ms: percentile(latencies, 99),
    energy_total_j: energy,
    energy_per_request_j: energy / points.length,
    utility_mean: answered.reduce((s, p) => s + p.utility, 0) / answered.length,
    switches: points.reduce((s, p) => s + p.switched, 0),
    policy_violations: 0,
  };
}

/**
 * Writes a replay of trace `ttp-overload` under three strategies to `database` (created when
 * missing) of the InfluxDB 1.x at `influxUrl`: one `replay_request` point per request, the run
 * ending now, and one `replay_summary` point per strategy.
 */
export async function runReplayToInflux(influxUrl: string, database: string): Promise<FixtureReplay> {
  const url = new URL(influxUrl);
  const client = new InfluxDB({ host: url.hostname, port: Number(url.port || 8086), protocol: url.protocol === 'https:' ? 'https' : 'http', database, schema });
  await client.createDatabase(database);
  const endMs = Date.now();
  const points: IPoint[] = [];
  for (const strategy of fixtureStrategies) {
    const decided = requestPoints(strategy, endMs);
    for (const p of decided) {
      points.push({
        measurement: 'replay_request',
        tags: { trace, strategy, archetype: p.archetype, result: p.result },
        fields: { latency_ms: p.latencyMs, energy_j: p.energyJ, utility: p.utility, switched: p.switched },
        timestamp: p.at,
      });
    }
    points.push({ measurement: 'replay_summary', tags: { trace, strategy }, fields: summaryFields(decided), timestamp: new Date(endMs) });
  }
  await client.writePoints(points, { precision: 'ms' });
  return { trace, strategies: fixtureStrategies, requests };
}
