import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { calculateJwkThumbprint, SignJWT } from 'jose';
import type { TrustedIssuer } from './api/token-verifier.js';
import { jwkOf, staticKeys } from './api/trusted-issuers.js';
import { DynamosError } from '../knowledge/errors.js';
import { loadOrCreateKeyPair } from './key-pair.js';

/** The `iss` of the local issuer's tokens. */
export const localIssuerName = 'dynamos-local';
/** The `aud` of the local issuer's tokens. */
export const localAudience = 'dynamos';
/** A minted token's lifetime unless asked otherwise: short, so a leaked one is soon useless. */
export const defaultTokenTtlMs = 15 * 60_000;
/** The longest lifetime the local issuer grants. */
export const longestTokenTtlMs = 24 * 3_600_000;
const keyName = 'issuer';

/** What a minted token says. */
export interface TokenRequest {
  readonly user: string;
  /** `admin`, `steward:<Name>`. @default none */
  readonly roles?: readonly string[];
  /** @default {@link defaultTokenTtlMs} */
  readonly ttlMs?: number;
  /** Milliseconds since the epoch: the daemon's clock, so simulated time mints matching tokens. */
  readonly now: number;
}

/**
 * The embedded default's token issuer: an Ed25519 key pair in the keys directory
 * (`<keysDir>/issuer.key.pem`, owner-only). The daemon creates it on first start when no issuer
 * is configured and trusts its tokens (EdDSA, issuer `dynamos-local`, audience `dynamos`);
 * `dynamos token`, `dynamos request` and `dynamos demo` mint with it. Whoever can read the key
 * can mint any identity: protect the keys directory.
 */
export class LocalIssuer {
  private constructor(
    private readonly privateKey: KeyObject,
    readonly publicKey: KeyObject,
    /** Where the private key lives, for messages. */
    readonly privateFile: string,
    /** The key's JWK thumbprint (RFC 7638), sent as `kid`. */
    readonly keyId: string,
  ) {}

  /** The private key's path in a keys directory. */
  static keyFile(keysDir: string): string {
    return path.join(keysDir, `${keyName}.key.pem`);
  }

  /**
   * The daemon's issuer: the key pair in `keysDir`, created on first use.
   * @throws DynamosError CONFIG_INVALID when the key cannot be created or read
   */
  static async open(keysDir: string): Promise<LocalIssuer & { readonly created: boolean }> {
    const pair = loadOrCreateKeyPair(keysDir, keyName);
    const issuer = await LocalIssuer.of(pair.privateKey, pair.privateFile);
    return Object.assign(issuer, { created: pair.created });
  }

  /**
   * A tool's view of the daemon's issuer: reads the key, never creates one.
   * @throws DynamosError CONFIG_INVALID when there is no key or it cannot be read
   */
  static async read(keysDir: string): Promise<LocalIssuer> {
    const file = LocalIssuer.keyFile(keysDir);
    if (!existsSync(file)) {
      throw new DynamosError('CONFIG_INVALID', `no local issuer key at ${file}: start the daemon once (it creates the key), or pass --keys-dir (or --decision-log) as the daemon has it`, { retryable: false });
    }
    let key: KeyObject;
    try {
      key = createPrivateKey(readFileSync(file, 'utf8'));
    } catch (cause) {
      throw new DynamosError('CONFIG_INVALID', `cannot read the local issuer key ${file}: ${(cause as Error).message}`, { retryable: false, cause });
    }
    if (key.asymmetricKeyType !== 'ed25519') throw new DynamosError('CONFIG_INVALID', `${file} is not an Ed25519 key`, { retryable: false });
    return LocalIssuer.of(key, file);
  }

  private static async of(privateKey: KeyObject, privateFile: string): Promise<LocalIssuer> {
    const publicKey = createPublicKey(privateKey);
    return new LocalIssuer(privateKey, publicKey, privateFile, await calculateJwkThumbprint(jwkOf(publicKey)));
  }

  /** The issuer as the daemon trusts it: its public key, EdDSA only, `sub` and `roles`. */
  trusted(): TrustedIssuer {
    return {
      issuer: localIssuerName,
      audience: localAudience,
      algorithms: ['EdDSA'],
      keys: staticKeys([{ ...jwkOf(this.publicKey), kid: this.keyId }]),
      keySource: this.privateFile.replace(/\.key\.pem$/, '.pub.pem'),
      userClaim: 'sub',
      rolesClaim: 'roles',
    };
  }

  /**
   * A signed token for `user`, valid from `now` for `ttlMs`.
   * @throws DynamosError REQUEST_INVALID for an empty user or a lifetime out of range
   */
  async mint(request: TokenRequest): Promise<string> {
    const ttlMs = request.ttlMs ?? defaultTokenTtlMs;
    if (request.user.trim() === '') throw new DynamosError('REQUEST_INVALID', 'a token needs a user name', { retryable: false });
    if (!Number.isFinite(ttlMs) || ttlMs <= 0 || ttlMs > longestTokenTtlMs) {
      throw new DynamosError('REQUEST_INVALID', `a token lives more than 0 and at most ${longestTokenTtlMs / 3_600_000} h`, { retryable: false });
    }
    const issuedAt = Math.floor(request.now / 1000);
    const roles = request.roles ?? [];
    return new SignJWT(roles.length === 0 ? {} : { roles: [...roles] })
      .setProtectedHeader({ alg: 'EdDSA', typ: 'JWT', kid: this.keyId })
      .setIssuer(localIssuerName)
      .setAudience(localAudience)
      .setSubject(request.user)
      .setIssuedAt(issuedAt)
      .setExpirationTime(issuedAt + Math.ceil(ttlMs / 1000))
      .setJti(randomUUID())
      .sign(this.privateKey);
  }
}
