/* eslint-disable @typescript-eslint/no-explicit-any -- the answers are JSON read field by field; each assertion states the shape it expects */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { auditVerify } from '../../daemon/cli/audit.js';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { asRequester, bearer } from '../support/tokens.js';
import { endlessRowsOf } from '../support/endless-query.js';

const token = 'test-admin-token-0123456789';
const body = (overrides: { providers?: string[]; options?: Record<string, boolean>; query?: string; algorithm?: string } = {}) => ({
  type: 'sqlDataRequest',
  user: { id: '1', userName: 'analyst@uva.example' },
  dataProviders: overrides.providers ?? ['VU', 'UVA'],
  data_request: {
    type: 'sqlDataRequest',
    query: overrides.query ?? 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
    algorithm: overrides.algorithm ?? 'average',
    options: overrides.options ?? { aggregate: false },
    requestMetadata: {},
  },
});

describe('policy and outages at run time, through the API', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;
  let marketplaceFile: string;

  beforeEach(async () => {
    data = await exampleData(200);
    marketplaceFile = path.join(data.dir, 'marketplace.yaml');
    copyFileSync(exampleMarketplaceFile, marketplaceFile);
    daemon = await startDaemon(
      { port: 0, marketplaceFile, dataDir: data.dir, runner: { warmProcesses: 2 }, decisionLogFile: path.join(data.dir, 'decisions.jsonl'), adminToken: token },
      { logger: silentLogger },
    );
  });
  afterEach(async () => {
    await daemon.close();
    data.remove();
  });

  /** Requests go as their body's user; everything else with the admin token, unless `auth` is false. */
  const call = async (method: string, url: string, payload?: unknown, auth = true) => {
    const credential = url === '/api/v1/requestApproval' ? await asRequester(daemon, payload) : { authorization: `Bearer ${token}` };
    const response = await fetch(`${daemon.url}${url}`, {
      method,
      ...(payload === undefined ? {} : { body: JSON.stringify(payload) }),
      headers: auth ? credential : {},
    });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };
  /** A request's final record: it is written once the answer was sent, so it may follow the answer by a moment. */
  const finalRecord = async (id: string) => {
    let record = await call('GET', `/api/v1/decisions/${id}`);
    for (let tries = 0; (record.status === 404 || record.json.outcome?.kind === 'started') && tries < 100; tries++) record = await call('GET', `/api/v1/decisions/${id}`);
    return record;
  };

  it('cancels a running request the moment its steward revokes the agreement, and tells the requester why', async () => {
    const slow = body({ providers: ['UVA'], algorithm: 'count', query: endlessRowsOf('Personen') });
    const assigned = once(daemon.runner.events, 'jobAssigned');
    const ended = new Promise<{ status: string }>((resolve) => daemon.runner.events.on('jobEnded', resolve));
    const answer = call('POST', '/api/v1/requestApproval', slow);
    await assigned;
    const revoked = await call('PUT', '/api/v1/agreements/UVA', { relations: {} });
    assert.equal(revoked.status, 200);
    assert.notEqual(revoked.json.policyRevision, revoked.json.previousRevision);
    assert.equal((await ended).status, 'cancelled');
    const { status, json } = await answer;
    assert.equal(status, 409);
    assert.equal(json.code, 'AGREEMENT_REVOKED');
    assert.equal(json.message, 'UVA has no agreement with analyst@uva.example.');
    const record = await finalRecord(json.details.jobId);
    assert.equal(record.json.outcome.kind, 'cancelled');
  });

  it('refuses agreement changes without a credential or by a requester, and invalid ones with their paths', async () => {
    assert.equal((await call('PUT', '/api/v1/agreements/UVA', { relations: {} }, false)).status, 401);
    const byRequester = await fetch(`${daemon.url}/api/v1/agreements/UVA`, { method: 'PUT', body: '{"relations":{}}', headers: await bearer(daemon, 'analyst@uva.example') });
    assert.equal(byRequester.status, 403);
    const bad = await call('PUT', '/api/v1/agreements/UVA', { archetypes: ['reproducibleScience'] });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.json.details.problems.map((p: { path: string }) => p.path), ['dataStewards.UVA.archetypes[0]']);
    assert.equal((await call('PUT', '/api/v1/agreements/XYZ', { relations: {} })).status, 404);
  });

  it('leaves out a steward marked offline, and uses computeToData when the only allowed TTP is offline', async () => {
    assert.equal((await call('PUT', '/api/v1/parties/SURF/status', { online: false })).status, 200);
    const aggregated = await call('POST', '/api/v1/requestApproval', body({ options: { aggregate: true } }));
    assert.equal(aggregated.status, 200);
    assert.equal(aggregated.json.archetype, 'computeToData');
    assert.match(aggregated.json.decision.candidates.find((c: { archetype: string }) => c.archetype === 'dataThroughTtp').reason, /is offline \(SURF\)/);
    await call('PUT', '/api/v1/parties/VU/status', { online: false });
    const without = await call('POST', '/api/v1/requestApproval', body());
    assert.deepEqual(without.json.deniedProviders.map((d: { provider: string; reason: string }) => [d.provider, d.reason]), [['VU', 'STEWARD_OFFLINE']]);
  });

  it('takes an edit of the marketplace file as a new policy revision', async () => {
    const before = daemon.marketplace().revision;
    const changed = new Promise((resolve) => daemon.knowledge.onChange((_, event) => event.kind === 'marketplaceChanged' && resolve(event)));
    writeFileSync(marketplaceFile, readFileSync(marketplaceFile, 'utf8').replace('allowedComputeProviders: [SURF]', 'allowedComputeProviders: [SURF, otherCompany]'));
    await changed;
    assert.notEqual(daemon.marketplace().revision, before);
    assert.equal((await call('GET', '/healthz')).json.policyRevision, daemon.marketplace().revision);
  });

  it('keeps every decision in a hash chain a steward can verify, and serves it by request id', async () => {
    const first = await call('POST', '/api/v1/requestApproval', body());
    await call('POST', '/api/v1/requestApproval', body({ providers: ['RUG'] }));
    const record = await finalRecord(first.json.jobId);
    assert.equal(record.status, 200);
    assert.deepEqual([record.json.choice.archetype, record.json.outcome.kind, record.json.policyRevision], ['computeToData', 'completed', daemon.marketplace().revision]);
    // A record follows its answer (it is written once the answer was sent): wait for the denial's.
    let head = (await call('GET', '/api/v1/audit/head')).json;
    for (let tries = 0; head.seq < 3 && tries < 100; tries++) head = (await call('GET', '/api/v1/audit/head')).json;
    assert.deepEqual(head.seq, 3, 'started and completed, then the denial (which starts no job)');
    const lines: string[] = [];
    // The daemon still runs: its records after the start checkpoint are vouched for by the head it published.
    const verified = await auditVerify(daemon.config.decisionLogFile, { keys: [daemon.auditKey.publicFile], head: head.hash }, { out: (l) => lines.push(l), err: (l) => lines.push(l) });
    assert.equal(verified, 0, lines.join('\n'));
    assert.equal((await call('GET', '/api/v1/decisions/nobody')).status, 404);
  });

  it('exposes its own metrics for Prometheus', async () => {
    await call('POST', '/api/v1/requestApproval', body());
    const response = await fetch(`${daemon.url}/metrics`);
    const text = await response.text();
    assert.match(response.headers.get('content-type') ?? '', /text\/plain/);
    assert.match(text, /^dynamos_requests_total\{archetype="computeToData",outcome="completed"\} 1$/m);
    assert.match(text, /^dynamos_loop_phase_duration_seconds_count\{phase="plan"\} 1$/m);
    assert.match(text, /^dynamos_jobs_total\{party="UVA",status="succeeded"\} 1$/m);
  });
});
