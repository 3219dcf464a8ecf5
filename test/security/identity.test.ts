import assert from 'node:assert/strict';
import { errors, SignJWT, UnsecuredJWT } from 'jose';
import { TokenVerifier } from '../../daemon/api/token-verifier.js';
import type { Hono } from 'hono';
import type { Answer } from './api-world.js';
import { ApiWorld, call, requestBody, testIssuer } from './api-world.js';
import { analyst, signToken, testKeys } from '../support/tokens.js';
import type { TestKeys } from '../support/tokens.js';

const adminToken = 'an-admin-token-of-32-characters!';
const seconds = (ms: number) => Math.floor(ms / 1000);

/** A 401 says what was wrong, asks for a bearer token, and never repeats the token it got. */
function assertRefused(answer: Answer, status: number, code: string, message: RegExp, token?: string): void {
  assert.equal(answer.status, status, JSON.stringify(answer.json));
  assert.equal(answer.json.code, code);
  assert.match(answer.json.message ?? '', message);
  if (status === 401) assert.match(answer.headers.get('www-authenticate') ?? '', /^Bearer\b/);
  const longestPart = token?.split('.').sort((a, b) => b.length - a.length)[0];
  if (longestPart !== undefined) assert.ok(!JSON.stringify(answer.json).includes(longestPart), 'the answer repeats the token');
}

describe('verified requesters: who sends a requestApproval', () => {
  let world: ApiWorld;
  let keys: TestKeys;
  let app: Hono;

  before(async () => {
    world = await ApiWorld.create();
    keys = testKeys('EdDSA');
    app = world.api(world.authenticator([testIssuer(keys)], { adminToken })).app;
  });
  after(() => world?.close());
  const now = () => world.clock.now();

  const post = (authorization: string | undefined, body: unknown = requestBody(analyst)) =>
    call(app, 'POST', '/api/v1/requestApproval', { body, ...(authorization === undefined ? {} : { authorization }) });

  it('runs the request of a valid token, with the token\'s user as the requester', async () => {
    const answer = await post(`Bearer ${await signToken(keys, now())}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.json));
    assert.equal(world.decisions.get(answer.json.jobId as string)?.requester, analyst);
  });

  const refusals: { rule: string; authorization: () => Promise<string | undefined>; status: number; code: string; message: RegExp; body?: unknown }[] = [
    { rule: 'no credential at all', authorization: async () => undefined, status: 401, code: 'UNAUTHENTICATED', message: /no credential: send "Authorization: Bearer <token>"/ },
    { rule: 'an expired token (past exp and the 30 s tolerance)', authorization: async () => `Bearer ${await signToken(keys, now() - 600_000, { exp: seconds(now()) - 31 })}`, status: 401, code: 'UNAUTHENTICATED', message: /the token expired at \d{4}-\d\d-\d\dT[\d:.]+Z \(clock tolerance 30 s\)/ },
    { rule: 'a token without exp', authorization: async () => `Bearer ${await signToken(keys, now(), { exp: null })}`, status: 401, code: 'UNAUTHENTICATED', message: /no "exp" claim: tokens must expire/ },
    { rule: 'a token not valid yet (nbf)', authorization: async () => `Bearer ${await signToken(keys, now(), { nbf: seconds(now()) + 120 })}`, status: 401, code: 'UNAUTHENTICATED', message: /not valid yet/ },
    { rule: 'an issuer that is not trusted', authorization: async () => `Bearer ${await signToken(keys, now(), { iss: 'https://evil.test' })}`, status: 401, code: 'UNAUTHENTICATED', message: /issuer "https:\/\/evil\.test" is not trusted/ },
    { rule: 'a trusted issuer\'s name signed with another key', authorization: async () => `Bearer ${await signToken(testKeys('EdDSA'), now())}`, status: 401, code: 'UNAUTHENTICATED', message: /signature does not verify with the keys of issuer "https:\/\/idp\.test"/ },
    { rule: 'another audience', authorization: async () => `Bearer ${await signToken(keys, now(), { aud: 'another-service' })}`, status: 401, code: 'UNAUTHENTICATED', message: /meant for another audience/ },
    { rule: 'an unsigned token (alg none)', authorization: async () => `Bearer ${new UnsecuredJWT({ sub: analyst }).setIssuer('https://idp.test').setAudience('dynamos-test').setExpirationTime(seconds(now()) + 300).encode()}`, status: 401, code: 'UNAUTHENTICATED', message: /alg "none"/ },
    {
      rule: 'key confusion: HS256 with the issuer\'s public key as the secret',
      authorization: async () => `Bearer ${await new SignJWT({ sub: analyst }).setProtectedHeader({ alg: 'HS256' }).setIssuer('https://idp.test').setAudience('dynamos-test').setExpirationTime(seconds(now()) + 300).sign(new TextEncoder().encode(keys.publicPem))}`,
      status: 401, code: 'UNAUTHENTICATED', message: /algorithm "HS256" is not accepted from issuer "https:\/\/idp\.test" \(accepted: EdDSA\)/,
    },
    { rule: 'a token without a user (sub)', authorization: async () => `Bearer ${await signToken(keys, now(), { sub: null })}`, status: 401, code: 'UNAUTHENTICATED', message: /no "sub" claim/ },
    { rule: 'something that is not a JWT', authorization: async () => 'Bearer not-a-jwt', status: 401, code: 'UNAUTHENTICATED', message: /not a JWT/ },
    { rule: 'another scheme than Bearer', authorization: async () => 'Basic YW5hbHlzdDpzZWNyZXQ=', status: 401, code: 'UNAUTHENTICATED', message: /must be "Bearer <token>"/ },
    { rule: 'the admin token, which names no requester', authorization: async () => `Bearer ${adminToken}`, status: 403, code: 'FORBIDDEN', message: /admin token names no requester/ },
    { rule: 'a body that names someone else than the token', authorization: async () => `Bearer ${await signToken(keys, now())}`, body: requestBody('mallory@evil.example'), status: 403, code: 'FORBIDDEN', message: /^user\.userName: "mallory@evil\.example" is not the verified requester "analyst@uva\.example"$/ },
  ];
  for (const r of refusals) {
    it(`refuses ${r.rule} with ${r.status}, before any job runs`, async () => {
      const jobsBefore = world.runner.jobs.length;
      const authorization = await r.authorization();
      const answer = await post(authorization, r.body);
      assertRefused(answer, r.status, r.code, r.message, authorization?.replace(/^\w+ /, ''));
      assert.equal(world.runner.jobs.length, jobsBefore);
    });
  }

  it('names the field of a body that names someone else', async () => {
    const answer = await post(`Bearer ${await signToken(keys, now())}`, requestBody('mallory@evil.example'));
    assert.deepEqual(answer.json.details?.problems?.map((p) => p.path), ['user.userName']);
  });

  it('accepts a token that expired within the clock tolerance', async () => {
    const token = await signToken(keys, now() - 300_000, { exp: seconds(now()) - 10 });
    assert.equal((await post(`Bearer ${token}`)).status, 200);
  });

  it('refuses a token once the daemon\'s clock passes its expiry', async () => {
    const token = await signToken(keys, now(), { exp: seconds(now()) + 60 });
    assert.equal((await post(`Bearer ${token}`)).status, 200);
    world.clock.increment(91_000);
    assertRefused(await post(`Bearer ${token}`), 401, 'UNAUTHENTICATED', /expired/, token);
  });

  it('remembers a verified token for at most a minute: a key its issuer withdraws stops working by then', async () => {
    let withdrawn = false;
    const keysOf = testIssuer(keys).keys;
    const issuer = testIssuer(keys, { keys: (header, token) => (withdrawn ? Promise.reject(new errors.JWKSNoMatchingKey()) : keysOf(header, token)) });
    const withdrawable = world.api(world.authenticator([issuer])).app;
    const token = await signToken(keys, now(), { exp: seconds(now()) + 600 });
    const send = () => call(withdrawable, 'POST', '/api/v1/requestApproval', { body: requestBody(analyst), authorization: `Bearer ${token}` });
    assert.equal((await send()).status, 200);
    withdrawn = true;
    assert.equal((await send()).status, 200, 'verified a moment ago');
    world.clock.increment(TokenVerifier.rememberMs + 1);
    assertRefused(await send(), 401, 'UNAUTHENTICATED', /no key of issuer "https:\/\/idp\.test" matches/, token);
  });

  it('answers 401 before it reads the body: a malformed body without a credential is not parsed', async () => {
    assertRefused(await post(undefined, '{"type": '), 401, 'UNAUTHENTICATED', /no credential/);
  });
});
