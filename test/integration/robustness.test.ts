import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import type { DaemonConfigInput } from '../../daemon/config.js';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { jobTempDirsOfThisProcess, processesOfRunner } from '../support/processes.js';
import { bearer } from '../support/tokens.js';

const analyst = 'analyst@uva.example';

function body(opts: { providers?: string[]; query?: string; algorithm?: string; aggregate?: boolean } = {}) {
  return {
    type: 'sqlDataRequest',
    user: { userName: analyst },
    dataProviders: opts.providers ?? ['VU', 'UVA'],
    data_request: {
      type: 'sqlDataRequest',
      query: opts.query ?? 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr',
      algorithm: opts.algorithm ?? 'average',
      options: { graph: false, aggregate: opts.aggregate ?? false },
    },
  };
}

interface Answer {
  readonly status: number;
  readonly retryAfter: string | null;
  readonly json: { code?: string; jobId?: string; details?: { jobId?: string; limit?: unknown }; results?: { rows: unknown[][] }[] };
}

/**
 * Robust under load and bad input (docs/operations.md): every request gets an honest answer and a
 * truthful record, no request can take the daemon down, and nothing is left behind.
 */
describe('robustness: the embedded default under load and hostile requests', function () {
  this.timeout(600_000);
  let data: ExampleData;
  let daemon: RunningDaemon;
  let authorization: string;

  const start = (extra: DaemonConfigInput = {}) =>
    startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, runner: { warmProcesses: 2 }, decisionLogFile: path.join(data.dir, 'decisions.jsonl'), watchConfig: false, metrics: { source: 'none' }, ...extra },
      { logger: silentLogger },
    );
  const post = async (payload: unknown): Promise<Answer> => {
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(payload), headers: { authorization } });
    return { status: response.status, retryAfter: response.headers.get('retry-after'), json: (await response.json()) as Answer['json'] };
  };

  before(async () => {
    data = await exampleData(300);
  });
  after(() => data.remove());
  afterEach(async () => {
    await daemon.close();
    assert.deepEqual(processesOfRunner(localRunnerOf(daemon).runnerId), [], 'no job process outlives the daemon');
    assert.deepEqual(jobTempDirsOfThisProcess(), [], 'no job temp directory is left');
  });

  it('200 concurrent requests: each is answered right (200) or honestly refused (503 with Retry-After), none wrongly failed, each has its record', async () => {
    daemon = await start({ limits: { jobs: { maxRunning: 4, maxPerParty: 4, maxQueued: 40, maxWaitMs: 20_000 } } });
    authorization = (await bearer(daemon, analyst)).authorization;
    const answers = await Promise.all(Array.from({ length: 200 }, () => post(body())));
    const expected = [expectedAverages(data.dir, ['VU']), expectedAverages(data.dir, ['UVA'])];
    const byStatus = new Map<number, number>();
    for (const a of answers) byStatus.set(a.status, (byStatus.get(a.status) ?? 0) + 1);
    assert.deepEqual([...byStatus.keys()].filter((s) => s !== 200 && s !== 503), [], `only 200 and 503: ${JSON.stringify([...byStatus])}`);
    assert.ok((byStatus.get(200) ?? 0) >= 4, 'the daemon kept serving');
    for (const a of answers.filter((x) => x.status === 200)) assert.deepEqual(a.json.results?.map((r) => r.rows), expected);
    for (const a of answers.filter((x) => x.status === 503)) {
      assert.equal(a.json.code, 'OVERLOADED');
      assert.match(a.retryAfter ?? '', /^\d+$/);
    }
    for (const a of answers) {
      const id = a.json.jobId ?? a.json.details?.jobId;
      // A final record is written once its answer was sent: it may follow the answer by a moment.
      let record = await daemon.decisionLog.find(id as string);
      for (let tries = 0; record?.outcome.kind === 'started' && tries < 100; tries++) {
        await new Promise((resolve) => setImmediate(resolve));
        record = await daemon.decisionLog.find(id as string);
      }
      assert.equal(record?.outcome.kind, a.status === 200 ? 'completed' : 'failed', `the record of ${id} tells how it ended`);
    }
  });

  it('answers RESULT_TOO_LARGE, naming the limit, when a result passes it', async () => {
    daemon = await start({ limits: { result: { maxRows: 100 } } });
    authorization = (await bearer(daemon, analyst)).authorization;
    const answer = await post(body({ providers: ['VU'], algorithm: 'none', query: 'SELECT Unieknr, Geslacht FROM Personen' }));
    assert.equal(answer.status, 422);
    assert.equal(answer.json.code, 'RESULT_TOO_LARGE');
    assert.deepEqual(answer.json.details?.limit, { maxRows: 100, maxBytes: 32 * 1024 * 1024 });
    const small = await post(body({ providers: ['VU'], algorithm: 'none', query: 'SELECT Unieknr FROM Personen LIMIT 100' }));
    assert.equal(small.status, 200, 'at the limit is within it');
  });

  it('a job past its memory limit is stopped by the OS and answered JOB_OUT_OF_MEMORY; the daemon goes on', async function () {
    // DuckDB's own limit set high, so the OS limit (a cgroup, where the machine allows one) is what stops the job.
    daemon = await start({ runner: { warmProcesses: 1, jobMemoryMiB: 256, jobMemoryLimit: '4GB' } });
    const bounds = await localRunnerOf(daemon).memoryBounds();
    if (!bounds.osLimit.startsWith('cgroup')) this.skip(); // no OS limit without root or a delegated cgroup: ${bounds.osLimit}
    authorization = (await bearer(daemon, analyst)).authorization;
    const tens = 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10))';
    const hungry = `${tens} SELECT count(DISTINCT p.Unieknr || a.x || b.x || c.x || d.x || e.x) AS n FROM Personen p, t a, t b, t c, t d, t e`;
    const answer = await post(body({ providers: ['VU'], algorithm: 'none', query: hungry }));
    assert.equal(answer.status, 422, JSON.stringify(answer.json).slice(0, 500));
    assert.equal(answer.json.code, 'JOB_OUT_OF_MEMORY');
    assert.equal((await post(body())).status, 200, 'the next request is served');
  });

  it('a stranger sending bytes to every job\'s sidecar does not touch the request', async () => {
    daemon = await start();
    authorization = (await bearer(daemon, analyst)).authorization;
    const poked: Promise<void>[] = [];
    daemon.runner.events.on('jobAccepting', ({ address }: { address: string }) => poked.push(poke(address)));
    const answer = await post(body({ aggregate: true }));
    await Promise.all(poked);
    assert.equal(poked.length, 3, 'both stewards and the TTP listened, and each was poked');
    assert.equal(answer.status, 200, JSON.stringify(answer.json).slice(0, 300));
  });
});

/** Five bytes, then goodbye: what any process of the machine can send to a loopback port. */
async function poke(address: string): Promise<void> {
  const at = address.lastIndexOf(':');
  const socket = net.connect({ host: address.slice(0, at), port: Number(address.slice(at + 1)) });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  socket.end(Buffer.from([1, 2, 3, 4, 5]));
  await once(socket, 'close');
}
