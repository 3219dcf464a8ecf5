import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createInfluxTelemetrySink } from '../../adapters/influx/index.js';
import { decisionMeasurement, decisionPoint } from '../../adapters/influx/influx-points.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { systemClock } from '../../knowledge/ports/clock.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { decisionRecord } from '../contract/telemetry-sink.contract.js';
import { requireTestServerEnv } from '../support/servers/server-env.js';
import type { PanelQuery } from './dashboards.js';
import { describeQuery, influxUid, loadDashboards, panelQueries, substitute } from './dashboards.js';

const controlLoop = loadDashboards().filter((d) => d.json.uid === 'dynamos-control-loop');
const panels = panelQueries(controlLoop).filter((q) => q.datasourceUid === influxUid);

/** Decisions of every shape the sink writes: completed with objective scores, through a TTP, denied. */
function decisions(at: number): DecisionRecord[] {
  return [
    decisionRecord(1, { at }),
    decisionRecord(2, { at: at + 1000, strategy: 'dynamos', choice: { archetype: 'dataThroughTtp', ttp: 'SURF' } }),
    decisionRecord(3, { at: at + 2000, choice: undefined, outcome: { kind: 'denied', latencyMs: 3, bytes: 0, cpuSeconds: 0, energyJoules: 0, reason: 'RUG has no relation with the requester' } }),
  ];
}

/** The tag and field keys the InfluxDB sink writes to `decisions`, from the points it makes. */
const writtenKeys = new Set(decisions(0).flatMap((record) => {
  const point = decisionPoint(record);
  return [...Object.keys(point.tags ?? {}), ...Object.keys(point.fields ?? {})];
}));

/** Every measurement, tag or field an InfluxQL query names that the sink does not write (`AS` aliases aside). */
function unknownNames(query: string): string[] {
  const named = query.replace(/\bAS "[^"]*"/gi, '');
  const measurements = [...named.matchAll(/\bFROM "([^"]+)"/gi)].map((m) => m[1] as string);
  const keys = [...named.replace(/\bFROM "[^"]+"/gi, '').matchAll(/"([^"]+)"/g)].map((m) => m[1] as string);
  return [
    ...measurements.filter((m) => m !== decisionMeasurement).map((m) => `measurement ${m}`),
    ...keys.filter((k) => !writtenKeys.has(k)).map((k) => `key ${k}`),
  ];
}

describe('Grafana decisions panels (control loop, InfluxDB)', function () {
  it('has decisions panels, each reading only the measurement, tags and fields the InfluxDB sink writes', () => {
    assert.ok(panels.length >= 3, `the control loop's InfluxDB panels (${panels.length})`);
    assert.deepEqual(panels.flatMap((q) => unknownNames(q.text).map((name) => `${describeQuery(q)} names ${name}`)), []);
  });

  it('has a name check that can fail', () => {
    assert.deepEqual(unknownNames('SELECT mean("latency") AS "latency_ms" FROM "decision" WHERE $timeFilter GROUP BY "archetype", "party"'), ['measurement decision', 'key latency', 'key party']);
  });

  describe('queried in a real InfluxDB the daemon\'s sink wrote to', function () {
    let influx: string;
    const database = `dynamos_decisions_${randomUUID().slice(0, 8)}`;
    const written = decisions(Date.now() - 10 * 60_000);

    before(async function () {
      influx = requireTestServerEnv(this, 'INFLUX_URL');
      const sink = createInfluxTelemetrySink({ url: influx, database }, { logger: silentLogger, clock: systemClock });
      for (const record of written) sink.recordDecision(record);
      await sink.close();
      assert.deepEqual([sink.stats().written, sink.stats().dropped, sink.stats().rejected], [written.length, 0, 0], sink.stats().lastError);
    });
    after(async () => {
      if (influx !== undefined) await fetch(`${influx}/query?q=${encodeURIComponent(`DROP DATABASE "${database}"`)}`, { method: 'POST' });
    });

    /** What Grafana sends for the dashboard's default range (now-1h) and a 1 m interval. */
    const asGrafanaSendsIt = (q: PanelQuery) => {
      assert.equal(controlLoop[0]?.json.time.from, 'now-1h');
      return substitute(q.text, { timeFilter: 'time >= now() - 1h and time <= now()', __interval: '1m' });
    };

    async function rowsOf(query: string): Promise<{ tags: Record<string, string>; row: Record<string, unknown> }[]> {
      const response = await fetch(`${influx}/query?db=${database}&epoch=ms&q=${encodeURIComponent(query)}`);
      const body = (await response.json()) as { error?: string; results?: { error?: string; series?: { tags?: Record<string, string>; columns: string[]; values?: unknown[][] }[] }[] };
      const error = body.error ?? body.results?.[0]?.error;
      if (error !== undefined) throw new Error(`InfluxDB refused ${query}: ${error}`);
      return (body.results?.[0]?.series ?? []).flatMap((s) => (s.values ?? []).map((values) => ({ tags: s.tags ?? {}, row: Object.fromEntries(s.columns.map((c, i) => [c, values[i]])) })));
    }

    it('returns rows for every decisions panel', async () => {
      const empty: string[] = [];
      for (const q of panels) if ((await rowsOf(asGrafanaSendsIt(q))).length === 0) empty.push(describeQuery(q));
      assert.deepEqual(empty, []);
    });

    it('shows the latest decisions newest first, with their choice, outcome and request id', async () => {
      const latest = panels.find((q) => /ORDER BY time DESC/.test(q.text));
      assert.ok(latest !== undefined);
      const rows = (await rowsOf(asGrafanaSendsIt(latest))).map(({ row }) => [row['request_id'], row['archetype'], row['ttp'] ?? null, row['outcome']]);
      assert.deepEqual(rows, [
        ['req-3', 'none', null, 'denied'],
        ['req-2', 'dataThroughTtp', 'SURF', 'completed'],
        ['req-1', 'computeToData', null, 'completed'],
      ]);
    });

    it('counts the decisions by strategy, archetype and outcome', async () => {
      const summary = panels.find((q) => /GROUP BY "strategy", "archetype", "outcome"$/.test(q.text));
      assert.ok(summary !== undefined);
      const counts = (await rowsOf(asGrafanaSendsIt(summary))).map(({ tags, row }) => `${tags['strategy']} ${tags['archetype']} ${tags['outcome']}: ${row['decisions']}`).sort();
      assert.deepEqual(counts, ['dynamos dataThroughTtp completed: 1', 'utility computeToData completed: 1', 'utility none denied: 1']);
    });
  });
});
