import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import type { TestCa } from '../support/certificates.js';
import { testCa } from '../support/certificates.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { httpsCall } from '../support/https-call.js';
import { analyst, bearer, bearerFromKeysDir } from '../support/tokens.js';
import { requestBody } from './api-world.js';

describe('verified requesters in a running daemon: local issuer and HTTPS with client certificates', () => {
  let data: ExampleData;
  let ca: TestCa;
  let daemon: RunningDaemon;

  before(async () => {
    data = await exampleData(50);
    ca = await testCa();
    const server = await ca.server();
    const file = (name: string, text: string) => {
      writeFileSync(path.join(data.dir, name), text);
      return path.join(data.dir, name);
    };
    daemon = await startDaemon(
      {
        port: 0,
        marketplaceFile: exampleMarketplaceFile,
        dataDir: data.dir,
        runner: { warmProcesses: 0 },
        decisionLogFile: path.join(data.dir, 'decisions.jsonl'),
        watchConfig: false,
        tls: { certFile: file('server.pem', server.cert), keyFile: file('server.key', server.key), clientCaFile: file('clients-ca.pem', ca.cert) },
      },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon?.close();
    data?.remove();
  });

  it('listens on HTTPS and says how it identifies callers', async () => {
    assert.match(daemon.url, /^https:\/\//);
    const health = await httpsCall(daemon.url, 'GET', '/healthz', { ca: ca.cert });
    assert.deepEqual(health.json['auth'], { trustBodyUserName: false, issuers: ['dynamos-local'], clientCertificates: true });
  });

  it('created the local issuer\'s key, owner-only, in keys/ beside the decision log', () => {
    assert.equal(statSync(path.join(data.dir, 'keys', 'issuer.key.pem')).mode & 0o777, 0o600);
  });

  it('takes a token minted from that key by another process (as `dynamos token` does) as the requester', async () => {
    const { authorization } = await bearerFromKeysDir(path.join(data.dir, 'keys'), analyst);
    const answer = await httpsCall(daemon.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, authorization, body: requestBody(analyst, ['RUG']) });
    assert.equal(answer.status, 403, 'authenticated, then denied by policy');
    assert.match(JSON.stringify(answer.json), /RUG has no agreement with analyst@uva\.example/);
  });

  const agreementReaders: { rule: string; credential: () => Promise<{ client?: Awaited<ReturnType<TestCa['client']>>; authorization?: string }>; status: number }[] = [
    { rule: 'a client certificate with O=steward:UVA', credential: async () => ({ client: await ca.client('officer@uva.example', ['steward:UVA']) }), status: 200 },
    { rule: 'a client certificate without the role', credential: async () => ({ client: await ca.client(analyst) }), status: 403 },
    { rule: 'an admin token from the local issuer', credential: () => bearer(daemon, 'ops@marketplace.example', ['admin']), status: 200 },
    { rule: 'no credential', credential: () => Promise.resolve({}), status: 401 },
  ];
  for (const r of agreementReaders) {
    it(`answers ${r.status} to GET the agreement of UVA with ${r.rule}`, async () => {
      const answer = await httpsCall(daemon.url, 'GET', '/api/v1/agreements/UVA', { ca: ca.cert, ...(await r.credential()) });
      assert.equal(answer.status, r.status, JSON.stringify(answer.json));
    });
  }
});
