import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { FakeJobRunner } from '../../../adapters/fake/fake-job-runner.js';
import { createFakeMetrics, FakeMetricsSource } from '../../../adapters/fake/fake-metrics-source.js';
import type { FakeMetricsWorld } from '../../../adapters/fake/fake-metrics-source.js';
import { BackgroundLoop } from '../../../daemon/loop/background-loop.js';
import { RequestLoop } from '../../../daemon/loop/request-loop.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import { createUtilityStrategy } from '../../../daemon/mape/strategies/utility-strategy.js';
import { DaemonMetrics } from '../../../daemon/telemetry/daemon-metrics.js';
import { KnowledgeBase } from '../../../knowledge/knowledge-base.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import type { MetricsSource } from '../../../knowledge/ports/metrics-source.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';
import { find, parseExposition } from '../telemetry/exposition.js';

const T0 = 1_800_000_000_000;
const periodMs = 15_000;
/** Lets promises settle; time itself only moves when the test moves the simulated clock. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('background loop (xstate, simulated clock)', () => {
  let clock: SimulatedClock;
  let world: FakeMetricsWorld;
  let reads: number[];
  let knowledge: KnowledgeBase;
  let runner: FakeJobRunner;
  let requests: RequestLoop;
  let loop: BackgroundLoop;

  beforeEach(() => {
    clock = new SimulatedClock();
    clock.set(T0);
    const fake = createFakeMetrics({ clock });
    world = fake.source.world;
    reads = [];
    const counting: MetricsSource = { name: 'counting', read: (parties, signal) => (reads.push(clock.now() - T0), fake.source.read(parties, signal)), close: () => fake.source.close() };
    knowledge = new KnowledgeBase(knowledgeOf(marketplaceFrom(), T0));
    runner = new FakeJobRunner();
    requests = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner, clock, logger: silentLogger, deadlineMs: 600_000, energyOf: () => 0 });
    loop = new BackgroundLoop({ knowledge, source: counting, requests, clock, logger: silentLogger, periodMs, maxBackoffMs: 120_000, symptoms: { loadThreshold: 0.8 } });
  });
  afterEach(async () => {
    loop.stop();
    await runner.close();
  });

  async function advance(ms: number): Promise<void> {
    clock.increment(ms);
    await settle();
  }

  it('reads the parties\' metrics into the knowledge at start and once a period', async () => {
    world.set('SURF', 'cpu', 0.42);
    loop.start();
    await settle();
    assert.equal(knowledge.current().nodes['SURF']?.latest.cpu?.value, 0.42);
    await advance(periodMs - 1);
    assert.deepEqual(reads, [0]);
    await advance(1);
    assert.deepEqual(reads, [0, periodMs]);
  });

  it('backs off while the source is down, doubling up to the cap, and returns to the period once it is back', async () => {
    world.down();
    loop.start();
    await settle();
    for (let i = 0; i < 8; i++) await advance(periodMs);
    assert.deepEqual(reads, [0, 15_000, 45_000, 105_000], 'waits 15, 30, 60 s: no hot loop');
    await advance(105_000);
    assert.deepEqual(reads.at(-1), 225_000, 'then the 120 s cap');
    assert.match(knowledge.current().monitor.error ?? '', /down/);
    world.up();
    await advance(120_000);
    await advance(periodMs);
    assert.deepEqual(reads.slice(-2), [345_000, 360_000]);
    assert.equal(knowledge.current().monitor.error, undefined);
  });

  it('cancels a running request at once when its steward revokes the agreement, without waiting for a tick', async () => {
    loop.start();
    await settle();
    const handled = requests.handle(dataRequest({ providers: ['UVA'] }));
    const id = await runner.nextDeployment();
    const config = exampleConfig();
    config.dataStewards.UVA!.relations = {};
    knowledge.apply({ kind: 'marketplaceChanged', marketplace: marketplaceFrom(config), at: clock.now() });
    const outcome = await handled;
    assert.deepEqual(outcome.kind === 'cancelled' && [outcome.code, outcome.reason], ['AGREEMENT_REVOKED', 'UVA has no agreement with analyst@uva.example.']);
    assert.deepEqual(runner.jobs.filter((j) => j.deployment === id).map((j) => j.status), ['cancelled']);
  });

  it('cancels when the agreement stops allowing the archetype a request runs under', async () => {
    loop.start();
    await settle();
    const handled = requests.handle(dataRequest({ providers: ['VU', 'UVA'], options: { aggregate: true } }));
    await runner.nextDeployment();
    const config = exampleConfig();
    config.dataStewards.VU!.relations!['analyst@uva.example']!.allowedArchetypes = ['computeToData'];
    knowledge.apply({ kind: 'marketplaceChanged', marketplace: marketplaceFrom(config), at: clock.now() });
    const outcome = await handled;
    assert.match(outcome.kind === 'cancelled' ? outcome.reason : '', /VU's agreement with analyst@uva.example no longer allows dataThroughTtp/);
  });

  it('leaves running requests alone when a change still allows them', async () => {
    loop.start();
    await settle();
    const handled = requests.handle(dataRequest({ providers: ['UVA'] }));
    const id = await runner.nextDeployment();
    const config = exampleConfig();
    config.dataStewards.UVA!.description = 'a harmless edit';
    knowledge.apply({ kind: 'marketplaceChanged', marketplace: marketplaceFrom(config), at: clock.now() });
    await settle();
    runner.completeDeployment(id);
    assert.equal((await handled).kind, 'completed');
  });

  it('logs a symptom once when it appears and once when it clears, with the iteration it belongs to', async () => {
    const lines: { level: string; message: string; fields: Record<string, unknown> }[] = [];
    const recording = (bound: Record<string, unknown>): Logger => ({
      debug: (message, fields) => lines.push({ level: 'debug', message, fields: { ...bound, ...fields } }),
      info: (message, fields) => lines.push({ level: 'info', message, fields: { ...bound, ...fields } }),
      warn: (message, fields) => lines.push({ level: 'warn', message, fields: { ...bound, ...fields } }),
      error: (message, fields) => lines.push({ level: 'error', message, fields: { ...bound, ...fields } }),
      child: (more) => recording({ ...bound, ...more }),
    });
    loop.stop();
    loop = new BackgroundLoop({ knowledge, source: new FakeMetricsSource(world, { clock }), requests, clock, logger: recording({}), periodMs, maxBackoffMs: 120_000, symptoms: { loadThreshold: 0.8 } });
    world.set('SURF', 'cpu', 0.9);
    loop.start();
    await settle();
    await advance(periodMs);
    world.set('SURF', 'cpu', 0.3);
    await advance(periodMs);
    const about = (message: string) => lines.filter((l) => l.message === message && l.fields['party'] === 'SURF' && l.fields['kind'] === 'overloaded');
    assert.deepEqual(about('symptom appeared').map((l) => l.fields['iteration']), [1]);
    assert.deepEqual(about('symptom cleared').map((l) => l.fields['iteration']), [3]);
    assert.ok(lines.every((l) => l.fields['loop'] === 'background'), 'every line names its loop');
  });

  it('keeps going when acting on a symptom throws', async () => {
    loop.start();
    await settle();
    const handled = requests.handle(dataRequest({ providers: ['UVA'] }));
    const id = await runner.nextDeployment();
    requests.cancel = () => {
      throw new Error('boom');
    };
    const config = exampleConfig();
    config.dataStewards.UVA!.relations = {};
    knowledge.apply({ kind: 'marketplaceChanged', marketplace: marketplaceFrom(config), at: clock.now() });
    await advance(periodMs);
    assert.deepEqual(reads, [0, periodMs], 'the loop still ticks');
    runner.completeDeployment(id);
    await handled;
  });

  describe('feeding /metrics', () => {
    let metrics: DaemonMetrics;
    const exposed = async (name: string, labels: Record<string, string>) => find(parseExposition(await metrics.text()), name, labels)?.value;

    beforeEach(() => {
      loop.stop();
      metrics = new DaemonMetrics({ defaultMetrics: false });
    });

    it('exports the latest reading of each signal of each party', async () => {
      loop = new BackgroundLoop({ knowledge, source: new FakeMetricsSource(world, { clock }), requests, clock, logger: silentLogger, metrics, periodMs, maxBackoffMs: 120_000, symptoms: { loadThreshold: 0.8 } });
      world.set('SURF', 'cpu', 0.9);
      world.set('UVA', 'queueDepth', 4);
      loop.start();
      await settle();
      world.set('SURF', 'cpu', 0.35);
      await advance(periodMs);
      assert.deepEqual([await exposed('dynamos_party_signal', { party: 'SURF', signal: 'cpu' }), await exposed('dynamos_party_signal', { party: 'UVA', signal: 'queueDepth' })], [0.35, 4]);
      assert.equal(await exposed('dynamos_party_signal', { party: 'VU', signal: 'cpu' }), undefined, 'a signal never read is absent, not 0');
    });

    it('exports the utility of the candidate a utility decision chose, by archetype', async () => {
      const utilityRequests = new RequestLoop({ knowledge, strategy: () => createUtilityStrategy({}), runner, clock, logger: silentLogger, deadlineMs: 600_000, energyOf: () => 0 });
      loop = new BackgroundLoop({ knowledge, source: new FakeMetricsSource(world, { clock }), requests: utilityRequests, clock, logger: silentLogger, metrics, periodMs, maxBackoffMs: 120_000, symptoms: { loadThreshold: 0.8 } });
      // The utility strategy scores only with fresh load; blind, it falls back to dynamos's rules.
      for (const party of ['UVA', 'SURF']) world.set(party, 'cpu', 0.2).set(party, 'memory', 0.3);
      loop.start();
      await settle();
      const handled = utilityRequests.handle(dataRequest({ providers: ['UVA'] }));
      runner.completeDeployment(await runner.nextDeployment());
      const outcome = await handled;
      const chosen = outcome.plan?.kind === 'deploy' ? outcome.plan.explanation.choice : undefined;
      assert.ok(chosen?.utility !== undefined, 'the utility strategy scores its choice');
      assert.equal(await exposed('dynamos_decision_utility', { archetype: chosen.archetype }), chosen.utility);
    });

    it('exports no utility for a strategy that scores none', async () => {
      loop = new BackgroundLoop({ knowledge, source: undefined, requests, clock, logger: silentLogger, metrics, periodMs, maxBackoffMs: 120_000, symptoms: { loadThreshold: 0.8 } });
      loop.start();
      const handled = requests.handle(dataRequest({ providers: ['UVA'] }));
      runner.completeDeployment(await runner.nextDeployment());
      assert.equal((await handled).kind, 'completed');
      assert.equal(find(parseExposition(await metrics.text()), 'dynamos_decision_utility'), undefined);
    });
  });
});
