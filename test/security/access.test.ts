import assert from 'node:assert/strict';
import type { Hono } from 'hono';
import { ApiWorld, call, requestBody, testIssuer } from './api-world.js';
import { analyst, signToken, testKeys } from '../support/tokens.js';
import type { TestKeys } from '../support/tokens.js';

const adminToken = 'an-admin-token-of-32-characters!';

describe('verified requesters: who may read and change what', () => {
  let world: ApiWorld;
  let keys: TestKeys;
  let app: Hono;
  /** `Authorization` for a user with roles, or the admin token, or nothing. */
  let as: (who: string | undefined, roles?: string[]) => Promise<string | undefined>;

  before(async () => {
    world = await ApiWorld.create();
    keys = testKeys('EdDSA');
    app = world.api(world.authenticator([testIssuer(keys)], { adminToken })).app;
    as = async (who, roles = []) => {
      if (who === undefined) return undefined;
      if (who === 'admin token') return `Bearer ${adminToken}`;
      return `Bearer ${await signToken(keys, world.clock.now(), { sub: who, extra: { roles } })}`;
    };
  });
  after(() => world?.close());

  const send = async (method: string, path: string, who: string | undefined, roles: string[] = [], body?: unknown) => {
    const authorization = await as(who, roles);
    return call(app, method, path, { ...(authorization === undefined ? {} : { authorization }), ...(body === undefined ? {} : { body }) });
  };

  const agreementReads: { rule: string; who: string | undefined; roles?: string[]; steward: string; status: number }[] = [
    { rule: 'a steward reads its own agreement', who: 'officer@uva.example', roles: ['steward:UVA'], steward: 'UVA', status: 200 },
    { rule: 'a steward may not read another steward\'s', who: 'officer@uva.example', roles: ['steward:UVA'], steward: 'VU', status: 403 },
    { rule: 'a requester without roles may not read one', who: analyst, steward: 'UVA', status: 403 },
    { rule: 'an admin (role) reads any', who: 'ops@marketplace.example', roles: ['admin'], steward: 'RUG', status: 200 },
    { rule: 'the admin token reads any', who: 'admin token', steward: 'VU', status: 200 },
    { rule: 'no credential reads none', who: undefined, steward: 'UVA', status: 401 },
  ];
  for (const r of agreementReads) {
    it(`GET agreement: ${r.rule} (${r.status})`, async () => {
      const answer = await send('GET', `/api/v1/agreements/${r.steward}`, r.who, r.roles);
      assert.equal(answer.status, r.status, JSON.stringify(answer.json));
      if (r.status === 200) assert.equal(answer.json['steward'], r.steward);
      else assert.equal(answer.json['relations'], undefined, 'a refusal lists no authorised names');
      if (r.status === 401) assert.equal(answer.headers.get('www-authenticate'), 'Bearer realm="dynamos"');
    });
  }

  it('GET agreement: says which role was missing', async () => {
    const answer = await send('GET', '/api/v1/agreements/VU', 'officer@uva.example', ['steward:UVA']);
    assert.equal(answer.json.code, 'FORBIDDEN');
    assert.match(answer.json.message ?? '', /"officer@uva\.example" may not access the agreement of VU: it needs the role "steward:VU" or "admin"/);
  });

  it('PUT agreement: a steward changes its own, not another\'s', async () => {
    const before = world.knowledge.current().marketplace.revision;
    assert.equal((await send('PUT', '/api/v1/agreements/VU', 'officer@uva.example', ['steward:UVA'], { mandatedServices: {} })).status, 403);
    assert.equal(world.knowledge.current().marketplace.revision, before, 'nothing changed');
    const own = await send('PUT', '/api/v1/agreements/UVA', 'officer@uva.example', ['steward:UVA'], { computeProviders: ['SURF'] });
    assert.equal(own.status, 200, JSON.stringify(own.json));
    assert.notEqual(world.knowledge.current().marketplace.revision, before);
  });

  const partyMarks: { rule: string; who: string | undefined; roles?: string[]; status: number }[] = [
    { rule: 'an admin (role)', who: 'ops@marketplace.example', roles: ['admin'], status: 200 },
    { rule: 'the admin token', who: 'admin token', status: 200 },
    { rule: 'a steward, even of that party', who: 'officer@uva.example', roles: ['steward:UVA'], status: 403 },
    { rule: 'no credential', who: undefined, status: 401 },
  ];
  for (const r of partyMarks) {
    it(`PUT party status: ${r.rule} (${r.status})`, async () => {
      const answer = await send('PUT', '/api/v1/parties/UVA/status', r.who, r.roles, { online: true });
      assert.equal(answer.status, r.status, JSON.stringify(answer.json));
    });
  }

  describe('reading a decision', () => {
    let requestId: string;
    before(async () => {
      const answer = await send('POST', '/api/v1/requestApproval', analyst, [], requestBody(analyst, ['VU', 'UVA']));
      assert.equal(answer.status, 200, JSON.stringify(answer.json));
      requestId = answer.json.jobId as string;
    });
    const readers: { rule: string; who: string | undefined; roles?: string[]; status: number }[] = [
      { rule: 'its requester', who: analyst, status: 200 },
      { rule: 'another requester', who: 'someone@vu.example', status: 403 },
      { rule: 'a steward it asked', who: 'officer@vu.example', roles: ['steward:VU'], status: 200 },
      { rule: 'a steward it did not ask', who: 'officer@rug.example', roles: ['steward:RUG'], status: 403 },
      { rule: 'an admin', who: 'ops@marketplace.example', roles: ['admin'], status: 200 },
      { rule: 'no credential', who: undefined, status: 401 },
    ];
    for (const r of readers) {
      it(`${r.rule}: ${r.status}`, async () => {
        const answer = await send('GET', `/api/v1/decisions/${requestId}`, r.who, r.roles);
        assert.equal(answer.status, r.status, JSON.stringify(answer.json));
        if (r.status === 200) assert.equal(answer.json['requester'], analyst);
      });
    }
  });

  it('keeps health, metrics and the audit routes public: none asks for a credential', async () => {
    assert.equal((await send('GET', '/healthz', undefined)).status, 200);
    // This world serves no metrics or audit head (404); what matters is that none answers 401.
    for (const path of ['/metrics', '/api/v1/audit/head']) assert.notEqual((await send('GET', path, undefined)).status, 401, path);
  });
});

describe('verified requesters: trust in the body\'s user name (auth.trustBodyUserName)', () => {
  let world: ApiWorld;
  let keys: TestKeys;
  before(async () => {
    world = await ApiWorld.create();
    keys = testKeys('EdDSA');
  });
  after(() => world?.close());

  const post = (app: Hono, authorization?: string, body: unknown = requestBody('anyone@anywhere.example')) =>
    call(app, 'POST', '/api/v1/requestApproval', { body, ...(authorization === undefined ? {} : { authorization }) });

  it('off (the default): a request without a credential is refused, and /healthz says requesters are verified', async () => {
    const { app } = world.api(world.authenticator([testIssuer(keys)]));
    assert.equal((await post(app)).status, 401);
    const health = await call(app, 'GET', '/healthz');
    assert.deepEqual(health.json['auth'], { trustBodyUserName: false, issuers: ['https://idp.test'], clientCertificates: false });
  });

  it('on: the body names the requester when no credential comes, as in the original, and /healthz shows it', async () => {
    const { app } = world.api(world.authenticator([testIssuer(keys)], { trustBodyUserName: true }));
    const answer = await post(app);
    assert.equal(answer.status, 403, JSON.stringify(answer.json));
    assert.equal(answer.json.code, 'NO_AUTHORISED_PROVIDER', 'believed, then denied by policy: no steward knows this name');
    const jobId = (answer.json.details as { jobId?: string } | undefined)?.jobId as string;
    assert.equal(world.decisions.get(jobId)?.requester, 'anyone@anywhere.example');
    assert.equal((await post(app, undefined, requestBody(analyst))).status, 200);
    assert.deepEqual((await call(app, 'GET', '/healthz')).json['auth'], { trustBodyUserName: true, issuers: ['https://idp.test'], clientCertificates: false });
  });

  it('on: a credential that comes is still checked, and must match the body', async () => {
    const { app } = world.api(world.authenticator([testIssuer(keys)], { trustBodyUserName: true }));
    assert.equal((await post(app, 'Bearer not-a-jwt')).status, 401);
    const token = await signToken(keys, world.clock.now());
    assert.equal((await post(app, `Bearer ${token}`, requestBody('mallory@evil.example'))).status, 403);
    assert.equal((await post(app, `Bearer ${token}`, requestBody(analyst))).status, 200);
  });

  it('on: reading an agreement still needs a credential', async () => {
    const { app } = world.api(world.authenticator([testIssuer(keys)], { trustBodyUserName: true }));
    assert.equal((await call(app, 'GET', '/api/v1/agreements/UVA')).status, 401);
  });
});
