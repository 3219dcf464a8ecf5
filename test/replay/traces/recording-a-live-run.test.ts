import assert from 'node:assert/strict';
import path from 'node:path';
import type { RunningDaemon } from '../../../daemon/start-daemon.js';
import { startDaemon } from '../../../daemon/start-daemon.js';
import { replayTrace } from '../../../replay/replay.js';
import { readTraceFile } from '../../../replay/traces/trace-file.js';
import type { TraceEvent } from '../../../replay/traces/trace-format.js';
import { traceHeaderSchema } from '../../../replay/traces/trace-format.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import { exampleData } from '../../support/example-data.js';
import type { ExampleData } from '../../support/example-data.js';
import { exampleMarketplaceFile } from '../../support/fixtures.js';
import { asRequester } from '../../support/tokens.js';

const token = 'test-admin-token-0123456789';
const requestBody = (options: Record<string, boolean>) => ({
  type: 'sqlDataRequest',
  user: { id: '12324', userName: 'analyst@uva.example' },
  dataProviders: ['VU', 'UVA', 'RUG'],
  data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options, requestMetadata: {} },
});

/** Polls until `done` holds; a deadline, not a sleep, bounds the wait. */
async function until(done: () => boolean, what: string, deadlineMs = 10_000): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) assert.fail(`gave up waiting: ${what}`);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

describe('recording a live run (serve --record) on the embedded default', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;
  let file: string;

  before(async () => {
    data = await exampleData(200);
    file = path.join(data.dir, 'run.jsonl');
    daemon = await startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, runner: { warmProcesses: 1 }, decisionLogFile: path.join(data.dir, 'decisions.jsonl'), adminToken: token, watchConfig: false, recordFile: file },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon.close();
    data.remove();
  });

  /** Requests go as their body's user, policy changes with the admin token. */
  const call = async (method: string, url: string, payload: unknown) => {
    const headers = url === '/api/v1/requestApproval' ? await asRequester(daemon, payload) : { authorization: `Bearer ${token}` };
    const response = await fetch(`${daemon.url}${url}`, { method, body: JSON.stringify(payload), headers });
    return { status: response.status, json: (await response.json()) as { jobId: string; archetype: string; ttp: string | null } };
  };

  it('records requests with their outcomes, an agreement change, an outage and metric readings, in a trace that reads back', async () => {
    const local = await call('POST', '/api/v1/requestApproval', requestBody({ aggregate: false }));
    const throughTtp = await call('POST', '/api/v1/requestApproval', requestBody({ aggregate: true, graph: true }));
    assert.deepEqual([local.status, local.json.archetype, throughTtp.status, throughTtp.json.archetype, throughTtp.json.ttp], [200, 'computeToData', 200, 'dataThroughTtp', 'SURF']);
    assert.equal((await call('PUT', '/api/v1/agreements/UVA', { relations: {} })).status, 200);
    assert.equal((await call('PUT', '/api/v1/parties/SURF/status', { online: false })).status, 200);
    const readBefore = daemon.knowledge.current().monitor.lastReadAt;
    daemon.background.refresh();
    await until(() => daemon.knowledge.current().monitor.lastReadAt !== readBefore, 'the Monitor reads the local metrics');
    await daemon.close();

    const reader = await readTraceFile(file);
    assert.ok(traceHeaderSchema.safeParse(reader.header).success);
    assert.equal(reader.header.source, 'recorded');
    assert.equal(reader.header.strategy?.name, 'dynamos', 'the header names the strategy the run decided with');
    assert.equal(reader.header.marketplace.name, 'example');
    assert.ok((reader.header.dataBytes['UVA/wageGap'] ?? 0) > 0, 'the data sizes the daemon plans with');
    const events: TraceEvent[] = [];
    for await (const event of reader.events()) events.push(event);

    for (const [answer, archetype, ttp] of [[local, 'computeToData', null], [throughTtp, 'dataThroughTtp', 'SURF']] as const) {
      const request = events.find((e) => e.kind === 'request' && e.id === answer.json.jobId);
      const outcome = events.find((e) => e.kind === 'outcome' && e.requestId === answer.json.jobId);
      assert.ok(request?.kind === 'request' && outcome?.kind === 'outcome', `request ${answer.json.jobId} and its outcome`);
      assert.deepEqual([request.requester, request.providers, request.tables.toSorted()], ['analyst@uva.example', ['VU', 'UVA', 'RUG'], ['Aanstellingen', 'Personen']]);
      assert.deepEqual([outcome.result, outcome.archetype, outcome.ttp], ['completed', archetype, ttp]);
      assert.ok(outcome.jobs.length > 0 && outcome.at >= request.at);
    }
    const agreement = events.find((e) => e.kind === 'agreement');
    assert.deepEqual(agreement?.kind === 'agreement' && [agreement.steward, agreement.agreement.relations], ['UVA', {}]);
    assert.deepEqual(events.filter((e) => e.kind === 'party').map((e) => e.kind === 'party' && [e.party, e.online]), [['SURF', false]]);
    assert.ok(events.some((e) => e.kind === 'metrics'), 'the Monitor reading');
    assert.equal(reader.durationMs, events.at(-1)?.at);

    // The recording replays: every request it holds is decided again, against the agreements in force then.
    const replayed: { id: string; result: string }[] = [];
    const { summaries } = await replayTrace(await readTraceFile(file), { strategies: [{ name: 'dynamos' }], seed: 1, onRecord: (_, r) => replayed.push({ id: r.id, result: r.result }) });
    assert.deepEqual(replayed.map((r) => r.id), events.flatMap((e) => (e.kind === 'request' ? [e.id] : [])));
    assert.equal(replayed.find((r) => r.id === local.json.jobId)?.result, 'completed');
    assert.equal(summaries[0]?.policyViolations, 0);
  });
});
