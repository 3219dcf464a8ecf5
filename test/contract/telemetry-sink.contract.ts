import assert from 'node:assert/strict';
import type { SimulatedClock } from 'xstate';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { MetricSample } from '../../knowledge/ports/metrics-source.js';
import type { TelemetrySink } from '../../knowledge/ports/telemetry-sink.js';

/** A sink as the contract observes it: the port plus its counters and a way to await background work. */
export interface ObservableTelemetrySink extends TelemetrySink {
  readonly dropped: number;
  stats(): { readonly written: number; readonly dropped: number; readonly buffered: number; readonly lastError: string | undefined };
  /** Resolves when no write is running or waiting to run. */
  idle(): Promise<void>;
}

export interface SinkOptions {
  readonly bufferSize?: number;
  readonly batchSize?: number;
}

export interface StoredDecision {
  readonly requestId: string;
  readonly archetype: string;
  readonly outcome: string;
  readonly latencyMs: number;
}

export interface StoredSample {
  readonly party: string;
  readonly signal: string;
  readonly value: number;
  readonly at: number;
}

/** A telemetry store and the sinks writing to it; sinks' timers run on `clock`. */
export interface TelemetryWorld {
  readonly clock: SimulatedClock;
  /** Background writes happen at most this long after a record (at the latest after this much clock time). */
  readonly flushIntervalMs: number;
  /** The longest a failed write waits before it is retried. */
  readonly maxRetryDelayMs: number;
  sink(options?: SinkOptions): ObservableTelemetrySink;
  /** The store stops answering (nothing is deleted). */
  down(): Promise<void>;
  up(): Promise<void>;
  storedDecisions(): Promise<readonly StoredDecision[]>;
  storedSamples(): Promise<readonly StoredSample[]>;
  /** Closes every sink and removes what the world created. */
  close(): Promise<void>;
}

const t0 = Date.UTC(2025, 0, 6, 9, 0, 0);

export function decisionRecord(seq: number, overrides: Partial<DecisionRecord> = {}): DecisionRecord {
  return {
    seq,
    at: t0 + seq * 1000,
    requestId: `req-${seq}`,
    requester: 'jorrit.stutterheim@cloudnation.nl',
    requestType: 'sqlDataRequest',
    providers: ['UVA', 'VU'],
    inputsDigest: 'a'.repeat(64),
    policyRevision: 'rev-1',
    strategy: 'utility',
    candidates: [
      {
        archetype: 'computeToData',
        feasible: true,
        rank: 1,
        objectives: [
          { objective: 'latency', score: 0.8, reason: 'fewer hops' },
          { objective: 'energy', score: 0.6, reason: 'no transfer' },
        ],
        reason: 'best weighted score',
      },
      { archetype: 'dataThroughTtp', ttp: 'SURF', feasible: true, rank: 2, objectives: [{ objective: 'latency', score: 0.4, reason: 'transfer' }], reason: 'lower score' },
    ],
    choice: { archetype: 'computeToData' },
    reason: 'computeToData scores 0.72 against 0.40',
    chains: [],
    outcome: { kind: 'completed', latencyMs: 1400 + seq, bytes: 2048, cpuSeconds: 0.5, energyJoules: 12.5 },
    prevHash: '0'.repeat(64),
    hash: 'b'.repeat(64),
    ...overrides,
  };
}

export function sample(value: number, overrides: Partial<MetricSample> = {}): MetricSample {
  return { party: 'UVA', signal: 'cpu', value, at: t0 + value * 1000, ...overrides };
}

const sampleValues = async (world: TelemetryWorld) => (await world.storedSamples()).map((s) => s.value).sort((a, b) => a - b);
const requestIds = async (world: TelemetryWorld) => (await world.storedDecisions()).map((d) => d.requestId).sort();

/**
 * One suite for every TelemetrySink: what the port promises (knowledge/ports/telemetry-sink.ts),
 * checked against the fake always and against real InfluxDB when it is available.
 */
export function telemetrySinkContract(name: string, makeWorld: () => Promise<TelemetryWorld>): void {
  describe(`TelemetrySink contract: ${name}`, () => {
    let world: TelemetryWorld;
    beforeEach(async () => (world = await makeWorld()));
    afterEach(() => world.close());

    it('stores the decisions and samples it records', async () => {
      const sink = world.sink();
      sink.recordDecision(decisionRecord(1));
      sink.recordDecision(decisionRecord(2, { choice: null, outcome: { kind: 'denied', latencyMs: 3, bytes: 0, cpuSeconds: 0, energyJoules: 0, reason: 'no agreement' } }));
      sink.recordSamples([sample(0.25), sample(0.5, { party: 'VU', signal: 'memory' })]);
      await sink.flush();
      const decisions = [...(await world.storedDecisions())].sort((a, b) => a.requestId.localeCompare(b.requestId));
      assert.deepEqual(decisions, [
        { requestId: 'req-1', archetype: 'computeToData', outcome: 'completed', latencyMs: 1401 },
        { requestId: 'req-2', archetype: 'none', outcome: 'denied', latencyMs: 3 },
      ]);
      const samples = [...(await world.storedSamples())].sort((a, b) => a.value - b.value);
      assert.deepEqual(samples, [sample(0.25), sample(0.5, { party: 'VU', signal: 'memory' })]);
      assert.equal(sink.stats().written, 4);
    });

    it('keeps two decisions made in the same millisecond apart', async () => {
      const sink = world.sink();
      sink.recordDecision(decisionRecord(1));
      sink.recordDecision(decisionRecord(2, { at: decisionRecord(1).at }));
      await sink.flush();
      assert.deepEqual(await requestIds(world), ['req-1', 'req-2']);
    });

    it('writes in the background once the flush interval has passed, without a flush call', async () => {
      const sink = world.sink();
      sink.recordSamples([sample(1)]);
      world.clock.increment(world.flushIntervalMs);
      await sink.idle();
      assert.deepEqual(await sampleValues(world), [1]);
    });

    it('returns at once and never throws while the store is down', async () => {
      const sink = world.sink();
      await world.down();
      for (let seq = 1; seq <= 50; seq += 1) assert.equal(sink.recordDecision(decisionRecord(seq)), undefined);
      sink.recordSamples([sample(1)]);
      await sink.flush();
      assert.equal(sink.stats().buffered, 51);
      assert.notEqual(sink.stats().lastError, undefined, 'the failed write is reported in stats');
      world.clock.increment(world.maxRetryDelayMs);
      await sink.idle();
      assert.equal(sink.stats().buffered, 51, 'a retry while down keeps every point');
    });

    it('delivers what it recorded while the store was down once it is back, by itself', async () => {
      const sink = world.sink();
      await world.down();
      sink.recordDecision(decisionRecord(1));
      sink.recordSamples([sample(1), sample(2)]);
      await sink.flush();
      assert.deepEqual(await sampleValues(world), []);
      await world.up();
      world.clock.increment(world.maxRetryDelayMs);
      await sink.idle();
      assert.deepEqual(await requestIds(world), ['req-1']);
      assert.deepEqual(await sampleValues(world), [1, 2]);
      assert.deepEqual([sink.stats().buffered, sink.dropped], [0, 0]);
    });

    it('keeps at most bufferSize points while down, dropping the oldest and counting them', async () => {
      const sink = world.sink({ bufferSize: 3, batchSize: 2 });
      await world.down();
      sink.recordSamples([sample(1), sample(2), sample(3), sample(4)]);
      sink.recordSamples([sample(5)]);
      await sink.flush();
      assert.deepEqual([sink.stats().buffered, sink.dropped, sink.stats().dropped], [3, 2, 2]);
      await world.up();
      await sink.flush();
      assert.deepEqual(await sampleValues(world), [3, 4, 5]);
    });

    it('flushes on close, closes twice without harm, and drops what is recorded after', async () => {
      const sink = world.sink();
      sink.recordSamples([sample(7)]);
      await sink.close();
      await sink.close();
      sink.recordSamples([sample(8)]);
      assert.deepEqual(await sampleValues(world), [7]);
      assert.equal(sink.dropped, 1);
    });
  });
}
