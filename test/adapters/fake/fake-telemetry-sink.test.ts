import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { FakeTelemetryWorld } from '../../../adapters/fake/fake-telemetry-sink.js';
import { decisionRecord, sample, telemetrySinkContract } from '../../contract/telemetry-sink.contract.js';
import type { TelemetryWorld } from '../../contract/telemetry-sink.contract.js';

function fakeWorld(): Promise<TelemetryWorld> {
  const world = new FakeTelemetryWorld();
  const sinks: { close(): Promise<void> }[] = [];
  return Promise.resolve({
    clock: new SimulatedClock(),
    flushIntervalMs: 1000,
    maxRetryDelayMs: 30_000,
    sink: (options) => {
      const sink = world.sink(options?.bufferSize === undefined ? {} : { bufferSize: options.bufferSize });
      sinks.push(sink);
      return sink;
    },
    down: () => Promise.resolve(world.down()),
    up: () => Promise.resolve(world.up()),
    storedDecisions: () =>
      Promise.resolve(world.decisions.map((d) => ({ requestId: d.requestId, archetype: d.choice?.archetype ?? 'none', outcome: d.outcome.kind, latencyMs: d.outcome.latencyMs }))),
    storedSamples: () => Promise.resolve(world.samples.map((s) => ({ party: s.party, signal: s.signal, value: s.value, at: s.at }))),
    close: async () => {
      for (const sink of sinks) await sink.close();
    },
  });
}

telemetrySinkContract('fake', fakeWorld);

describe('FakeTelemetryWorld', () => {
  it('keeps each sink\'s waiting records apart and delivers them all when it comes back', () => {
    const world = new FakeTelemetryWorld();
    const [a, b] = [world.sink(), world.sink({ bufferSize: 1 })];
    world.down();
    a.recordDecision(decisionRecord(1));
    b.recordSamples([sample(1), sample(2)]);
    assert.deepEqual([a.stats().buffered, b.stats().buffered, b.dropped], [1, 1, 1]);
    world.up();
    assert.deepEqual([world.decisions.map((d) => d.seq), world.samples.map((s) => s.value)], [[1], [2]]);
  });

  it('drops what it could not deliver when a sink closes while the world is down', async () => {
    const world = new FakeTelemetryWorld();
    const sink = world.sink();
    world.down();
    sink.recordSamples([sample(1)]);
    await sink.close();
    world.up();
    assert.deepEqual([world.samples, sink.dropped, sink.stats().buffered], [[], 1, 0]);
  });
});
