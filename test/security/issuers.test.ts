import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { AuthSettings } from '../../daemon/api/auth-settings.js';
import { authSettingsSchema } from '../../daemon/api/auth-settings.js';
import { trustedIssuersOf } from '../../daemon/api/trusted-issuers.js';
import { problemsFromZod } from '../../knowledge/problems.js';
import { ApiWorld, call, requestBody } from './api-world.js';
import { analyst, signToken, testKeys } from '../support/tokens.js';
import type { TestAlgorithm, TestKeys } from '../support/tokens.js';

/** Settings with one issuer `https://idp.test` for audience `dynamos-test`. */
function settings(issuer: Record<string, unknown>, more: Record<string, unknown> = {}): AuthSettings {
  return authSettingsSchema.parse({ issuers: [{ issuer: 'https://idp.test', audience: 'dynamos-test', ...issuer }], ...more });
}

/** A JWK Set served on loopback, as an identity provider publishes it. */
async function jwksServer(keys: () => unknown[]): Promise<{ url: string; fetches: () => number; close: () => Promise<void> }> {
  let fetches = 0;
  const server: Server = createServer((req, res) => {
    fetches += 1;
    res.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: keys() }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/.well-known/jwks.json`, fetches: () => fetches, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('verified requesters: trusted issuers and their keys', () => {
  let world: ApiWorld;
  let dir: string;
  before(async () => {
    world = await ApiWorld.create();
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-issuers-'));
  });
  after(async () => {
    await world?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** POSTs the analyst's request with `token` under `auth`; answers the status and the requester recorded. */
  async function requestWith(auth: AuthSettings, token: string): Promise<{ status: number; requester?: string; message?: string }> {
    const { app } = world.api(world.authenticator(trustedIssuersOf(auth), { clockToleranceSeconds: auth.clockToleranceSeconds }));
    const answer = await call(app, 'POST', '/api/v1/requestApproval', { body: requestBody(analyst), authorization: `Bearer ${token}` });
    const requester = world.decisions.get(answer.json.jobId as string)?.requester;
    return { status: answer.status, ...(requester === undefined ? {} : { requester }), ...(answer.json.message === undefined ? {} : { message: answer.json.message }) };
  }

  const staticKeyForms: { form: string; key: (keys: TestKeys) => unknown }[] = [
    { form: 'PEM text', key: (k) => k.publicPem },
    { form: 'a PEM file', key: (k) => writeKey(k) },
    { form: 'a JWK', key: (k) => k.publicJwk },
  ];
  const algorithms: TestAlgorithm[] = ['EdDSA', 'ES256', 'RS256'];
  for (const { form, key } of staticKeyForms) {
    for (const alg of algorithms) {
      it(`trusts a static ${alg} key given as ${form}`, async () => {
        const keys = testKeys(alg);
        const answer = await requestWith(settings({ keys: [key(keys)] }), await signToken(keys, world.clock.now()));
        assert.deepEqual(answer, { status: 200, requester: analyst });
      });
    }
  }

  function writeKey(keys: TestKeys): string {
    const file = path.join(dir, `${keys.alg}-${Math.random().toString(16).slice(2)}.pub.pem`);
    writeFileSync(file, keys.publicPem);
    return file;
  }

  it('tries each of several static keys when the token names no kid', async () => {
    const [other, signer] = [testKeys('EdDSA'), testKeys('EdDSA')];
    const answer = await requestWith(settings({ keys: [other.publicPem, signer.publicPem] }), await signToken(signer, world.clock.now()));
    assert.equal(answer.status, 200);
  });

  it('reads the user and roles from the claims the settings name', async () => {
    const keys = testKeys('ES256');
    const auth = settings({ keys: [keys.publicJwk] }, { userClaim: 'email', rolesClaim: 'groups' });
    const token = await signToken(keys, world.clock.now(), { sub: 'u-123', extra: { email: analyst, groups: ['steward:UVA'] } });
    assert.deepEqual(await requestWith(auth, token), { status: 200, requester: analyst });
    const { app } = world.api(world.authenticator(trustedIssuersOf(auth)));
    assert.equal((await call(app, 'GET', '/api/v1/agreements/UVA', { authorization: `Bearer ${token}` })).status, 200);
  });

  it("with several issuers, lets each grant only the roles the settings give it: UVA's provider cannot make a VU steward", async () => {
    const [uva, vu] = [testKeys('EdDSA'), testKeys('EdDSA')];
    const issuers = [
      { issuer: 'https://idp.uva.test', audience: 'dynamos-test', keys: [uva.publicPem], grantsRoles: ['steward:UVA'] },
      { issuer: 'https://idp.vu.test', audience: 'dynamos-test', keys: [vu.publicPem], grantsRoles: ['steward:VU'] },
    ];
    const { app } = world.api(world.authenticator(trustedIssuersOf(authSettingsSchema.parse({ issuers }))));
    const token = await signToken(uva, world.clock.now(), { iss: 'https://idp.uva.test', sub: 'steward@uva.example', extra: { roles: ['steward:UVA', 'steward:VU', 'admin'] } });
    const read = (steward: string) => call(app, 'GET', `/api/v1/agreements/${steward}`, { authorization: `Bearer ${token}` });
    assert.equal((await read('UVA')).status, 200);
    assert.equal((await read('VU')).status, 403);
    const withoutGrants = authSettingsSchema.safeParse({ issuers: issuers.map(({ grantsRoles: _grants, ...rest }) => rest) });
    assert.deepEqual(withoutGrants.success ? [] : withoutGrants.error.issues.map((i) => i.path.join('.')), ['issuers.0.grantsRoles', 'issuers.1.grantsRoles']);
  });

  it('fetches the keys from a JWKS URL once and keeps them for the next token', async () => {
    const signer = testKeys('ES256');
    const jwks = await jwksServer(() => [{ ...testKeys('ES256').publicJwk, kid: 'old' }, { ...signer.publicJwk, kid: 'current' }]);
    try {
      const { app } = world.api(world.authenticator(trustedIssuersOf(settings({ jwksUrl: jwks.url, algorithms: ['ES256'] }))));
      const post = async (kid: string) => call(app, 'POST', '/api/v1/requestApproval', { body: requestBody(analyst), authorization: `Bearer ${await signToken(signer, world.clock.now(), { kid })}` });
      const first = await post('current');
      assert.equal(first.status, 200);
      assert.equal(world.decisions.get(first.json.jobId as string)?.requester, analyst);
      assert.equal((await post('current')).status, 200);
      assert.equal(jwks.fetches(), 1);
      assert.match((await post('old')).json.message ?? '', /signature does not verify/);
    } finally {
      await jwks.close();
    }
  });

  it('answers 503, not 401, when the issuer\'s JWKS cannot be fetched', async () => {
    const jwks = await jwksServer(() => []);
    await jwks.close();
    const answer = await requestWith(settings({ jwksUrl: jwks.url }), await signToken(testKeys('ES256'), world.clock.now()));
    assert.equal(answer.status, 503);
    assert.equal(answer.message, 'the keys of issuer "https://idp.test" cannot be fetched now: try again later', 'where the keys live stays in the log');
  });

  it('refuses a key file it cannot read, naming the setting', () => {
    assert.throws(() => trustedIssuersOf(settings({ keys: [path.join(dir, 'missing.pem')] })), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && /^auth\.issuers\[0\]\.keys\[0\]: cannot read/.test(e.message));
  });

  const badSettings: { rule: string; auth: unknown; path: string; message: RegExp }[] = [
    { rule: 'neither keys nor jwksUrl', auth: { issuers: [{ issuer: 'i', audience: 'a' }] }, path: 'issuers[0].jwksUrl', message: /either jwksUrl or keys/ },
    { rule: 'both keys and jwksUrl', auth: { issuers: [{ issuer: 'i', audience: 'a', keys: ['x'], jwksUrl: 'https://idp.test/jwks' }] }, path: 'issuers[0].jwksUrl', message: /exactly one/ },
    { rule: 'a JWKS over plain HTTP off loopback', auth: { issuers: [{ issuer: 'i', audience: 'a', jwksUrl: 'http://idp.test/jwks' }] }, path: 'issuers[0].jwksUrl', message: /use https/ },
    { rule: 'a symmetric algorithm', auth: { issuers: [{ issuer: 'i', audience: 'a', keys: ['x'], algorithms: ['HS256'] }] }, path: 'issuers[0].algorithms[0]', message: /symmetric algorithms and "none" are refused/ },
    { rule: 'a symmetric JWK', auth: { issuers: [{ issuer: 'i', audience: 'a', keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }] }, path: 'issuers[0].keys[0].kty', message: /symmetric keys \(oct\) are refused/ },
    { rule: 'a private JWK', auth: { issuers: [{ issuer: 'i', audience: 'a', keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'AA', d: 'AA' }] }] }, path: 'issuers[0].keys[0].d', message: /give the public half only/ },
    { rule: 'an issuer listed twice', auth: { issuers: [{ issuer: 'i', audience: 'a', keys: ['x'] }, { issuer: 'i', audience: 'b', keys: ['y'] }] }, path: 'issuers[1].issuer', message: /listed twice/ },
    { rule: 'an unknown key', auth: { trustBody: true }, path: 'trustBody', message: /unknown key/ },
    { rule: 'a negative clock tolerance', auth: { clockToleranceSeconds: -1 }, path: 'clockToleranceSeconds', message: /expected number to be >=0/ },
  ];
  for (const b of badSettings) {
    it(`refuses settings with ${b.rule}, naming ${b.path}`, () => {
      const parsed = authSettingsSchema.safeParse(b.auth);
      assert.ok(!parsed.success);
      const problems = problemsFromZod(parsed.error);
      assert.ok(problems.some((p) => p.path === b.path && b.message.test(p.message)), JSON.stringify(problems));
    });
  }

  it('defaults to the local issuer\'s claims, a 30 s tolerance, every asymmetric algorithm and no trust in the body', () => {
    const auth = authSettingsSchema.parse({});
    assert.deepEqual(auth, { issuers: [], clockToleranceSeconds: 30, userClaim: 'sub', rolesClaim: 'roles', trustBodyUserName: false });
    assert.deepEqual(settings({ keys: ['x'] }).issuers[0]?.algorithms, ['EdDSA', 'Ed25519', 'ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']);
  });
});
