import assert from 'node:assert/strict';
import { decisionPoint, fieldName, samplePoint } from '../../../adapters/influx/influx-points.js';
import { decisionRecord, sample } from '../../contract/telemetry-sink.contract.js';

describe('InfluxDB points (docs/telemetry.md)', () => {
  it('tags a decision only with low-cardinality values; ids and free text are fields', () => {
    const point = decisionPoint(decisionRecord(7));
    assert.deepEqual(point.tags, { strategy: 'utility', archetype: 'computeToData', outcome: 'completed', policy_revision: 'rev-1' });
    assert.deepEqual(point.fields, {
      request_id: 'req-7',
      requester: 'jorrit.stutterheim@cloudnation.nl',
      request_type: 'sqlDataRequest',
      providers: 'UVA,VU',
      reason: 'computeToData scores 0.72 against 0.40',
      candidates: 2,
      feasible_candidates: 2,
      seq: 7,
      latency_ms: 1407,
      bytes: 2048,
      cpu_seconds: 0.5,
      energy_joules: 12.5,
      score_latency: 0.8,
      score_energy: 0.6,
    });
  });

  it('tags a denial with archetype none and keeps the chosen TTP and the outcome reason as fields', () => {
    const denied = decisionPoint(decisionRecord(1, { choice: null, policyRevision: '', outcome: { kind: 'denied', latencyMs: 2, bytes: 0, cpuSeconds: 0, energyJoules: 0, reason: 'no agreement' } }));
    assert.deepEqual([denied.tags?.['archetype'], denied.tags?.['policy_revision'], denied.fields?.['outcome_reason']], ['none', 'none', 'no agreement']);
    const viaTtp = decisionPoint(decisionRecord(1, { choice: { archetype: 'dataThroughTtp', ttp: 'SURF' } }));
    assert.equal(viaTtp.fields?.['ttp'], 'SURF');
  });

  it('leaves out a number InfluxDB cannot store instead of refusing the whole batch', () => {
    const point = decisionPoint(decisionRecord(1, { outcome: { kind: 'failed', latencyMs: Number.NaN, bytes: Infinity, cpuSeconds: 0, energyJoules: 0 } }));
    assert.deepEqual([point.fields?.['latency_ms'], point.fields?.['bytes'], point.fields?.['cpu_seconds']], [undefined, undefined, 0]);
    assert.equal(samplePoint(sample(Number.NaN)), undefined);
  });

  it('stamps a sample at its millisecond and a decision at its millisecond plus its seq', () => {
    assert.equal(samplePoint(sample(1, { at: 1_700_000_000_123 }))?.timestamp, '1700000000123000000');
    assert.equal(decisionPoint(decisionRecord(42, { at: 1_700_000_000_123 })).timestamp, '1700000000123000042');
  });

  const objectives: readonly [string, string][] = [
    ['latency', 'latency'],
    ['energyUse', 'energy_use'],
    ['CPU load %', 'cpu_load'],
    ['', 'unnamed'],
  ];
  for (const [objective, field] of objectives) {
    it(`names the score of objective "${objective}" score_${field}`, () => assert.equal(`score_${fieldName(objective)}`, `score_${field}`));
  }
});
