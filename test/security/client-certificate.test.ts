import assert from 'node:assert/strict';
import type { RunningServer } from '../../daemon/api/http-server.js';
import { startHttpServer } from '../../daemon/api/http-server.js';
import type { IssuedCertificate, TestCa } from '../support/certificates.js';
import { httpsCall } from '../support/https-call.js';
import { testCa } from '../support/certificates.js';
import { analyst, signToken, testKeys } from '../support/tokens.js';
import type { TestKeys } from '../support/tokens.js';
import { ApiWorld, requestBody, testIssuer } from './api-world.js';

describe('verified requesters: client certificates on an HTTPS listener', () => {
  let world: ApiWorld;
  let keys: TestKeys;
  let ca: TestCa;
  let stranger: TestCa;
  let server: RunningServer;

  before(async () => {
    world = await ApiWorld.create();
    keys = testKeys('EdDSA');
    [ca, stranger] = [await testCa(), await testCa('someone else\'s CA')];
    const { app } = world.api(world.authenticator([testIssuer(keys)], { clientCertificates: true }));
    const own = await ca.server();
    server = await startHttpServer(app, { host: '127.0.0.1', port: 0, tls: { cert: own.cert, key: own.key, clientCa: ca.cert } });
  });
  after(async () => {
    await server?.close();
    await world?.close();
  });

  const requesterOf = (answer: { json: Record<string, unknown> }) => world.decisions.get(answer.json['jobId'] as string)?.requester;

  it('serves HTTPS', () => {
    assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  });

  it('takes the requester from a client certificate the CA signed: its subject CN', async () => {
    const answer = await httpsCall(server.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, client: await ca.client(analyst), body: requestBody(analyst) });
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(requesterOf(answer), analyst);
  });

  it('reads the roles from the certificate\'s O values', async () => {
    const officer = await ca.client('officer@uva.example', ['steward:UVA']);
    assert.equal((await httpsCall(server.url, 'GET', '/api/v1/agreements/UVA', { ca: ca.cert, client: officer })).status, 200);
    assert.equal((await httpsCall(server.url, 'GET', '/api/v1/agreements/VU', { ca: ca.cert, client: officer })).status, 403);
  });

  it('refuses a body that names someone else than the certificate', async () => {
    const answer = await httpsCall(server.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, client: await ca.client(analyst), body: requestBody('mallory@evil.example') });
    assert.equal(answer.status, 403);
    assert.match(String(answer.json['message']), /user\.userName: "mallory@evil\.example" is not the verified requester "analyst@uva\.example"/);
  });

  const refusals: { rule: string; client: () => Promise<IssuedCertificate | undefined>; message: RegExp }[] = [
    { rule: 'a certificate another CA signed', client: () => stranger.client(analyst), message: /^the client certificate is not trusted \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/ },
    { rule: 'an expired certificate', client: () => ca.client(analyst, [], { notBefore: new Date(Date.now() - 3 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) }), message: /not trusted \(CERT_HAS_EXPIRED\)/ },
    { rule: 'neither certificate nor token', client: () => Promise.resolve(undefined), message: /no credential/ },
  ];
  for (const r of refusals) {
    it(`answers 401 to ${r.rule}`, async () => {
      const client = await r.client();
      const answer = await httpsCall(server.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, ...(client === undefined ? {} : { client }), body: requestBody(analyst) });
      assert.equal(answer.status, 401, JSON.stringify(answer.json));
      assert.match(String(answer.json['message']), r.message);
    });
  }

  it('lets a bearer token win over a certificate that came with it', async () => {
    const token = await signToken(keys, world.clock.now(), { sub: 'other@vu.example' });
    const answer = await httpsCall(server.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, client: await ca.client(analyst), authorization: `Bearer ${token}`, body: requestBody('other@vu.example') });
    assert.equal(answer.status, 403, 'other@vu.example has no agreement: the token\'s name was used');
    assert.equal(answer.json['code'], 'NO_AUTHORISED_PROVIDER');
  });

  it('takes a bearer token over HTTPS from a client without a certificate', async () => {
    const answer = await httpsCall(server.url, 'POST', '/api/v1/requestApproval', { ca: ca.cert, authorization: `Bearer ${await signToken(keys, world.clock.now())}`, body: requestBody(analyst) });
    assert.equal(answer.status, 200);
  });
});
