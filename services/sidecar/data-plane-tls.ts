import type { PeerCertificate } from 'node:tls';
import { ChannelCredentials, ServerCredentials } from '@grpc/grpc-js';
import type { ServerReadableStream } from '@grpc/grpc-js';
import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { describeIdentity, identityOfPeerCertificate, sameIdentity } from '../../knowledge/data-plane-identity.js';

/** A sidecar's credentials: the marketplace CA it trusts, and its own certificate and key (PEM). */
export interface DataPlaneTls {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A server that completes a TLS handshake only with a peer holding a certificate of the
 * marketplace CA: a stranger never reaches a handler. Which party it is is checked per call.
 */
export function serverCredentials(tls: DataPlaneTls): ServerCredentials {
  return ServerCredentials.createSsl(Buffer.from(tls.ca), [{ private_key: Buffer.from(tls.key), cert_chain: Buffer.from(tls.cert) }], true);
}

/**
 * A client that presents its own certificate and talks only to a server whose certificate names
 * `expected`: the address alone proves nothing, since any process on the machine may listen there.
 */
export function clientCredentials(tls: DataPlaneTls, expected: DataPlaneIdentity): ChannelCredentials {
  return ChannelCredentials.createSsl(Buffer.from(tls.ca), Buffer.from(tls.key), Buffer.from(tls.cert), {
    checkServerIdentity: (_host: string, cert: PeerCertificate) => {
      const found = identityOfPeerCertificate(cert.subjectaltname);
      if (found !== undefined && sameIdentity(found, expected)) return undefined;
      return new Error(`the sidecar's certificate names ${found === undefined ? 'no data-plane identity' : describeIdentity(found)}, not ${describeIdentity(expected)}`);
    },
  });
}

/** Who is calling, by the certificate it showed in the handshake. */
export function callerOf(call: Pick<ServerReadableStream<unknown, unknown>, 'getAuthContext'>): DataPlaneIdentity | undefined {
  return identityOfPeerCertificate(call.getAuthContext().sslPeerCertificate?.subjectaltname);
}
