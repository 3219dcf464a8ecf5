import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { SimulatedClock } from 'xstate';
import type { MachineProbe, SiteUsageSource } from '../../../adapters/local/local-metrics-source.js';
import { LocalMetricsSource, osMachineProbe } from '../../../adapters/local/local-metrics-source.js';
import type { SiteUsage } from '../../../adapters/local/sites/site-envelopes.js';
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

  it("does not charge the daemon's own start to any party once told to count from now", async () => {
    machine.run(3000, 1); // the daemon starting: every CPU busy
    source.countFromNow();
    close(value(await source.read(['UVA', 'SURF']), 'SURF', 'cpu'), 0, 'nothing measured since');
    clock.increment(15_000);
    machine.run(15_000, 0.25);
    close(value(await source.read(['UVA', 'SURF']), 'SURF', 'cpu'), 0.25, 'the machine\'s load since');
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

/** Sites whose cgroup counters the test moves: CPU-seconds burnt and memory held, per party. */
class TestSites implements SiteUsageSource {
  private readonly sites = new Map<string, { -readonly [K in keyof SiteUsage]: SiteUsage[K] }>();
  readonly broken = new Set<string>();
  /** A site made now: its counter starts at 0. */
  add(party: string, sinceMs: number, bounds: { cpus?: number; memoryLimitBytes?: number } = {}): void {
    this.sites.set(party, { cpuSeconds: 0, memoryBytes: 0, sinceMs, ...bounds });
  }
  burn(party: string, cpuSeconds: number): void {
    const site = this.sites.get(party);
    if (site !== undefined) site.cpuSeconds += cpuSeconds;
  }
  hold(party: string, bytes: number): void {
    const site = this.sites.get(party);
    if (site !== undefined) site.memoryBytes = bytes;
  }
  async usage(party: string): Promise<SiteUsage | undefined> {
    if (this.broken.has(party)) throw new Error('cpuacct.usage: ENOENT');
    const site = this.sites.get(party);
    return site === undefined ? undefined : { ...site };
  }
}

describe('LocalMetricsSource: a party with a site envelope is read from its own cgroups', () => {
  let clock: SimulatedClock;
  let events: EventEmitter;
  let machine: TestMachine;
  let sites: TestSites;
  let source: LocalMetricsSource;

  beforeEach(() => {
    clock = new SimulatedClock();
    clock.set(Date.UTC(2025, 0, 6, 9, 0, 0));
    events = new EventEmitter();
    machine = new TestMachine(4);
    sites = new TestSites();
    sites.add('SURF', clock.now(), { cpus: 0.25, memoryLimitBytes: 2e9 });
    source = new LocalMetricsSource({ events, clock, logger: silentLogger, windowMs: 30_000, machine, sites });
  });
  afterEach(() => source.close());

  it('counts from the moment its envelope was made at the first read: what the machine did before is not the site\'s', async () => {
    // The daemon starting up keeps the machine busy; the site burns 1.25 CPU-seconds in 10 s.
    machine.run(10_000, 1);
    clock.increment(10_000);
    sites.burn('SURF', 1.25);
    const reading = await source.read(['SURF']);
    close(value(reading, 'SURF', 'cpu'), 1.25 / (10 * 0.25), 'its CPU-seconds over its quarter core');
  });

  it('divides what it burnt since the previous read by the time since it and its quota, capped at 1', async () => {
    clock.increment(4000);
    await source.read(['SURF']);
    clock.increment(2000);
    sites.burn('SURF', 0.25);
    close(value(await source.read(['SURF']), 'SURF', 'cpu'), 0.25 / (2 * 0.25), 'half its quota');
    clock.increment(1000);
    sites.burn('SURF', 0.5);
    close(value(await source.read(['SURF']), 'SURF', 'cpu'), 1, 'capped at its quota');
    close(value(await source.read(['SURF']), 'SURF', 'cpu'), 1, 'no time passed: the last value');
    clock.increment(5000);
    close(value(await source.read(['SURF']), 'SURF', 'cpu'), 0, 'idle');
  });

  it("uses the machine's CPUs and memory for a bound it lacks, and never more cores than the machine has", async () => {
    sites.add('VU', clock.now());
    sites.add('UVA', clock.now(), { cpus: 16 });
    clock.increment(10_000);
    sites.burn('VU', 20);
    sites.burn('UVA', 20);
    sites.hold('VU', 2e9);
    const reading = await source.read(['VU', 'UVA']);
    close(value(reading, 'VU', 'cpu'), 20 / (10 * 4), 'VU: unbounded, over the 4 CPUs');
    close(value(reading, 'UVA', 'cpu'), 20 / (10 * 4), 'UVA: 16 cores asked, 4 exist');
    close(value(reading, 'VU', 'memory'), 2e9 / 8e9, "VU: over the machine's memory");
    close(value(reading, 'UVA', 'powerWatts'), estimatePowerWatts(0.5, 4), 'UVA: power of the 4 cores it can have');
  });

  it('reads memory against its limit and power over its own cores', async () => {
    clock.increment(10_000);
    sites.burn('SURF', 1);
    sites.hold('SURF', 5e8);
    const reading = await source.read(['SURF']);
    close(value(reading, 'SURF', 'memory'), 0.25, 'a quarter of its 2 GB');
    close(value(reading, 'SURF', 'powerWatts'), estimatePowerWatts(0.4, 0.25, defaultEnergyModel), 'model at its cpu');
    close(value(reading, 'SURF', 'powerWatts'), 0.25 * (0.74 + 2.76 * 0.4), 'by hand');
    close(value(reading, 'SURF', 'up'), 1, 'up');
    close(value(reading, 'SURF', 'queueDepth'), 0, 'queue');
  });

  it("keeps today's reading for a party without a site, and counts a site's jobs as attributed load", async () => {
    events.emit('jobEnded', jobReport('SURF', 12, 0)); // 0.1 of the machine
    machine.run(1000, 0.35);
    clock.increment(1000);
    const reading = await source.read(['SURF', 'VU']);
    close(value(reading, 'VU', 'cpu'), 0.25, 'VU: unattributed only, the site\'s job excluded');
    close(value(reading, 'VU', 'memory'), 0.25, "VU: the machine's memory");
    close(value(reading, 'SURF', 'cpu'), 0, 'SURF: its cgroup burnt nothing');
  });

  it('lists a site it cannot read in failures, and still says the party is up', async () => {
    sites.broken.add('SURF');
    const reading = await source.read(['SURF', 'VU']);
    assert.deepEqual(reading.failures.map((f) => f.signal).sort(), ['cpu', 'memory', 'powerWatts']);
    assert.match(reading.failures[0]?.reason ?? '', /SURF's site: cpuacct.usage: ENOENT/);
    assert.equal(value(reading, 'SURF', 'cpu'), undefined);
    close(value(reading, 'SURF', 'up'), 1, 'up');
    assert.ok(value(reading, 'VU', 'cpu') !== undefined, 'other parties are read');
  });
});
