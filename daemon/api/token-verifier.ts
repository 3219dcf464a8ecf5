import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import type { JWTPayload, JWTVerifyGetKey, JWTVerifyOptions, KeyInput } from 'jose';
import { LRUCache } from 'lru-cache';
import { entryBytes } from '../../knowledge/cache-bytes.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { Identity } from './identity.js';

/** An issuer whose tokens the daemon believes, ready to verify with. */
export interface TrustedIssuer {
  /** The exact `iss` its tokens carry. */
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly algorithms: readonly string[];
  /** Finds the verification key for a token's header (a local or remote JWK Set). */
  readonly keys: JWTVerifyGetKey;
  /** Where the keys come from, for messages: `static keys` or the JWKS URL. */
  readonly keySource: string;
  /** The claim naming the user, e.g. `sub`. */
  readonly userClaim: string;
  /** The claim with the roles, e.g. `roles`. */
  readonly rolesClaim: string;
  /** The roles its tokens may grant (`steward:*` matches every steward); every role when absent. */
  readonly grantsRoles?: readonly string[];
}

/**
 * Raised by a key lookup that could not reach the issuer's keys (network, HTTP status, bad JSON):
 * the daemon's problem, not the caller's, so it answers 503 rather than 401.
 */
export class IssuerKeysUnavailable extends Error {
  override readonly name = 'IssuerKeysUnavailable';
}

const longestName = 256;

/**
 * Checks bearer JWTs against the trusted issuers: signature with an allowed asymmetric algorithm,
 * issuer, audience, `exp` (required), `nbf` and `iat`, all on the daemon's clock with a tolerance.
 * Refusals say what was wrong and never repeat the token.
 */
export class TokenVerifier {
  private readonly byIssuer: ReadonlyMap<string, TrustedIssuer>;
  /**
   * Tokens verified lately, by their exact text: a client sends the same token with request after
   * request, and a signature check costs about 0.3 ms. A hit still checks the time window on the
   * clock; an entry lasts at most {@link rememberMs}, so a key the issuer withdrew stops working
   * within that time even for a token that has not expired. Bounded by the bytes of the tokens and
   * identities it keeps, least recently used first out.
   */
  private readonly verified: LRUCache<string, { readonly identity: Identity; readonly from: number; readonly until: number }>;
  /** 4 MiB: thousands of ordinary tokens of about 1 KB. */
  static readonly defaultRememberBytes = 4 * 1024 * 1024;
  static readonly rememberMs = 60_000;
  private static readonly longestRemembered = 8192;

  constructor(
    issuers: readonly TrustedIssuer[],
    private readonly opts: { readonly clock: Clock; readonly clockToleranceSeconds: number; readonly logger?: Logger; readonly rememberBytes?: number },
  ) {
    this.byIssuer = new Map(issuers.map((i) => [i.issuer, i]));
    this.verified = new LRUCache({
      maxSize: opts.rememberBytes ?? TokenVerifier.defaultRememberBytes,
      sizeCalculation: ({ identity }, token) => entryBytes(token, identity.name, ...identity.roles),
    });
  }

  /** The bytes its memory of verified tokens holds now (never more than `rememberBytes`). */
  get rememberedBytes(): number {
    return this.verified.calculatedSize;
  }

  /** The issuers trusted, by name. */
  get issuers(): readonly string[] {
    return [...this.byIssuer.keys()];
  }

  /**
   * The identity a token proves.
   * @throws DynamosError UNAUTHENTICATED naming what was wrong; ADAPTER_UNAVAILABLE when the
   *   issuer's JWKS cannot be fetched.
   */
  async verify(token: string): Promise<Identity> {
    const now = this.opts.clock.now();
    const known = this.verified.get(token);
    if (known !== undefined) {
      if (now >= known.from && now <= known.until) return known.identity;
      this.verified.delete(token);
    }
    const { identity, payload } = await this.verifyAnew(token, now);
    if (token.length <= TokenVerifier.longestRemembered) {
      const tolerance = this.opts.clockToleranceSeconds * 1000;
      const until = Math.min((payload.exp ?? 0) * 1000 + tolerance, now + TokenVerifier.rememberMs);
      const from = payload.nbf === undefined ? now : Math.max(now, payload.nbf * 1000 - tolerance);
      this.verified.set(token, { identity, from, until });
    }
    return identity;
  }

  private async verifyAnew(token: string, now: number): Promise<{ identity: Identity; payload: JWTPayload }> {
    let alg: unknown;
    let claims: JWTPayload;
    try {
      alg = decodeProtectedHeader(token).alg;
      claims = decodeJwt(token);
    } catch {
      throw unauthenticated('the bearer token is not a JWT');
    }
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') throw unauthenticated('unsigned tokens (alg "none") are refused');
    if (typeof claims.iss !== 'string') throw unauthenticated('the token names no issuer (iss)');
    const trusted = this.byIssuer.get(claims.iss);
    if (trusted === undefined) throw unauthenticated(`the token's issuer ${quoted(claims.iss)} is not trusted`);
    const options: JWTVerifyOptions = {
      issuer: trusted.issuer,
      audience: [...(typeof trusted.audience === 'string' ? [trusted.audience] : trusted.audience)],
      algorithms: [...trusted.algorithms],
      clockTolerance: this.opts.clockToleranceSeconds,
      currentDate: new Date(now),
      requiredClaims: ['exp', trusted.userClaim],
    };
    let payload: JWTPayload;
    try {
      payload = await verifyWithAnyKey(token, trusted.keys, options);
    } catch (error) {
      if (error instanceof IssuerKeysUnavailable) this.opts.logger?.warn('the keys of a trusted issuer cannot be fetched', { issuer: trusted.issuer, from: trusted.keySource, error: error.message });
      throw refusal(error, trusted, { alg, exp: claims.exp, toleranceSeconds: this.opts.clockToleranceSeconds });
    }
    return { identity: { name: userOf(payload, trusted.userClaim), roles: rolesOf(payload, trusted.rolesClaim).filter((role) => mayGrant(trusted, role)), via: 'token' }, payload };
  }
}

/** jose leaves a key set with several candidate keys (no `kid`) to the caller: try each. */
async function verifyWithAnyKey(token: string, keys: JWTVerifyGetKey, options: JWTVerifyOptions): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, keys, options)).payload;
  } catch (error) {
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error as unknown as AsyncIterable<KeyInput>) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

function refusal(error: unknown, issuer: TrustedIssuer, token: { alg: unknown; exp: number | undefined; toleranceSeconds: number }): DynamosError {
  const from = `issuer ${quoted(issuer.issuer)}`;
  if (error instanceof IssuerKeysUnavailable) {
    // Where the keys live and why the fetch failed (an internal address, a network error) is for the
    // operator's log; any caller can cause this answer with a token naming the issuer.
    return new DynamosError('ADAPTER_UNAVAILABLE', `the keys of ${from} cannot be fetched now: try again later`, {
      retryable: true,
      cause: new Error(`${issuer.keySource}: ${error.message}`),
    });
  }
  if (error instanceof errors.JWTExpired) {
    const at = token.exp === undefined ? '' : ` at ${new Date(token.exp * 1000).toISOString()}`;
    return unauthenticated(`the token expired${at} (clock tolerance ${token.toleranceSeconds} s): get a new one`);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.reason === 'missing') {
      return unauthenticated(error.claim === 'exp' ? 'the token has no "exp" claim: tokens must expire' : `the token has no "${error.claim}" claim`);
    }
    switch (error.claim) {
      case 'aud':
        return unauthenticated(`the token is meant for another audience: ${from} must name ${[issuer.audience].flat().map(quoted).join(' or ')} in "aud"`);
      case 'nbf':
        return unauthenticated('the token is not valid yet (nbf)');
      case 'iat':
        return unauthenticated('the token was issued in the future (iat)');
      default:
        return unauthenticated(`the token's "${error.claim}" claim is invalid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return unauthenticated(`the token's algorithm ${quoted(token.alg)} is not accepted from ${from} (accepted: ${issuer.algorithms.join(', ')})`);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return unauthenticated(`the token's signature does not verify with the keys of ${from}`);
  if (error instanceof errors.JWKSNoMatchingKey) return unauthenticated(`no key of ${from} matches the token's algorithm and key id`);
  // Malformed parts, unsupported key types, a key that does not fit the algorithm: all "invalid".
  return unauthenticated(`the token is not valid for ${from}`);
}

function userOf(payload: JWTPayload, claim: string): string {
  const name = payload[claim];
  if (typeof name !== 'string' || name.trim() === '' || name.length > longestName) {
    throw unauthenticated(`the token's "${claim}" claim is not a user name (a non-empty string of at most ${longestName} characters)`);
  }
  return name;
}

function mayGrant(issuer: TrustedIssuer, role: string): boolean {
  if (issuer.grantsRoles === undefined) return true;
  return issuer.grantsRoles.some((granted) => (granted.endsWith('*') ? role.startsWith(granted.slice(0, -1)) : role === granted));
}

function rolesOf(payload: JWTPayload, claim: string): string[] {
  const roles = payload[claim];
  if (roles === undefined) return [];
  if (typeof roles === 'string') return roles.split(' ').filter((r) => r !== '');
  if (Array.isArray(roles) && roles.every((r) => typeof r === 'string')) return roles as string[];
  throw unauthenticated(`the token's "${claim}" claim must be an array of strings`);
}

/** A claim value from an unverified token, quoted and cut short: it is the caller's text. */
function quoted(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

/** UNAUTHENTICATED (401): the caller did not prove who they are. */
export function unauthenticated(message: string): DynamosError {
  return new DynamosError('UNAUTHENTICATED', message, { retryable: false });
}
