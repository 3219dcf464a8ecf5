import assert from 'node:assert/strict';
import http from 'node:http';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { analyst, bearer } from '../support/tokens.js';

/** What a test reads of an answer, and which local port its connection had. */
interface Exchange {
  readonly status: number;
  readonly connection: string | undefined;
  readonly json: { code?: string; details?: { problems?: { path: string }[] } };
  readonly localPort: number;
}

/** The original request from the analyst, to the stewards that authorise them. */
function originalBody(query = 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr'): string {
  return JSON.stringify({
    type: 'sqlDataRequest',
    user: { id: '12324', userName: analyst },
    dataProviders: ['VU', 'UVA'],
    data_request: { type: 'sqlDataRequest', query, algorithm: 'average', options: { aggregate: false }, requestMetadata: {} },
  });
}

describe('HTTP keep-alive: a 413 leaves the requests after it unharmed', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;
  // One connection at a time, kept alive: what a client's pool does with its next request.
  let agent: http.Agent;

  before(async () => {
    data = await exampleData(200);
    daemon = await startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, runner: { warmProcesses: 1 }, decisionLogFile: `${data.dir}/decisions.jsonl`, watchConfig: false, limits: { request: { maxQueryChars: 200 } } },
      { logger: silentLogger },
    );
  });
  beforeEach(() => (agent = new http.Agent({ keepAlive: true, maxSockets: 1 })));
  afterEach(() => agent.destroy());
  after(async () => {
    await daemon?.close();
    data?.remove();
  });

  /** Sends `body` whole, with a Content-Length, or in 64 KiB chunks without one; a connection error fails the test. */
  function exchange(method: string, path: string, opts: { body?: Buffer | string; chunked?: boolean; headers?: Record<string, string> } = {}): Promise<Exchange> {
    const body = opts.body === undefined ? undefined : Buffer.from(opts.body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', ...opts.headers };
    if (body !== undefined && opts.chunked !== true) headers['content-length'] = body.length;
    return new Promise((resolve, reject) => {
      const request = http.request(`${daemon.url}${path}`, { method, agent, headers }, (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection, json: JSON.parse(text) as Exchange['json'], localPort: request.socket?.localPort ?? -1 }));
      });
      request.on('error', reject);
      if (body !== undefined && opts.chunked === true) for (let at = 0; at < body.length; at += 64 * 1024) request.write(body.subarray(at, at + 64 * 1024));
      request.end(body !== undefined && opts.chunked !== true ? body : undefined);
    });
  }
  const tooLarge = Buffer.alloc(2 * 1024 * 1024, ' ');

  for (const chunked of [false, true]) {
    it(`answers a 2 MiB body ${chunked ? 'sent in chunks' : 'with a Content-Length'} with 413, and the next requests on the pool with their own answers`, async () => {
      const auth = await bearer(daemon, analyst);
      for (let round = 0; round < 3; round++) {
        const refused = await exchange('POST', '/api/v1/requestApproval', { body: tooLarge, chunked, headers: auth });
        assert.equal(refused.status, 413);
        assert.equal(refused.json.code, 'REQUEST_TOO_LARGE');
        assert.equal(refused.connection, 'close', 'the client is told not to send more on this connection');

        const unauthenticated = await exchange('POST', '/api/v1/requestApproval', { body: originalBody(), chunked });
        assert.equal(unauthenticated.status, 401);
        assert.notEqual(unauthenticated.localPort, refused.localPort, 'a fresh connection');
        const health = await exchange('GET', '/healthz');
        assert.equal(health.status, 200);
        assert.equal(health.localPort, unauthenticated.localPort, 'an ordinary answer keeps its connection alive');
      }
      const answered = await exchange('POST', '/api/v1/requestApproval', { body: originalBody(), chunked, headers: auth });
      assert.equal(answered.status, 200);
    });
  }

  it('applies the limits of the settings (limits.request) to the body', async () => {
    const refused = await exchange('POST', '/api/v1/requestApproval', { body: originalBody(`SELECT * FROM Personen WHERE Unieknr > ${'9'.repeat(200)}`), headers: await bearer(daemon, analyst) });
    assert.equal(refused.status, 400);
    assert.equal(refused.json.code, 'REQUEST_INVALID');
    assert.deepEqual(refused.json.details?.problems?.map((p) => p.path), ['data_request.query']);
  });
});
