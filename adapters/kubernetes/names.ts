import { createHash } from 'node:crypto';
import type { SiteSettings } from '../../knowledge/site-settings.js';

/** Labels on everything the runner creates (docs/designs/013-cluster-mode.md). */
export const labels = {
  name: 'app.kubernetes.io/name',
  component: 'app.kubernetes.io/component',
  managedBy: 'app.kubernetes.io/managed-by',
  daemon: 'dynamos.io/daemon',
  request: 'dynamos.io/request',
  party: 'dynamos.io/party',
} as const;

/** The party's name verbatim; a label value cannot hold every name a marketplace may use. */
export const partyNameAnnotation = 'dynamos.io/party-name';

/** A DNS-1123 label made of `text`: lower case, `-` for anything else, trimmed to `max`. */
export function dnsLabelOf(text: string, max = 63): string {
  const label = text.toLowerCase().replace(/[^a-z0-9-]+/g, '-').slice(0, max).replace(/^-+|-+$/g, '');
  return label === '' ? 'x' : label;
}

/** A label value (63 characters of `[A-Za-z0-9._-]`, alphanumeric at both ends) naming `text`. */
export function labelValueOf(text: string): string {
  const value = text.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
  if (value.length <= 63 && value !== '') return value;
  // Too long or empty: keep a readable head and make it unique with a digest.
  return `${value.slice(0, 50).replace(/[^A-Za-z0-9]+$/, '')}-${digestOf(text, 12)}`;
}

/** The Job (and its Secret) of `party`'s part of request `requestId`: one name per pair, so a retry collides. */
export function jobNameOf(requestId: string, party: string): string {
  return `dyn-${dnsLabelOf(party, 40)}-${digestOf(`${requestId}\n${party}`, 12)}`;
}

/** The namespace of a party's jobs: its site's, else its name as a DNS label. */
export function namespaceOf(party: string, site: SiteSettings | undefined): string {
  return site?.kubernetes?.namespace ?? dnsLabelOf(party);
}

function digestOf(text: string, hexDigits: number): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexDigits);
}
