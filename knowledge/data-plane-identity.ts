import { DynamosError } from './errors.js';

/**
 * Who is at the other end of a data-plane stream: a party of the marketplace, or the daemon's
 * result collector, which receives the results meant for the requester.
 */
export type DataPlaneIdentity = { readonly kind: 'party'; readonly party: string } | { readonly kind: 'collector' };

/** The SPIFFE-style trust domain every data-plane certificate names itself in. */
const trustDomain = 'spiffe://dynamos';
const partyPrefix = `${trustDomain}/party/`;
const collectorUri = `${trustDomain}/collector`;

/**
 * The URI subject alternative name that carries `identity` in a certificate.
 *
 * @throws DynamosError CONFIG_INVALID for a party name that cannot be spelled in a URI (empty, or
 *   holding a lone UTF-16 surrogate).
 */
export function identityUri(identity: DataPlaneIdentity): string {
  if (identity.kind === 'collector') return collectorUri;
  if (identity.party === '') throw new DynamosError('CONFIG_INVALID', 'a data-plane identity needs a party name; it is empty', { retryable: false });
  try {
    return partyPrefix + encodeURIComponent(identity.party);
  } catch (cause) {
    throw new DynamosError('CONFIG_INVALID', `the party name ${JSON.stringify(identity.party)} cannot be put in a certificate: ${(cause as Error).message}`, { retryable: false, cause });
  }
}

/**
 * The identity a URI names, or undefined for anything but the exact spelling `identityUri` makes.
 * Only that one spelling is accepted (no lower-case `%2f`, no unescaped characters), so two
 * certificates can never name the same party in different ways.
 */
export function identityFromUri(uri: string): DataPlaneIdentity | undefined {
  if (uri === collectorUri) return { kind: 'collector' };
  if (!uri.startsWith(partyPrefix)) return undefined;
  const encoded = uri.slice(partyPrefix.length);
  if (encoded === '') return undefined;
  let party: string;
  try {
    party = decodeURIComponent(encoded);
  } catch {
    return undefined;
  }
  return encodeURIComponent(party) === encoded ? { kind: 'party', party } : undefined;
}

/** For messages: `party SURF`, `the result collector`. */
export function describeIdentity(identity: DataPlaneIdentity): string {
  return identity.kind === 'collector' ? 'the result collector' : `party ${identity.party}`;
}

export function sameIdentity(a: DataPlaneIdentity, b: DataPlaneIdentity): boolean {
  if (a.kind === 'collector' || b.kind === 'collector') return a.kind === b.kind;
  return a.party === b.party;
}

/**
 * The identity a peer's certificate proves, from Node's `tls.PeerCertificate.subjectaltname`
 * (`DNS:foo, URI:spiffe://dynamos/party/SURF, IP Address:127.0.0.1`). Undefined, so the peer is
 * refused, when the certificate names no identity of ours, names two different ones, names one in
 * our trust domain that is not spelled exactly as ours are, or when the text cannot be read.
 */
export function identityOfPeerCertificate(subjectaltname: string | undefined): DataPlaneIdentity | undefined {
  if (subjectaltname === undefined || subjectaltname === '') return undefined;
  const entries = altNameEntries(subjectaltname);
  if (entries === undefined) return undefined;
  let found: DataPlaneIdentity | undefined;
  for (const { type, value } of entries) {
    if (type !== 'URI' || !inTrustDomain(value)) continue;
    const identity = identityFromUri(value);
    if (identity === undefined) return undefined;
    if (found !== undefined && !sameIdentity(found, identity)) return undefined;
    found = identity;
  }
  return found;
}

/** Whether a URI claims a name in our trust domain, however it is cased or followed. */
function inTrustDomain(uri: string): boolean {
  return /^spiffe:\/\/dynamos(?:[/?#:]|$)/i.test(uri);
}

/**
 * Splits Node's subjectaltname text into its entries, undefined when it is malformed. Node joins
 * entries with `, ` and, since the fix for CVE-2021-44532, writes any value holding a comma, a
 * quote, a backslash or a non-ASCII character as a JSON string (`URI:"spiffe://x/a\u002cb"`). So an
 * unquoted value never holds `, `, and a quoted one is read to its closing quote, not split.
 */
function altNameEntries(text: string): { type: string; value: string }[] | undefined {
  const entries: { type: string; value: string }[] = [];
  let at = 0;
  for (;;) {
    const colon = text.indexOf(':', at);
    if (colon < 0) return undefined;
    const type = text.slice(at, colon);
    let value: string;
    let end: number;
    if (text[colon + 1] === '"') {
      end = colon + 2;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      if (end >= text.length) return undefined;
      end += 1;
      try {
        value = JSON.parse(text.slice(colon + 1, end)) as string;
      } catch {
        return undefined;
      }
    } else {
      const comma = text.indexOf(', ', colon + 1);
      end = comma < 0 ? text.length : comma;
      value = text.slice(colon + 1, end);
    }
    entries.push({ type, value });
    if (end === text.length) return entries;
    if (!text.startsWith(', ', end)) return undefined;
    at = end + 2;
  }
}
