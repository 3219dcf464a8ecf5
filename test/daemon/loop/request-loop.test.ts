import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SimulatedClock } from 'xstate';
import { FakeJobRunner, fakeReport } from '../../../adapters/fake/fake-job-runner.js';
import { Admission } from '../../../daemon/loop/admission.js';
import { RequestLoop } from '../../../daemon/loop/request-loop.js';
import type { LoopMetrics } from '../../../daemon/loop/request-loop.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { AuditSigner } from '../../../knowledge/audit/checkpoint.js';
import { linesOf } from '../../../knowledge/audit/decision-log.js';
import { FileDecisionLog } from '../../../knowledge/audit/log-file.js';
import { verifyDecisionLog } from '../../../knowledge/audit/verify-log.js';
import { KnowledgeBase } from '../../../knowledge/knowledge-base.js';
import { choiceKey, knowledgeOf, outcomeKey } from '../../../knowledge/knowledge-snapshot.js';
import type { Deployment } from '../../../knowledge/ports/job-runner.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { testSigner } from '../../support/audit-records.js';
import { dataRequest, marketplaceFrom } from '../../support/fixtures.js';

/** Counts what the loop reports, as the daemon's metrics would. */
function countingMetrics() {
  const seen = { requests: [] as string[], seconds: [] as number[], phases: new Set<string>(), changes: 0, jobs: 0, errors: 0 };
  const metrics: LoopMetrics = {
    requestFinished: (archetype, outcome, seconds) => {
      seen.requests.push(`${archetype}:${outcome}`);
      seen.seconds.push(seconds);
    },
    phase: (phase) => seen.phases.add(phase),
    decisionChanged: () => seen.changes++,
    jobFinished: () => seen.jobs++,
    loopError: () => seen.errors++,
    iteration: () => undefined,
  };
  return { seen, metrics };
}

describe('request loop (xstate request machine over the phases)', () => {
  let dir: string;
  let clock: SimulatedClock;
  let runner: FakeJobRunner;
  let knowledge: KnowledgeBase;
  let log: FileDecisionLog;
  let signer: AuditSigner;
  let counted: ReturnType<typeof countingMetrics>;
  let loop: RequestLoop;

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-loop-'));
    clock = new SimulatedClock();
    clock.set(1_000_000);
    runner = new FakeJobRunner();
    knowledge = new KnowledgeBase(knowledgeOf(marketplaceFrom(), 1_000_000));
    signer = testSigner();
    log = await FileDecisionLog.open(path.join(dir, 'decisions.jsonl'), { signer, clock });
    counted = countingMetrics();
    loop = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner, clock, logger: silentLogger, deadlineMs: 600_000, energyOf: (r) => r.cpuSeconds * 10, decisionLog: log, metrics: counted.metrics });
  });
  afterEach(async () => {
    await runner.close();
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs monitor → analyze → plan → execute → record and keeps what it learned', async () => {
    const handled = loop.handle(dataRequest());
    const id = await runner.nextDeployment();
    assert.deepEqual(knowledge.current().inFlight.get(id)?.parties, ['VU', 'UVA'], 'in flight while its jobs run');
    assert.equal((await log.find(id))?.outcome.kind, 'started', 'a write-ahead record precedes the jobs');
    const reports = runner.running(id).map((j) => fakeReport(j.spec, 'succeeded', { durationMs: 200, cpuSeconds: 0.5 }));
    runner.completeDeployment(id, [], reports);
    const outcome = await handled;
    assert.equal(outcome.kind, 'completed');
    const k = knowledge.current();
    assert.equal(k.inFlight.size, 0);
    assert.deepEqual(k.choices[choiceKey('analyst@uva.example', ['VU', 'UVA'], 'sqlDataRequest')]?.archetype, 'computeToData');
    assert.equal(k.outcomes[outcomeKey('computeToData', 'VU')]?.cpuSeconds, 0.5);
    assert.deepEqual(counted.seen.requests, ['computeToData:completed']);
    assert.deepEqual([...counted.seen.phases].sort(), ['analyze', 'execute', 'monitor', 'plan', 'record']);
    const verdict = await verifyDecisionLog(linesOf(log.file), { keys: [signer.publicKey], head: log.head().hash });
    assert.deepEqual(verdict.ok && verdict.records, 2, 'started, then completed');
    assert.equal((await log.find(dataRequest().id))?.outcome.energyJoules, 10);
  });

  it('records a denial without running a job', async () => {
    const outcome = await loop.handle(dataRequest({ providers: ['RUG'] }));
    assert.equal(outcome.kind, 'denied');
    assert.deepEqual(runner.jobs, []);
    assert.equal((await log.find(dataRequest().id))?.outcome.kind, 'denied');
  });

  it('cancels its jobs when the requester goes away', async () => {
    const controller = new AbortController();
    const handled = loop.handle(dataRequest(), controller.signal);
    const id = await runner.nextDeployment();
    controller.abort();
    const outcome = await handled;
    assert.deepEqual(outcome.kind === 'cancelled' && outcome.code, 'JOB_CANCELLED');
    assert.deepEqual(runner.jobs.filter((j) => j.deployment === id).map((j) => j.status), ['cancelled', 'cancelled']);
    assert.equal(knowledge.current().inFlight.size, 0);
  });

  it('cancels a request in flight by id, with the reason it gives', async () => {
    const handled = loop.handle(dataRequest());
    const id = await runner.nextDeployment();
    assert.equal(loop.cancel(id, 'AGREEMENT_REVOKED', 'UVA revoked'), true);
    const outcome = await handled;
    assert.deepEqual(outcome.kind === 'cancelled' && [outcome.code, outcome.reason], ['AGREEMENT_REVOKED', 'UVA revoked']);
    assert.equal(loop.cancel(id, 'AGREEMENT_REVOKED', 'again'), false);
    assert.equal((await log.find(id))?.outcome.reason, 'AGREEMENT_REVOKED: UVA revoked');
  });

  it('answers even when keeping the decision fails, and counts the failure', async () => {
    const broken = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner, clock, logger: silentLogger, deadlineMs: 1, energyOf: () => 0, metrics: counted.metrics, decisionLog: { append: () => Promise.reject(new Error('disk full')) } });
    const outcome = await broken.handle(dataRequest({ providers: ['RUG'] }));
    assert.equal(outcome.kind, 'denied');
    assert.equal(counted.seen.errors, 1);
  });

  it('gives the jobs its request type\'s deadline and the result limit', async () => {
    const seen: Deployment[] = [];
    const watching = new FakeJobRunner({ autoComplete: (d) => (seen.push(d), { results: [], jobs: d.jobs.map((j) => fakeReport(j, 'succeeded')) }) });
    const resultLimit = { maxRows: 10, maxBytes: 1000 };
    const typed = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner: watching, clock, logger: silentLogger, deadlineMs: 120_000, deadlineMsByRequestType: { sqlDataRequest: 5_000 }, resultLimit, energyOf: () => 0 });
    await typed.handle(dataRequest());
    assert.deepEqual(seen.map((d) => [d.deadlineMs, d.resultLimit]), [[5_000, resultLimit]]);
  });

  it('a completed request whose answer was not delivered is recorded as cancelled, saying why', async () => {
    const handled = loop.handle(dataRequest(), undefined, () => Promise.reject(new Error('the connection closed before the answer was sent')));
    runner.completeDeployment(await runner.nextDeployment());
    const outcome = await handled;
    assert.equal(outcome.kind, 'completed', 'the jobs did complete');
    const record = await log.find(outcome.request.id);
    assert.equal(record?.outcome.kind, 'cancelled');
    assert.match(record?.outcome.reason ?? '', /not delivered: the connection closed/);
  });

  it('writes the final record only once the answer was sent', async () => {
    let sent!: () => void;
    const handled = loop.handle(dataRequest(), undefined, () => new Promise<void>((resolve) => (sent = resolve)));
    const id = await runner.nextDeployment();
    runner.completeDeployment(id);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal((await log.find(id))?.outcome.kind, 'started', 'not completed while the answer is on its way');
    sent();
    await handled;
    assert.equal((await log.find(id))?.outcome.kind, 'completed');
  });

  it('times a request end to end: until its answer was sent, not only until it was decided', async () => {
    let sent!: () => void;
    const handled = loop.handle(dataRequest(), undefined, () => new Promise<void>((resolve) => (sent = resolve)));
    runner.completeDeployment(await runner.nextDeployment());
    await new Promise((resolve) => setTimeout(resolve, 60));
    sent();
    const outcome = await handled;
    assert.deepEqual(counted.seen.requests, ['computeToData:completed']);
    const [seconds = Number.NaN] = counted.seen.seconds;
    assert.ok(seconds >= 0.055, `${seconds} s covers the 60 ms the answer took to go out`);
    assert.ok(seconds <= outcome.timings.totalMs / 1000, `${seconds} s is within the request's whole run (${outcome.timings.totalMs} ms)`);
  });

  it('a request refused for want of job slots is answered OVERLOADED and recorded as failed', async () => {
    const admission = new Admission({ maxJobs: 2, maxJobsPerParty: 2, maxQueued: 0, maxWaitMs: 1_000 }, clock);
    const bounded = new RequestLoop({ knowledge, strategy: () => dynamosStrategy, runner, clock, logger: silentLogger, deadlineMs: 600_000, energyOf: () => 0, decisionLog: log, admission });
    const first = bounded.handle(dataRequest());
    const id = await runner.nextDeployment();
    const second = await bounded.handle(dataRequest({ id: 'second-1' }));
    assert.deepEqual(second.kind === 'failed' && second.error.code, 'OVERLOADED');
    assert.equal((await log.find('second-1'))?.outcome.kind, 'failed');
    runner.completeDeployment(id);
    assert.equal((await first).kind, 'completed');
    assert.deepEqual(admission.state, { runningJobs: 0, queuedRequests: 0 });
  });

  it('counts a change of decision for the same requester and stewards', async () => {
    knowledge.apply({ kind: 'choiceMade', key: choiceKey('analyst@uva.example', ['VU', 'UVA'], 'sqlDataRequest'), archetype: 'dataThroughTtp', ttp: 'SURF', at: 0 });
    const handled = loop.handle(dataRequest());
    runner.completeDeployment(await runner.nextDeployment());
    await handled;
    assert.equal(counted.seen.changes, 1);
  });
});
