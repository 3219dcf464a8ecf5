import assert from 'node:assert/strict';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { jobTempDirsOfThisProcess, processesOfRunner } from '../support/processes.js';
import { asRequester } from '../support/tokens.js';
import { endlessRowsOf } from '../support/endless-query.js';

/** The original DYNAMOS request body (its README), with the example's requester. */
function originalBody(overrides: { providers?: string[]; options?: Record<string, boolean>; algorithm?: string; query?: string } = {}) {
  return {
    type: 'sqlDataRequest',
    user: { id: '12324', userName: 'analyst@uva.example' },
    dataProviders: overrides.providers ?? ['VU', 'UVA', 'RUG'],
    data_request: {
      type: 'sqlDataRequest',
      query: overrides.query ?? 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
      algorithm: overrides.algorithm ?? 'average',
      options: overrides.options ?? { graph: false, aggregate: false },
      requestMetadata: {},
    },
  };
}

/** The answer's fields these tests read; error answers fill code, message and details. */
interface Reply {
  code: string;
  message: string;
  details: { problems?: { path: string; message: string }[]; deniedProviders: { reason: string }[] };
  archetype: string;
  ttp: string | null;
  authorisedProviders: string[];
  deniedProviders: { provider: string; reason: string }[];
  results: { computedBy: string; providers: string[]; columns: { name: string; type: string }[]; rows: unknown[][]; graph?: string }[];
  decision: { chains: { party: string; services: string[] }[] };
  jobs: { party: string; status: string }[];
}

describe('HTTP API end to end on the embedded default', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;

  before(async () => {
    data = await exampleData(300);
    daemon = await startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, runner: { warmProcesses: 2 }, bodyLimitBytes: 64 * 1024, decisionLogFile: `${data.dir}/decisions.jsonl`, watchConfig: false },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon.close();
    assert.deepEqual(processesOfRunner(localRunnerOf(daemon).runnerId), []);
    data.remove();
  });
  const usedPids: number[] = [];
  const remember = ({ pid }: { pid: number }) => usedPids.push(pid);
  beforeEach(() => {
    usedPids.length = 0;
    daemon.runner.events.on('jobAssigned', remember);
  });
  afterEach(() => {
    daemon.runner.events.off('jobAssigned', remember);
    const alive = processesOfRunner(localRunnerOf(daemon).runnerId);
    assert.deepEqual(usedPids.filter((pid) => alive.includes(pid)), [], 'every job process of the request is gone');
    assert.ok(alive.length <= 2, 'only the fresh, unused pool may remain');
    assert.deepEqual(jobTempDirsOfThisProcess(), []);
  });

  async function post(body: unknown): Promise<{ status: number; json: Reply }> {
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: await asRequester(daemon, body) });
    return { status: response.status, json: (await response.json()) as Reply };
  }

  it('computes at each steward for the original request: VU and UVA answer, RUG is denied', async () => {
    const { status, json } = await post(originalBody());
    assert.equal(status, 200);
    assert.equal(json.archetype, 'computeToData');
    assert.equal(json.ttp, null);
    assert.deepEqual(json.authorisedProviders, ['VU', 'UVA']);
    assert.deepEqual(json.deniedProviders.map((d) => [d.provider, d.reason]), [['RUG', 'NO_RELATION']]);
    assert.deepEqual(json.results.map((r) => [r.computedBy, r.rows]), [
      ['VU', expectedAverages(data.dir, ['VU'])],
      ['UVA', expectedAverages(data.dir, ['UVA'])],
    ]);
    assert.deepEqual(json.decision.chains.map((c) => [c.party, c.services.join(' → ')]), [
      ['VU', 'sql-query → sql-algorithm'],
      ['UVA', 'sql-query → sql-anonymize → sql-algorithm'],
    ]);
  });

  it('computes at the one steward asked', async () => {
    const { status, json } = await post(originalBody({ providers: ['UVA'] }));
    assert.equal(status, 200);
    assert.equal(json.archetype, 'computeToData');
    assert.deepEqual(json.results.map((r) => [r.computedBy, r.providers, r.rows]), [['UVA', ['UVA'], expectedAverages(data.dir, ['UVA'])]]);
  });

  it('combines two stewards\' data at the TTP when aggregation is asked, with a chart', async () => {
    const { status, json } = await post(originalBody({ options: { aggregate: true, graph: true } }));
    assert.equal(status, 200);
    assert.equal(json.archetype, 'dataThroughTtp');
    assert.equal(json.ttp, 'SURF');
    assert.equal(json.results.length, 1);
    assert.deepEqual(json.results[0]?.providers, ['VU', 'UVA']);
    assert.deepEqual(json.results[0]?.rows, expectedAverages(data.dir, ['VU', 'UVA']));
    assert.match(json.results[0]?.graph ?? '', /^<svg[\s\S]*<\/svg>$/);
    assert.deepEqual(json.jobs.map((j) => [j.party, j.status]), [['VU', 'succeeded'], ['UVA', 'succeeded'], ['SURF', 'succeeded']]);
  });

  it('sends one steward\'s data through the TTP', async () => {
    const { status, json } = await post(originalBody({ providers: ['VU'], options: { aggregate: true } }));
    assert.equal(status, 200);
    assert.equal(json.archetype, 'dataThroughTtp');
    assert.deepEqual(json.results.map((r) => [r.computedBy, r.providers, r.rows]), [['SURF', ['VU'], expectedAverages(data.dir, ['VU'])]]);
  });

  it('returns the rows themselves for algorithm none', async () => {
    const { status, json } = await post(originalBody({ providers: ['VU'], algorithm: 'none', query: 'SELECT Unieknr, Geslacht FROM Personen ORDER BY Unieknr LIMIT 3' }));
    assert.equal(status, 200);
    assert.deepEqual(json.results[0]?.columns, [{ name: 'Unieknr', type: 'int64' }, { name: 'Geslacht', type: 'utf8' }]);
    assert.deepEqual(json.results[0]?.rows.map((r) => r[0]), [1, 2, 3]);
  });

  it('answers 403 with the reasons when no steward authorises the request', async () => {
    const { status, json } = await post(originalBody({ providers: ['RUG'] }));
    assert.equal(status, 403);
    assert.equal(json.code, 'NO_AUTHORISED_PROVIDER');
    assert.deepEqual(json.details.deniedProviders.map((d) => d.reason), ['NO_RELATION']);
  });

  const badBodies: [string, unknown, number, string, RegExp][] = [
    ['malformed JSON', '{"type": ', 400, '(root)', /not valid JSON/],
    ['providers of the wrong type', { ...originalBody(), dataProviders: 'VU' }, 400, 'dataProviders', /expected array/],
    ['a missing query', { ...originalBody(), data_request: { ...originalBody().data_request, query: undefined } }, 400, 'data_request.query', /expected string/],
    ['an unknown key', { ...originalBody(), extra: 1 }, 400, 'extra', /unknown key/],
    ['an unknown provider', originalBody({ providers: ['VU', 'XYZ'] }), 400, 'dataProviders[1]', /unknown data steward "XYZ"/],
    ['an unknown request type', { ...originalBody(), type: 'mlRequest' }, 400, 'type', /unknown request type "mlRequest"/],
    ['an unknown algorithm', originalBody({ algorithm: 'median' }), 400, 'data_request.algorithm', /unknown algorithm "median"/],
    ['an unknown option', originalBody({ options: { agregate: true } }), 400, 'data_request.options.agregate', /unknown option/],
    ['SQL that does not parse', originalBody({ query: 'SELEC * FROM Personen' }), 400, 'data_request.query', /does not parse/],
  ];
  for (const [what, body, status, path, message] of badBodies) {
    it(`answers ${status} naming ${path} for ${what}`, async () => {
      const reply = await post(body);
      assert.equal(reply.status, status);
      assert.equal(reply.json.code, 'REQUEST_INVALID');
      const problems = reply.json.details?.problems ?? [{ path: '(root)', message: reply.json.message }];
      assert.ok(problems.some((p) => p.path === path && message.test(p.message)), JSON.stringify(reply.json));
    });
  }

  const escapes: [string, string, RegExp][] = [
    ['a COPY statement', "COPY Personen TO '/tmp/x.csv'", /single SELECT/],
    ['an ATTACH statement', "ATTACH '/tmp/x.duckdb'", /single SELECT/],
    ['two statements', 'SELECT 1; SELECT 2', /single SELECT statement, found 2/],
    ['a file reader', "SELECT * FROM read_csv('/etc/passwd')", /read_csv is a table function/],
    ['a setting', "SELECT current_setting('allowed_paths')", /current_setting is not an allowed function/],
  ];
  for (const [what, query, message] of escapes) {
    it(`refuses ${what} before any job starts (400 QUERY_REJECTED naming data_request.query)`, async () => {
      const reply = await post(originalBody({ providers: ['VU'], algorithm: 'none', query }));
      assert.equal(reply.status, 400);
      assert.equal(reply.json.code, 'QUERY_REJECTED');
      assert.ok(reply.json.details.problems?.some((p) => p.path === 'data_request.query' && message.test(p.message)), JSON.stringify(reply.json));
      assert.deepEqual(usedPids, [], 'no job ran');
    });
  }

  it('answers 413 to a body over the size limit', async () => {
    const { status, json } = await post(originalBody({ query: `SELECT 1 -- ${'x'.repeat(70 * 1024)}` }));
    assert.equal(status, 413);
    assert.equal(json.code, 'REQUEST_TOO_LARGE');
  });

  it('cancels the jobs of a request whose client goes away', async () => {
    const controller = new AbortController();
    const slow = originalBody({ providers: ['VU'], algorithm: 'count', query: endlessRowsOf('Personen') });
    const assigned = new Promise<{ pid: number }>((resolve) => daemon.runner.events.once('jobAssigned', resolve));
    const ended = new Promise<{ status: string }>((resolve) => daemon.runner.events.once('jobEnded', resolve));
    const cleanedUp = new Promise((resolve) => daemon.runner.events.once('deploymentEnded', resolve));
    const request = fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(slow), headers: await asRequester(daemon, slow), signal: controller.signal });
    await assigned;
    controller.abort();
    await assert.rejects(request);
    assert.equal((await ended).status, 'cancelled');
    await cleanedUp;
  });

  it('answers health and unknown routes', async () => {
    const health = await fetch(`${daemon.url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { status: string }).status, 'ok');
    const missing = await fetch(`${daemon.url}/api/v1/nothing`);
    assert.equal(missing.status, 404);
  });
});
