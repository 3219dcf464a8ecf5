import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { requireTestServerEnv } from '../support/servers/server-env.js';
import type { PanelQuery } from './dashboards.js';
import { describeQuery, influxUid, loadDashboards, panelQueries, substitute, variableQueries } from './dashboards.js';
import type { FixtureReplay } from './replay-fixture.js';
import { runReplayToInflux } from './replay-fixture.js';

const dashboards = loadDashboards();
const experiments = dashboards.find((d) => d.json.uid === 'dynamos-experiments');
// The control loop's decisions panels read what the daemon writes: test/grafana/decision-panels.test.ts.
const panels = panelQueries(dashboards.filter((d) => d === experiments)).filter((q) => q.datasourceUid === influxUid);
const variables = variableQueries(dashboards).filter((q) => q.datasourceUid === influxUid);

interface InfluxSeries {
  readonly tags?: Readonly<Record<string, string>>;
  readonly columns: readonly string[];
  readonly values?: readonly (readonly unknown[])[];
}

/** Regex metacharacters escaped, as Grafana escapes a variable's value inside `/^$var$/`. */
const escapeRegex = (value: string) => value.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

/** Grafana's `$timeFilter` for the dashboard's default range (`now-24h` → `time >= now() - 24h and time <= now()`). */
function timeFilterOf(from: string): string {
  const match = /^now-(\d+[smhdw])$/.exec(from);
  if (match === null) throw new Error(`the experiments dashboard's default range starts at ${from}, not now-<duration>`);
  return `time >= now() - ${match[1]} and time <= now()`;
}

describe('Grafana InfluxQL panels against a real InfluxDB holding a replay', function () {
  let influx: string;
  const database = `dynamos_grafana_${randomUUID().slice(0, 8)}`;
  let replay: FixtureReplay;

  before(async function () {
    influx = requireTestServerEnv(this, 'INFLUX_URL');
    replay = await runReplayToInflux(influx, database);
  });
  after(async () => {
    if (influx !== undefined) await fetch(`${influx}/query?q=${encodeURIComponent(`DROP DATABASE "${database}"`)}`, { method: 'POST' });
  });

  /** What Grafana would send: the dashboard's default range, one interval, the replayed trace, all strategies. */
  const asGrafanaSendsIt = (q: PanelQuery) =>
    substitute(q.text, {
      timeFilter: timeFilterOf(String(experiments?.json.time.from)),
      __interval: '1m',
      trace: escapeRegex(replay.trace),
      strategy: `(${replay.strategies.map(escapeRegex).join('|')})`,
    });

  async function seriesOf(query: string): Promise<InfluxSeries[]> {
    const response = await fetch(`${influx}/query?db=${database}&epoch=ms&q=${encodeURIComponent(query)}`);
    const body = (await response.json()) as { error?: string; results?: { error?: string; series?: InfluxSeries[] }[] };
    const error = body.error ?? body.results?.[0]?.error;
    if (error !== undefined) throw new Error(`InfluxDB refused ${query}: ${error}`);
    return body.results?.[0]?.series ?? [];
  }

  it('holds one replay_request point per request and strategy, and one replay_summary per strategy', async () => {
    const counts = (await seriesOf(`SELECT count("latency_ms") FROM "replay_request" WHERE "trace" = '${replay.trace}' GROUP BY "strategy"`)).map((s) => s.values?.[0]?.[1]);
    assert.ok(replay.requests > 0);
    assert.deepEqual(counts, replay.strategies.map(() => replay.requests));
    const summaries = await seriesOf(`SELECT "utility_mean" FROM "replay_summary" WHERE "trace" = '${replay.trace}' GROUP BY "strategy"`);
    assert.equal(summaries.length, replay.strategies.length);
  });

  it('returns rows for every panel query, for every strategy side by side', async () => {
    const problems: string[] = [];
    for (const q of panels) {
      const query = asGrafanaSendsIt(q);
      let series: InfluxSeries[];
      try {
        series = await seriesOf(query);
      } catch (error) {
        problems.push(`${describeQuery(q)}: ${(error as Error).message}`);
        continue;
      }
      const withRows = series.filter((s) => (s.values?.length ?? 0) > 0);
      const strategies = [...new Set(withRows.map((s) => s.tags?.['strategy']))].sort();
      if (withRows.length === 0) problems.push(`${describeQuery(q)} returned no rows (sent: ${query})`);
      else if (strategies.join() !== [...replay.strategies].sort().join()) problems.push(`${describeQuery(q)} returned strategies ${strategies.join()}`);
    }
    assert.deepEqual(problems, []);
  });

  it('offers the replayed trace and its strategies as template values', async () => {
    const values = async (q: PanelQuery) => (await seriesOf(asGrafanaSendsIt(q))).flatMap((s) => (s.values ?? []).map((row) => String(row[1])));
    const byName = new Map(variables.map((v) => [v.refId, v]));
    assert.deepEqual([...byName.keys()], ['trace', 'strategy']);
    assert.deepEqual(await values(byName.get('trace') as PanelQuery), [replay.trace]);
    assert.deepEqual(await values(byName.get('strategy') as PanelQuery), [...replay.strategies].sort());
  });

  it('finds nothing for a trace that was not replayed: the panels filter by $trace', async () => {
    const summary = panels.find((q) => q.text.includes('FROM "replay_summary"'));
    assert.ok(summary !== undefined);
    const other = substitute(summary.text, { timeFilter: 'time <= now()', __interval: '1m', trace: 'no-such-trace', strategy: '.*' });
    assert.deepEqual(await seriesOf(other), []);
  });
});
