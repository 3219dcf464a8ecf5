import { TLSSocket } from 'node:tls';
import type { Credentials, PresentedCertificate } from './authenticator.js';

/**
 * The client certificate on the connection of a request served by @hono/node-server (its
 * `incoming` message); undefined over plain HTTP or when the client sent none.
 */
export function presentedCertificate(incoming: unknown): PresentedCertificate | undefined {
  const socket = (incoming as { socket?: unknown } | undefined)?.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cert = socket.getPeerCertificate();
  // Node gives an empty object when the client sent no certificate.
  if (cert === null || typeof cert !== 'object' || Object.keys(cert).length === 0) return undefined;
  const subject = (cert.subject ?? {}) as unknown as Record<string, string | string[] | undefined>;
  const problem = socket.authorizationError;
  return {
    verified: socket.authorized,
    problem: problem === undefined || problem === null ? undefined : String(problem),
    commonNames: valuesOf(subject['CN']),
    organizations: valuesOf(subject['O']),
  };
}

/** What a request served by @hono/node-server carries to prove who sent it. */
export function credentialsOf(c: { req: { header(name: string): string | undefined }; env?: unknown }): Credentials {
  return {
    authorization: c.req.header('authorization'),
    certificate: presentedCertificate((c.env as { incoming?: unknown } | undefined)?.incoming),
  };
}

function valuesOf(value: string | string[] | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
