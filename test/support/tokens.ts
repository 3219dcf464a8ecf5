import { generateKeyPairSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { SignJWT } from 'jose';
import type { JWK, JWTPayload } from 'jose';
import { LocalIssuer } from '../../daemon/local-issuer.js';
import type { RunningDaemon } from '../../daemon/start-daemon.js';

/** The example's requester, who has agreements with VU and UVA. */
export const analyst = 'analyst@uva.example';

/** `Authorization` for `user` from a running daemon's local issuer. */
export async function bearer(daemon: Pick<RunningDaemon, 'mintToken'>, user: string, roles: readonly string[] = []): Promise<{ authorization: string }> {
  return { authorization: `Bearer ${await daemon.mintToken(user, { roles })}` };
}

/** `Authorization` for whoever a requestApproval body names (`user.userName`), else the analyst. */
export function asRequester(daemon: Pick<RunningDaemon, 'mintToken'>, body: unknown): Promise<{ authorization: string }> {
  return bearer(daemon, userNameOf(body) ?? analyst);
}

/** `Authorization` minted with the key a daemon in another process keeps in `keysDir`. */
export async function bearerFromKeysDir(keysDir: string, user: string, roles: readonly string[] = []): Promise<{ authorization: string }> {
  const issuer = await LocalIssuer.read(keysDir);
  return { authorization: `Bearer ${await issuer.mint({ user, roles, now: Date.now() })}` };
}

/** The user a body names, from its JSON text or object. */
export function userNameOf(body: unknown): string | undefined {
  let value = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const name = (value as { user?: { userName?: unknown } } | null)?.user?.userName;
  return typeof name === 'string' ? name : undefined;
}

export type TestAlgorithm = 'EdDSA' | 'ES256' | 'RS256';

/** A key pair of an issuer the tests control, and what a verifier needs of it. */
export interface TestKeys {
  readonly alg: TestAlgorithm;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicPem: string;
  readonly publicJwk: JWK;
}

export function testKeys(alg: TestAlgorithm = 'EdDSA'): TestKeys {
  const pair =
    alg === 'EdDSA' ? generateKeyPairSync('ed25519') : alg === 'ES256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    alg,
    privateKey: pair.privateKey,
    publicKey: pair.publicKey,
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    publicJwk: pair.publicKey.export({ format: 'jwk' }) as JWK,
  };
}

/** What a signed test token says; each field left out gets a sensible value, `null` drops it. */
export interface TokenClaims {
  readonly iss?: string | null;
  readonly aud?: string | null;
  readonly sub?: string | null;
  /** Seconds since the epoch. */
  readonly exp?: number | null;
  readonly nbf?: number;
  readonly extra?: JWTPayload;
  readonly kid?: string;
}

/** A JWT signed with `keys`, issued at `nowMs`, valid for five minutes unless `exp` says otherwise. */
export async function signToken(keys: TestKeys, nowMs: number, claims: TokenClaims = {}): Promise<string> {
  const now = Math.floor(nowMs / 1000);
  const payload: JWTPayload = { ...claims.extra };
  const set = <K extends string>(key: K, value: unknown, fallback: unknown) => {
    const v = value === undefined ? fallback : value;
    if (v !== null) payload[key] = v;
  };
  set('iss', claims.iss, 'https://idp.test');
  set('aud', claims.aud, 'dynamos-test');
  set('sub', claims.sub, analyst);
  set('exp', claims.exp, now + 300);
  if (claims.nbf !== undefined) payload.nbf = claims.nbf;
  payload.iat = now;
  return new SignJWT(payload).setProtectedHeader({ alg: keys.alg, ...(claims.kid === undefined ? {} : { kid: claims.kid }) }).sign(keys.privateKey);
}
