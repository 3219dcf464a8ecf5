import { createPublicKey } from 'node:crypto';
import type { JsonWebKeyInput, KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors } from 'jose';
import type { JWK, JWTVerifyGetKey } from 'jose';
import { DynamosError } from '../../knowledge/errors.js';
import type { AuthSettings, PublicKeySetting } from './auth-settings.js';
import type { TrustedIssuer } from './token-verifier.js';
import { IssuerKeysUnavailable } from './token-verifier.js';

/** How long a JWKS fetch may take before the request is answered 503. */
const jwksTimeoutMs = 5_000;

/**
 * The configured issuers, ready to verify with: static keys read now (PEM text, PEM files, JWKs),
 * JWKS URLs fetched when a token first needs them.
 * @throws DynamosError CONFIG_INVALID naming the key (`auth.issuers[0].keys[1]`) that cannot be read
 */
export function trustedIssuersOf(auth: AuthSettings): TrustedIssuer[] {
  return auth.issuers.map((s, i) => ({
    issuer: s.issuer,
    audience: s.audience,
    algorithms: s.algorithms,
    keys: s.jwksUrl !== undefined ? remoteKeys(s.jwksUrl) : staticKeys((s.keys ?? []).map((k, j) => publicJwkOf(k, `auth.issuers[${i}].keys[${j}]`))),
    keySource: s.jwksUrl ?? 'static keys',
    userClaim: auth.userClaim,
    rolesClaim: auth.rolesClaim,
    ...(s.grantsRoles === undefined ? {} : { grantsRoles: s.grantsRoles }),
  }));
}

/** A key set over fixed public keys. */
export function staticKeys(keys: readonly JWK[]): JWTVerifyGetKey {
  return createLocalJWKSet({ keys: [...keys] });
}

/** A public key as a JWK, as a key set holds it. */
export function jwkOf(key: KeyObject): JWK {
  return key.export({ format: 'jwk' }) as JWK;
}

function publicJwkOf(key: PublicKeySetting, path: string): JWK {
  if (typeof key !== 'string') {
    try {
      createPublicKey({ key: key as JsonWebKeyInput['key'], format: 'jwk' });
    } catch (cause) {
      throw invalidKey(path, `not a usable public JWK: ${(cause as Error).message}`, cause);
    }
    return key as JWK;
  }
  let pem = key;
  if (!key.includes('-----BEGIN')) {
    try {
      pem = readFileSync(key, 'utf8');
    } catch (cause) {
      throw invalidKey(path, `cannot read ${key}: ${(cause as Error).message}`, cause);
    }
  }
  if (pem.includes('PRIVATE KEY')) throw invalidKey(path, 'holds a private key: give the public half only (SPKI PEM or a certificate)');
  try {
    return jwkOf(createPublicKey(pem));
  } catch (cause) {
    throw invalidKey(path, `not a PEM public key or certificate: ${(cause as Error).message}`, cause);
  }
}

/** An issuer's published key set. A failure to fetch it is told apart from a token that fits no key. */
function remoteKeys(url: string): JWTVerifyGetKey {
  const remote = createRemoteJWKSet(new URL(url), { timeoutDuration: jwksTimeoutMs });
  return async (header, token) => {
    try {
      return await remote(header, token);
    } catch (error) {
      if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys || error instanceof errors.JOSENotSupported) throw error;
      throw new IssuerKeysUnavailable(error instanceof Error ? error.message : String(error));
    }
  };
}

function invalidKey(path: string, message: string, cause?: unknown): DynamosError {
  return new DynamosError('CONFIG_INVALID', `${path}: ${message}`, { retryable: false, cause, details: { problems: [{ path, message }] } });
}
