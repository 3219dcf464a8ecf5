import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import { FakeJobRunner, fakeReport } from '../../../adapters/fake/fake-job-runner.js';
import { replaceAgreement } from '../../../knowledge/marketplace/agreements.js';
import { RequestLoop } from '../../../daemon/loop/request-loop.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import { agreementEventsOf } from '../../../replay/traces/recorded-events.js';
import { readTraceFile } from '../../../replay/traces/trace-file.js';
import type { TraceEvent } from '../../../replay/traces/trace-format.js';
import { checkRecordTarget, TraceRecorder } from '../../../replay/traces/trace-recorder.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { KnowledgeBase } from '../../../knowledge/knowledge-base.js';
import { knowledgeOf } from '../../../knowledge/knowledge-snapshot.js';
import type { MarketplaceInput } from '../../../knowledge/marketplace/marketplace-schema.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { dataRequest, exampleConfig, marketplaceFrom } from '../../support/fixtures.js';

const start = 1_000_000;

describe('trace recorder (serve --record)', () => {
  let dir: string;
  let file: string;
  let clock: SimulatedClock;
  let knowledge: KnowledgeBase;
  let recorder: TraceRecorder;

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-record-'));
    file = path.join(dir, 'run.jsonl');
    clock = new SimulatedClock();
    clock.set(start);
    knowledge = new KnowledgeBase(knowledgeOf(marketplaceFrom(), start));
    knowledge.apply({ kind: 'dataSizesKnown', bytes: { 'VU/wageGap': 2_000_000 } });
    recorder = TraceRecorder.start(file, knowledge, { clock, logger: silentLogger, energyOf: (r) => r.cpuSeconds * 10 });
  });
  afterEach(() => {
    recorder.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function recorded(): Promise<{ header: Awaited<ReturnType<typeof readTraceFile>>['header']; durationMs: number | undefined; events: TraceEvent[] }> {
    recorder.close();
    const reader = await readTraceFile(file);
    const events: TraceEvent[] = [];
    for await (const event of reader.events()) events.push(event);
    return { header: reader.header, durationMs: reader.durationMs, events };
  }

  it('starts with a header that carries the marketplace and data sizes as the daemon knows them', async () => {
    const { header, durationMs, events } = await recorded();
    assert.equal(header.source, 'recorded');
    assert.equal(header.recordedAt, start);
    assert.equal(header.durationMs, undefined, 'a recording does not know its length when it starts');
    assert.equal(durationMs, 0, 'a recording without events lasts no time');
    assert.equal(header.marketplace.name, 'example');
    assert.ok(!('revision' in header.marketplace) && !('dataDir' in header.marketplace));
    assert.deepEqual(header.dataBytes, { 'VU/wageGap': 2_000_000 });
    assert.deepEqual(events, []);
  });

  it('records a request as it arrives and its outcome with the archetype that ran and each job', async () => {
    const runner = new FakeJobRunner();
    const loop = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner, clock, logger: silentLogger, deadlineMs: 600_000, energyOf: (r) => r.cpuSeconds * 10, observer: recorder });
    clock.increment(1_000);
    const handled = loop.handle(dataRequest());
    const id = await runner.nextDeployment();
    clock.increment(500);
    runner.completeDeployment(id, [], runner.running(id).map((j) => fakeReport(j.spec, 'succeeded', { durationMs: 200, cpuSeconds: 0.5 })));
    await handled;
    await runner.close();

    const { events, durationMs } = await recorded();
    assert.deepEqual(events.map((e) => `${e.kind}@${e.at}`), ['request@1000', 'outcome@1500']);
    const [request, outcome] = events;
    assert.deepEqual(request, { kind: 'request', at: 1_000, id, requester: 'analyst@uva.example', requestType: 'sqlDataRequest', providers: ['VU', 'UVA', 'RUG'], tables: ['Personen', 'Aanstellingen'], algorithm: 'average', options: { graph: false, aggregate: false } });
    assert.ok(outcome?.kind === 'outcome');
    assert.deepEqual({ ...outcome, latencyMs: 0 }, {
      kind: 'outcome',
      at: 1_500,
      requestId: id,
      result: 'completed',
      archetype: 'computeToData',
      ttp: null,
      latencyMs: 0,
      jobs: [
        { party: 'VU', durationMs: 200, cpuSeconds: 0.5, energyJoules: 5, dataBytes: 2_000_000 },
        { party: 'UVA', durationMs: 200, cpuSeconds: 0.5, energyJoules: 5 },
      ],
    });
    assert.equal(durationMs, 1_500, 'the trace lasts until its last event');
  });

  it('records a denied request with no archetype and no jobs', async () => {
    const loop = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner: new FakeJobRunner(), clock, logger: silentLogger, deadlineMs: 600_000, energyOf: () => 0, observer: recorder });
    await loop.handle(dataRequest({ providers: ['RUG'] }));
    const [, outcome] = (await recorded()).events;
    assert.deepEqual(outcome?.kind === 'outcome' && [outcome.result, outcome.archetype, outcome.ttp, outcome.jobs], ['denied', null, null, []]);
  });

  it("groups a reading's samples per party, keeping values inside the format's ranges", async () => {
    const at = start + 2_000;
    const sample = (party: string, signal: 'cpu' | 'memory' | 'up' | 'powerWatts', value: number) => ({ party, signal, value, at });
    knowledge.apply({ kind: 'metricsRead', reading: { at, failures: [], samples: [sample('SURF', 'cpu', 1.02), sample('SURF', 'memory', 0.4), sample('UVA', 'up', 1), sample('UVA', 'powerWatts', Number.NaN)] } });
    assert.deepEqual((await recorded()).events, [
      { kind: 'metrics', at: 2_000, party: 'SURF', cpu: 1, memory: 0.4 },
      { kind: 'metrics', at: 2_000, party: 'UVA', up: 1 },
    ]);
  });

  it("records an agreement change as the steward's whole new agreement, and only for that steward", async () => {
    clock.increment(3_000);
    replaceAgreement(knowledge, 'UVA', { relations: {} }, clock.now());
    const uva = marketplaceFrom().dataStewards['UVA'];
    assert.deepEqual((await recorded()).events, [
      { kind: 'agreement', at: 3_000, steward: 'UVA', agreement: { archetypes: uva?.archetypes, computeProviders: uva?.computeProviders, mandatedServices: uva?.mandatedServices, relations: {} } },
    ]);
  });

  it('names what a reload changed beyond agreements, which a trace cannot carry', () => {
    const configOf = (input: MarketplaceInput) => {
      const { revision: _revision, dataDir: _dataDir, ...config } = marketplaceFrom(input);
      return config;
    };
    const after = exampleConfig();
    after.dataStewards['UMC'] = { archetypes: ['computeToData'] };
    after.dataStewards['VU'] = { ...after.dataStewards['VU'], relations: {} };
    delete after.dataStewards['RUG'];
    after.requestTypes['genericRequest'] = { requiredServices: ['sql-query'] };
    const { events, untraceable } = agreementEventsOf(configOf(exampleConfig()), configOf(after), 7);
    assert.deepEqual(events.map((e) => e.steward), ['VU']);
    assert.deepEqual(untraceable, ['dataStewards.UMC (added)', 'dataStewards.RUG (removed)', 'requestTypes']);
  });

  it('records a party marked offline and online again', async () => {
    knowledge.apply({ kind: 'partyMarked', party: 'SURF', offline: true, at: start + 4_000 });
    knowledge.apply({ kind: 'partyMarked', party: 'SURF', offline: false, at: start + 9_000 });
    assert.deepEqual((await recorded()).events, [
      { kind: 'party', at: 4_000, party: 'SURF', online: false },
      { kind: 'party', at: 9_000, party: 'SURF', online: true },
    ]);
  });

  it('keeps time in order when a reading was taken before the last event written', async () => {
    knowledge.apply({ kind: 'partyMarked', party: 'SURF', offline: true, at: start + 5_000 });
    knowledge.apply({ kind: 'metricsRead', reading: { at: start + 4_000, failures: [], samples: [{ party: 'SURF', signal: 'cpu', value: 0.5, at: start + 4_000 }] } });
    assert.deepEqual((await recorded()).events.map((e) => `${e.kind}@${e.at}`), ['party@5000', 'metrics@5000']);
  });

  it('hears nothing more once closed', async () => {
    recorder.close();
    knowledge.apply({ kind: 'partyMarked', party: 'SURF', offline: true, at: start + 1 });
    assert.deepEqual((await recorded()).events, []);
  });

  const refused: [string, () => string, RegExp][] = [
    ['a directory that does not exist', () => path.join(dir, 'missing', 'x.jsonl'), /the directory .*missing does not exist/],
    ['a path that is a directory', () => dir, /it is a directory/],
    ['a directory that is a file', () => path.join(file, 'x.jsonl'), /run\.jsonl is not a directory/],
  ];
  for (const [what, target, message] of refused) {
    it(`refuses ${what}, naming the path and creating nothing`, () => {
      const bad = target();
      assert.throws(() => checkRecordTarget(bad), (e: unknown) => e instanceof DynamosError && e.code === 'CONFIG_INVALID' && e.message.includes(bad) && message.test(e.message));
      assert.throws(() => TraceRecorder.start(bad, knowledge, { clock, logger: silentLogger, energyOf: () => 0 }), DynamosError);
      if (bad !== dir) assert.equal(existsSync(bad), false);
    });
  }

  it('accepts a new file in a writable directory, and a file that is there already', () => {
    mkdirSync(path.join(dir, 'again'));
    assert.doesNotThrow(() => checkRecordTarget(path.join(dir, 'again', 'run.jsonl')));
    assert.doesNotThrow(() => checkRecordTarget(file));
  });
});
