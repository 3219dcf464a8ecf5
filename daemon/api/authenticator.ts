import { timingSafeEqual } from 'node:crypto';
import { DynamosError } from '../../knowledge/errors.js';
import { formatPath } from '../../knowledge/problems.js';
import type { Identity } from './identity.js';
import { adminRole } from './identity.js';
import type { TokenVerifier } from './token-verifier.js';
import { unauthenticated } from './token-verifier.js';

/** A client certificate as the TLS listener saw it. */
export interface PresentedCertificate {
  /** Whether it chains to the configured client CA and is within its validity. */
  readonly verified: boolean;
  /** Why TLS did not verify it, e.g. `CERT_HAS_EXPIRED`. */
  readonly problem?: string | undefined;
  /** The subject's CN values (normally one). */
  readonly commonNames: readonly string[];
  /** The subject's O values: the roles, as Kubernetes reads client certificates. */
  readonly organizations: readonly string[];
}

/** What a caller sent to prove who they are, whatever carried the request. */
export interface Credentials {
  /** The `Authorization` header (HTTP) or the AMQP `authorization` header: `Bearer <token>`. */
  readonly authorization?: string | undefined;
  readonly certificate?: PresentedCertificate | undefined;
}

export interface AuthenticatorOptions {
  readonly verifier: TokenVerifier;
  /** The static admin token (`adminToken`, DYNAMOS_ADMIN_TOKEN): an admin credential. */
  readonly adminToken?: string | undefined;
  /** The original's trust in the body's user name, for experiments. @default false */
  readonly trustBodyUserName?: boolean;
  /** Whether a client certificate can be presented at all (HTTPS with a client CA). */
  readonly clientCertificates?: boolean;
  /** Told to callers who sent nothing, e.g. how to get a token on this machine. */
  readonly hint?: string;
}

const userNamePath = formatPath(['user', 'userName']);

/**
 * Turns credentials into an identity: a bearer token (checked by the {@link TokenVerifier}, or the
 * static admin token), else a verified client certificate. A bearer token wins over a certificate,
 * and a bad token is refused even when a good certificate came with it: a mistake should show.
 */
export class Authenticator {
  constructor(private readonly opts: AuthenticatorOptions) {}

  /** What `/healthz` says about how callers are identified. */
  summary() {
    return {
      trustBodyUserName: this.opts.trustBodyUserName ?? false,
      issuers: this.opts.verifier.issuers,
      clientCertificates: this.opts.clientCertificates ?? false,
    };
  }

  /**
   * @throws DynamosError UNAUTHENTICATED when nothing valid was presented (the message says what
   *   was wrong, never the token); ADAPTER_UNAVAILABLE when an issuer's keys cannot be fetched.
   */
  async identify(credentials: Credentials): Promise<Identity> {
    const token = bearerOf(credentials.authorization);
    if (token !== undefined) {
      if (this.isAdminToken(token)) return { name: adminRole, roles: [adminRole], via: 'adminToken' };
      return this.opts.verifier.verify(token);
    }
    const cert = credentials.certificate;
    if (cert !== undefined) {
      if (!cert.verified) throw unauthenticated(`the client certificate is not trusted (${cert.problem ?? 'not verified'})`);
      const [name, ...others] = cert.commonNames;
      if (name === undefined || name.trim() === '' || others.length > 0) throw unauthenticated('the client certificate must name exactly one user in its subject CN');
      return { name, roles: cert.organizations, via: 'certificate' };
    }
    throw unauthenticated(`no credential: send "Authorization: Bearer <token>"${this.opts.hint === undefined ? '' : ` (${this.opts.hint})`}`);
  }

  /**
   * The requester of a requestApproval. Undefined only with `trustBodyUserName` and no credential
   * at all: then the body's user name is believed, as in the original.
   * @throws DynamosError UNAUTHENTICATED, or FORBIDDEN for the admin token, which names no requester
   */
  async requester(credentials: Credentials): Promise<Identity | undefined> {
    if ((this.opts.trustBodyUserName ?? false) && credentials.authorization === undefined && credentials.certificate === undefined) return undefined;
    const identity = await this.identify(credentials);
    if (identity.via === 'adminToken') {
      throw new DynamosError('FORBIDDEN', 'the admin token names no requester: send the requester\'s own token', { retryable: false });
    }
    return identity;
  }

  private isAdminToken(token: string): boolean {
    if (this.opts.adminToken === undefined) return false;
    const given = Buffer.from(token);
    const wanted = Buffer.from(this.opts.adminToken);
    return given.length === wanted.length && timingSafeEqual(given, wanted);
  }
}

/**
 * The body's `user.userName`, kept for compatibility, must name the verified requester.
 * @throws DynamosError FORBIDDEN naming both names and the field
 */
export function checkBodyUserName(identity: Identity, body: unknown): void {
  const user = (body as { user?: { userName?: unknown } } | null)?.user;
  const named = typeof user === 'object' && user !== null ? user.userName : undefined;
  if (typeof named !== 'string' || named === identity.name) return;
  const shown = named.length > 120 ? `${named.slice(0, 117)}…` : named;
  const message = `${JSON.stringify(shown)} is not the verified requester ${JSON.stringify(identity.name)}`;
  throw new DynamosError('FORBIDDEN', `${userNamePath}: ${message}`, { retryable: false, details: { problems: [{ path: userNamePath, message }] } });
}

/** The token of an `Authorization` value; undefined when there is none. */
function bearerOf(authorization: string | undefined): string | undefined {
  if (authorization === undefined || authorization.trim() === '') return undefined;
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(authorization);
  if (match === null) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  return match[1];
}
