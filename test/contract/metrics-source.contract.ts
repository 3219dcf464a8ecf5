import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import type { MetricsReading, MetricsSource, Signal } from '../../knowledge/ports/metrics-source.js';

/** What a party looks like to the monitoring system; a signal left out does not exist for it. */
export interface PartyState {
  readonly cpu?: number;
  readonly memory?: number;
  readonly queueDepth?: number;
  readonly powerWatts?: number;
  /** 0: the party's exporters do not answer (so none of its other signals exist). @default 1 */
  readonly up?: 0 | 1;
  /** Signals whose newest observation is this many ms old. */
  readonly ageMs?: Partial<Record<Signal, number>>;
}

/** A monitored world and the source under test reading it. */
export interface MetricsWorld {
  readonly source: MetricsSource;
  /** How far a read value may be from the given one (counters read through rate() are estimates). */
  readonly tolerance: Readonly<Record<Signal, number>>;
  /** Parties take these states; resolves once the source can see them. Party names are new each call. */
  given(parties: Readonly<Record<string, PartyState>>): Promise<void>;
  /** The monitoring system stops answering; nothing is lost. */
  down(): Promise<void>;
  up(): Promise<void>;
  /** Closes the source and removes what the world created. */
  close(): Promise<void>;
}

export interface ContractOptions {
  /** Per test; real worlds wait for scrapes. @default 2000 */
  readonly timeoutMs?: number;
  /** Runs before the suite, e.g. to skip it when its server is absent (`requireTestServerEnv`). */
  readonly before?: (ctx: Mocha.Context) => void;
}

/**
 * The MetricsSource contract (knowledge/ports/metrics-source.ts), one suite for every adapter:
 * what the world holds is what a read returns, a partial answer is still an answer, and only a
 * source that answers nothing at all rejects.
 */
export function metricsSourceContract(name: string, makeWorld: () => Promise<MetricsWorld>, opts: ContractOptions = {}): void {
  describe(`MetricsSource contract: ${name}`, function () {
    this.timeout(opts.timeoutMs ?? 2000);
    let world: MetricsWorld;
    let made: MetricsWorld | undefined;
    const run = randomBytes(3).toString('hex');
    let n = 0;
    /** A party name no earlier test used, so every test starts from an empty world. */
    const party = (label: string) => `${label}-${run}-${++n}`;

    before(function () {
      opts.before?.(this);
    });
    beforeEach(async () => (world = made = await makeWorld()));
    afterEach(async () => {
      await made?.close();
      made = undefined;
    });

    const valueOf = (reading: MetricsReading, p: string, signal: Signal) =>
      reading.samples.find((s) => s.party === p && s.signal === signal)?.value;
    const near = (reading: MetricsReading, p: string, signal: Signal, expected: number) => {
      const actual = valueOf(reading, p, signal);
      assert.ok(actual !== undefined, `${signal} of ${p} missing; failures: ${JSON.stringify(reading.failures)}`);
      assert.ok(Math.abs(actual - expected) <= world.tolerance[signal], `${signal} of ${p}: expected ${expected} ± ${world.tolerance[signal]}, got ${actual}`);
    };
    const failureOf = (reading: MetricsReading, signal: Signal) => reading.failures.find((f) => f.signal === signal)?.reason;

    it('reads back every signal of every party it is asked about', async () => {
      const [a, b] = [party('uva'), party('vu')];
      await world.given({
        [a]: { cpu: 0.25, memory: 0.5, queueDepth: 7, powerWatts: 42, up: 1 },
        [b]: { cpu: 0.75, memory: 0.2, queueDepth: 0, powerWatts: 120, up: 1 },
      });
      const reading = await world.source.read([a, b]);
      assert.deepEqual(reading.failures, []);
      for (const [p, cpu, memory, queueDepth, powerWatts] of [[a, 0.25, 0.5, 7, 42], [b, 0.75, 0.2, 0, 120]] as const) {
        near(reading, p, 'cpu', cpu);
        near(reading, p, 'memory', memory);
        near(reading, p, 'queueDepth', queueDepth);
        near(reading, p, 'powerWatts', powerWatts);
        near(reading, p, 'up', 1);
      }
      for (const s of reading.samples) assert.ok(s.at <= reading.at + 1000 && s.at > reading.at - 30_000, `${s.signal} of ${s.party} observed at ${s.at}, read at ${reading.at}`);
    });

    it('returns only the parties asked for', async () => {
      const [a, b] = [party('uva'), party('vu')];
      await world.given({ [a]: { cpu: 0.1, memory: 0.1 }, [b]: { cpu: 0.9, memory: 0.9 } });
      const reading = await world.source.read([a]);
      assert.deepEqual([...new Set(reading.samples.map((s) => s.party))], [a]);
      near(reading, a, 'cpu', 0.1);
    });

    it('lists a signal the world lacks as a failure naming the party, and still returns the rest', async () => {
      const a = party('rug');
      await world.given({ [a]: { cpu: 0.4 } });
      const reading = await world.source.read([a]);
      near(reading, a, 'cpu', 0.4);
      for (const signal of ['memory', 'queueDepth', 'powerWatts'] as const) {
        assert.equal(valueOf(reading, a, signal), undefined);
        assert.match(failureOf(reading, signal) ?? '', new RegExp(`no series for ${a}`), `${signal} failure`);
      }
    });

    it('lists a party nobody monitors under every signal, without losing the others', async () => {
      const [a, ghost] = [party('uva'), party('ghost')];
      await world.given({ [a]: { cpu: 0.3, memory: 0.3, queueDepth: 1, powerWatts: 10 } });
      const reading = await world.source.read([a, ghost]);
      near(reading, a, 'cpu', 0.3);
      assert.equal(reading.samples.filter((s) => s.party === ghost).length, 0);
      for (const signal of ['cpu', 'memory', 'queueDepth', 'powerWatts', 'up'] as const) {
        assert.match(failureOf(reading, signal) ?? '', new RegExp(ghost), `${signal} failure names ${ghost}`);
      }
    });

    it('refuses a stale value: a stale value is not a value', async () => {
      const a = party('uva');
      await world.given({ [a]: { cpu: 0.3, memory: 0.6, ageMs: { memory: 45_000 } } });
      const reading = await world.source.read([a]);
      near(reading, a, 'cpu', 0.3);
      assert.equal(valueOf(reading, a, 'memory'), undefined);
      assert.match(failureOf(reading, 'memory') ?? '', /stale/);
    });

    it('reads a party that does not answer as up 0', async () => {
      const [a, b] = [party('uva'), party('surf')];
      await world.given({ [a]: { up: 0 }, [b]: { up: 1, cpu: 0.5 } });
      const reading = await world.source.read([a, b]);
      near(reading, a, 'up', 0);
      near(reading, b, 'up', 1);
    });

    it('rejects, retryably, only when the source answers nothing; reads again once it is back', async () => {
      const a = party('uva');
      await world.given({ [a]: { cpu: 0.2 } });
      await world.down();
      await assert.rejects(world.source.read([a]), (e: unknown) => e instanceof DynamosError && e.retryable);
      await world.up();
      near(await world.source.read([a]), a, 'cpu', 0.2);
    });

    it('rejects a read whose signal is already aborted, with the abort reason', async () => {
      const controller = new AbortController();
      controller.abort(new Error('caller gave up'));
      await assert.rejects(world.source.read(['anyone'], controller.signal), /caller gave up/);
    });

    it('closes idempotently; a read after close rejects', async () => {
      await world.source.close();
      await world.source.close();
      await assert.rejects(world.source.read(['anyone']), DynamosError);
    });
  });
}
