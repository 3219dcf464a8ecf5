import assert from 'node:assert/strict';
import { createPrometheusMetricsSource, defaultQueries, resolvePrometheusConfig } from '../../../adapters/prometheus/index.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { signals } from '../../../knowledge/ports/metrics-source.js';

describe('Prometheus adapter config', () => {
  it('fills the documented defaults', () => {
    const c = resolvePrometheusConfig({ url: 'http://prometheus:9090' });
    assert.equal(c.partyLabel, 'party');
    assert.equal(c.rateWindow, '1m');
    assert.equal(c.timeoutMs, 2000);
    assert.deepEqual(c.staleAfterMs, { cpu: 30_000, memory: 30_000, queueDepth: 30_000, powerWatts: 60_000, up: 30_000 });
    assert.deepEqual(c.headers, {});
    for (const s of signals) assert.equal(c.queries[s].length, defaultQueries[s].length, `${s} keeps its default alternatives`);
  });

  it('renders the party label and rate window into every default query', () => {
    const c = resolvePrometheusConfig({ url: 'http://prometheus:9090', partyLabel: 'steward', rateWindow: '2m' });
    const all = signals.flatMap((s) => c.queries[s].flatMap((q) => [q.query, q.sampledAt ?? '']));
    assert.ok(all.every((q) => !q.includes('{{')), 'no placeholder left');
    assert.equal(c.queries.powerWatts[1]?.query, 'sum by (steward) (rate(kepler_container_cpu_joules_total{zone=~"package|dram"}[2m]))');
    assert.equal(c.queries.up[0]?.sampledAt, 'max by (steward) (timestamp(up))');
  });

  it('replaces a signal’s defaults with the queries given, strings or objects', () => {
    const c = resolvePrometheusConfig({
      url: 'https://monitoring.example/prometheus',
      queries: { queueDepth: ['sum by ({{partyLabel}}) (my_queue)', { query: 'x', sampledAt: 'y' }] },
    });
    assert.deepEqual(c.queries.queueDepth, [{ query: 'sum by (party) (my_queue)' }, { query: 'x', sampledAt: 'y' }]);
    assert.equal(c.queries.cpu.length, 2, 'other signals keep their defaults');
  });

  it('accepts its own output again unchanged (the daemon parses it, then hands it to the factory)', () => {
    const once = resolvePrometheusConfig({ url: 'http://p:9090', partyLabel: 'steward', auth: { type: 'bearer', token: 't' } });
    assert.deepEqual(resolvePrometheusConfig(once), once);
  });

  const invalid = [
    { rule: 'a URL that is not http(s)', config: { url: 'ftp://prometheus' }, path: 'url' },
    { rule: 'credentials in the URL', config: { url: 'http://user:pw@prometheus:9090' }, path: 'url' },
    { rule: 'a party label that is not a label name', config: { url: 'http://p:9090', partyLabel: 'the party' }, path: 'partyLabel' },
    { rule: 'a rate window that is not a duration', config: { url: 'http://p:9090', rateWindow: '60' }, path: 'rateWindow' },
    { rule: 'an empty list of queries', config: { url: 'http://p:9090', queries: { cpu: [] } }, path: 'queries.cpu' },
    { rule: 'an unknown signal', config: { url: 'http://p:9090', queries: { disk: ['x'] } }, path: 'queries.disk' },
    { rule: 'a zero timeout', config: { url: 'http://p:9090', timeoutMs: 0 }, path: 'timeoutMs' },
    { rule: 'a negative staleness bound', config: { url: 'http://p:9090', staleAfterMs: { cpu: -1 } }, path: 'staleAfterMs.cpu' },
    { rule: 'an unknown auth type', config: { url: 'http://p:9090', auth: { type: 'digest' } }, path: 'auth.type' },
  ];
  for (const row of invalid) {
    it(`rejects ${row.rule} with CONFIG_INVALID at ${row.path}`, () => {
      assert.throws(
        () => createPrometheusMetricsSource(row.config as never, { logger: silentLogger, clock: systemClock }),
        (e: unknown) => {
          assert.ok(e instanceof DynamosError);
          assert.equal(e.code, 'CONFIG_INVALID');
          const problems = e.details?.['problems'] as { path: string }[];
          assert.deepEqual(problems.map((p) => p.path), [row.path]);
          return true;
        },
      );
    });
  }

  it('reports every problem at once', () => {
    assert.throws(
      () => resolvePrometheusConfig({ url: 'nope', timeoutMs: -5, extra: true } as never),
      (e: unknown) => e instanceof DynamosError && ['url', 'timeoutMs', 'extra'].every((p) => e.message.includes(`${p}:`)),
    );
  });
});
