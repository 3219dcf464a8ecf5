import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SimulatedClock } from 'xstate';
import type { MachineProbe } from '../../../adapters/local/local-metrics-source.js';
import { LocalMetricsSource, osMachineProbe } from '../../../adapters/local/local-metrics-source.js';
import { defaultEnergyModel, estimatePowerWatts } from '../../../knowledge/energy-model.js';
import type { JobReport } from '../../../knowledge/ports/job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import type { MetricsReading, Signal } from '../../../knowledge/ports/metrics-source.js';

/** A machine whose CPU ticks and memory the test sets. */
class TestMachine implements MachineProbe {
  busyMs = 0;
  totalMs = 0;
  freeBytes = 6e9;
  readonly totalBytes = 8e9;
  constructor(readonly cpus: number) {}
  cpuTimes() {
    return { busyMs: this.busyMs, totalMs: this.totalMs };
  }
  memory() {
    return { freeBytes: this.freeBytes, totalBytes: this.totalBytes };
  }
  /** The machine runs `ms` of wall time at `busy` utilisation of all its CPUs. */
  run(ms: number, busy: number): void {
    this.totalMs += ms * this.cpus;
    this.busyMs += ms * this.cpus * busy;
  }
}

function jobReport(party: string, cpuSeconds: number, durationMs: number): JobReport {
  return { name: `job-${party}`, party, status: 'succeeded', startMs: 5, durationMs, cpuSeconds, maxRssBytes: 1, rowsOut: 1, bytesOut: 1, stages: [] };
}

const value = (r: MetricsReading, party: string, signal: Signal) => r.samples.find((s) => s.party === party && s.signal === signal)?.value;
const close = (actual: number | undefined, expected: number, what: string) =>
  assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);

describe('LocalMetricsSource: the embedded default reads this machine', () => {
  let clock: SimulatedClock;
  let events: EventEmitter;
  let machine: TestMachine;
  let source: LocalMetricsSource;

  beforeEach(() => {
    clock = new SimulatedClock();
    clock.set(Date.UTC(2025, 0, 6, 9, 0, 0));
    events = new EventEmitter();
    machine = new TestMachine(4);
    source = new LocalMetricsSource({ events, clock, logger: silentLogger, windowMs: 30_000, machine });
  });
  afterEach(() => source.close());

  it("a party's cpu rises with its jobs' CPU-seconds in the window and falls once they leave it", async () => {
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0, 'before any job');
    // 12 CPU-seconds over a 30 s window of 4 CPUs = 0.1.
    clock.increment(1000);
    events.emit('jobEnded', jobReport('UVA', 12, 0));
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.1, 'one job');
    clock.increment(1000);
    events.emit('jobEnded', jobReport('UVA', 24, 0));
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.3, 'two jobs');
    clock.increment(29_000);
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.2, 'the first job left the window');
    clock.increment(1000);
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0, 'both left the window');
  });

  it("counts only the part of a long job's run inside the window", async () => {
    // 60 s job spending 24 CPU-seconds evenly: 12 of them in the last 30 s.
    events.emit('jobEnded', jobReport('VU', 24, 60_000));
    close(value(await source.read(['VU']), 'VU', 'cpu'), 12 / (30 * 4), 'half the run inside');
    clock.increment(15_000);
    close(value(await source.read(['VU']), 'VU', 'cpu'), 6 / (30 * 4), 'a quarter inside');
  });

  it("keeps parties apart and adds the machine's unattributed load to each", async () => {
    events.emit('jobEnded', jobReport('UVA', 12, 0)); // 0.1 of the machine
    machine.run(1000, 0.35); // the machine was 35 % busy: 25 % no job accounts for
    const reading = await source.read(['UVA', 'VU']);
    close(value(reading, 'UVA', 'cpu'), 0.35, 'UVA: its jobs + unattributed');
    close(value(reading, 'VU', 'cpu'), 0.25, 'VU: unattributed only');
  });

  it('keeps every value in 0..1, however much the jobs report', async () => {
    events.emit('jobEnded', jobReport('UVA', 10_000, 0));
    machine.run(1000, 1);
    machine.freeBytes = -5;
    const reading = await source.read(['UVA']);
    for (const signal of ['cpu', 'memory', 'up'] as const) {
      const v = value(reading, 'UVA', signal) as number;
      assert.ok(v >= 0 && v <= 1, `${signal} = ${v}`);
    }
    close(value(reading, 'UVA', 'cpu'), 1, 'capped');
  });

  it("powerWatts follows the energy model at the party's cpu", async () => {
    events.emit('jobEnded', jobReport('UVA', 60, 0)); // 0.5 of the machine
    const reading = await source.read(['UVA', 'VU']);
    close(value(reading, 'UVA', 'powerWatts'), estimatePowerWatts(0.5, 4, defaultEnergyModel), 'UVA');
    close(value(reading, 'UVA', 'powerWatts'), 4 * (0.74 + 2.76 * 0.5), 'UVA by hand');
    close(value(reading, 'VU', 'powerWatts'), 4 * 0.74, 'VU idle');
  });

  it("reports the machine's memory, an empty queue and up for every asked party, at the clock's time", async () => {
    const reading = await source.read(['UVA', 'VU', 'UVA']);
    assert.equal(reading.at, clock.now());
    assert.deepEqual(reading.failures, []);
    for (const party of ['UVA', 'VU']) {
      close(value(reading, party, 'memory'), 0.25, `${party} memory`);
      close(value(reading, party, 'queueDepth'), 0, `${party} queue`);
      close(value(reading, party, 'up'), 1, `${party} up`);
    }
    assert.equal(reading.samples.length, 10, 'five signals for each distinct party');
    assert.ok(reading.samples.every((s) => s.at === clock.now()));
  });

  it('measures the machine between reads from tick deltas', async () => {
    machine.run(1000, 0.2);
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.2, 'first interval');
    machine.run(1000, 0.6);
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.6, 'second interval');
    close(value(await source.read(['UVA']), 'UVA', 'cpu'), 0.6, 'no ticks since: the last known value');
  });

  it('stops listening on close; close is idempotent; a read after close rejects', async () => {
    assert.equal(events.listenerCount('jobEnded'), 1);
    await source.close();
    await source.close();
    assert.equal(events.listenerCount('jobEnded'), 0);
    await assert.rejects(source.read(['UVA']), /closed/);
  });

  it('reads the real machine by default', async () => {
    const real = new LocalMetricsSource({ events, clock, logger: silentLogger });
    try {
      const reading = await real.read(['UVA']);
      assert.ok(osMachineProbe.cpus >= 1);
      for (const s of reading.samples) assert.ok(Number.isFinite(s.value) && s.value >= 0, `${s.signal} = ${s.value}`);
      const memory = value(reading, 'UVA', 'memory') as number;
      assert.ok(memory > 0 && memory < 1, `memory ${memory}`);
    } finally {
      await real.close();
    }
  });
});
