import { DynamosError } from '../../knowledge/errors.js';

/** Who a caller proved to be, and how. */
export interface Identity {
  /** The user name: a token's user claim, or a client certificate's subject CN. */
  readonly name: string;
  /** `admin`, `steward:<Name>`, or others the daemon ignores. */
  readonly roles: readonly string[];
  /** What proved it; `body` only with `auth.trustBodyUserName`. */
  readonly via: 'token' | 'certificate' | 'adminToken' | 'body';
}

/** The role that may do everything the API offers. */
export const adminRole = 'admin';

/** The role of a data steward's own people: `steward:UVA`. */
export function stewardRole(steward: string): string {
  return `steward:${steward}`;
}

export function isAdmin(identity: Identity): boolean {
  return identity.roles.includes(adminRole);
}

/**
 * Reading or changing a steward's agreement: that steward's role, or admin.
 * @throws DynamosError FORBIDDEN
 */
export function requireStewardOrAdmin(identity: Identity, steward: string): void {
  if (isAdmin(identity) || identity.roles.includes(stewardRole(steward))) return;
  throw forbidden(`${describe(identity)} may not access the agreement of ${steward}: it needs the role "${stewardRole(steward)}" or "${adminRole}"`);
}

/** @throws DynamosError FORBIDDEN unless the identity is an admin. */
export function requireAdmin(identity: Identity, what: string): void {
  if (!isAdmin(identity)) throw forbidden(`${describe(identity)} may not ${what}: it needs the role "${adminRole}"`);
}

/**
 * A decision record is read by its requester, a steward it asked, or an admin: it names the
 * requester, the query's shape and every steward's part in the decision.
 * @throws DynamosError FORBIDDEN
 */
export function requireDecisionReader(identity: Identity, record: { readonly requestId: string; readonly requester: string; readonly providers: readonly string[] }): void {
  if (isAdmin(identity) || identity.name === record.requester) return;
  if (record.providers.some((p) => identity.roles.includes(stewardRole(p)))) return;
  throw forbidden(`${describe(identity)} may not read the decision on ${record.requestId}: only its requester, a steward it asked, or an admin may`);
}

function describe(identity: Identity): string {
  return identity.via === 'adminToken' ? 'the admin token' : JSON.stringify(identity.name);
}

function forbidden(message: string): DynamosError {
  return new DynamosError('FORBIDDEN', message, { retryable: false });
}
