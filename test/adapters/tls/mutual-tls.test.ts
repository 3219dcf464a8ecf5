import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import tls from 'node:tls';
import { createMarketplaceCa } from '../../../adapters/tls/index.js';
import type { MarketplaceCa, PemPair } from '../../../adapters/tls/index.js';
import { describeIdentity, identityOfPeerCertificate, sameIdentity } from '../../../knowledge/data-plane-identity.js';
import type { DataPlaneIdentity } from '../../../knowledge/data-plane-identity.js';

/** What the server saw of the clients it accepted. */
interface Accepted {
  readonly authorized: boolean;
  readonly identity: DataPlaneIdentity | undefined;
}

/** A TLS server as a sidecar would run it: it asks for a certificate and refuses any it cannot verify. */
async function startServer(own: PemPair, caCert: string): Promise<{ server: tls.Server; port: number; accepted: Accepted[] }> {
  const accepted: Accepted[] = [];
  const server = tls.createServer({ key: own.key, cert: own.cert, ca: [caCert], requestCert: true, rejectUnauthorized: true }, (socket) => {
    accepted.push({ authorized: socket.authorized, identity: identityOfPeerCertificate(socket.getPeerCertificate().subjectaltname) });
    socket.end('hello');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, accepted };
}

/** How a connection ended for the client: what the server said, whom it proved to be, the error. */
interface Outcome {
  readonly said: string;
  readonly server: DataPlaneIdentity | undefined;
  readonly error: NodeJS.ErrnoException | undefined;
}

/** Connects as a sidecar would: trusting the marketplace CA and accepting only the server the plan names. */
async function connect(port: number, caCert: string, expected: DataPlaneIdentity, own?: PemPair): Promise<Outcome> {
  let server: DataPlaneIdentity | undefined;
  let error: NodeJS.ErrnoException | undefined;
  let said = '';
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    ca: [caCert],
    ...(own === undefined ? {} : { key: own.key, cert: own.cert }),
    checkServerIdentity: (_host, cert) => {
      server = identityOfPeerCertificate(cert.subjectaltname);
      return server !== undefined && sameIdentity(server, expected) ? undefined : new Error(`the server is not ${describeIdentity(expected)}`);
    },
  });
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (said += chunk));
  socket.on('error', (e: NodeJS.ErrnoException) => (error = e));
  // Not events.once: it would reject on the error this records.
  await new Promise((resolve) => socket.on('close', resolve));
  return { said, server, error };
}

/**
 * The server refused the client: it accepted no socket and reported a client error, and the client
 * was never served. Over TLS 1.3 the client finishes its side of the handshake before the server
 * judges its certificate, and Node's server then closes without an alert unless the certificate is
 * missing altogether, so the client may see a plain close rather than an error.
 */
async function assertRefusedByServer(running: { server: tls.Server; accepted: Accepted[] }, attempt: () => Promise<Outcome>): Promise<void> {
  const reported = once(running.server, 'tlsClientError');
  const outcome = await attempt();
  await reported;
  assert.equal(outcome.said, '', 'the client was not served');
  assert.deepEqual(running.accepted, []);
}

describe('marketplace CA certificates in Node TLS (mutual)', () => {
  const surf: DataPlaneIdentity = { kind: 'party', party: 'SURF' };
  const uva: DataPlaneIdentity = { kind: 'party', party: 'UVA' };
  let ca: MarketplaceCa;
  let running: { server: tls.Server; port: number; accepted: Accepted[] };

  before(async () => {
    ca = await createMarketplaceCa();
  });
  beforeEach(async () => {
    running = await startServer(await ca.issue(surf), ca.cert);
  });
  afterEach(async () => {
    running.server.close();
    await once(running.server, 'close');
  });

  it('lets two parties of one CA in, each knowing the other from its certificate', async () => {
    const answer = await connect(running.port, ca.cert, surf, await ca.issue(uva));
    assert.equal(answer.error, undefined);
    assert.equal(answer.said, 'hello');
    assert.deepEqual(answer.server, surf);
    assert.deepEqual(running.accepted, [{ authorized: true, identity: uva }]);
  });

  it('lets the result collector in as itself', async () => {
    const answer = await connect(running.port, ca.cert, surf, await ca.issue({ kind: 'collector' }));
    assert.equal(answer.said, 'hello');
    assert.deepEqual(running.accepted, [{ authorized: true, identity: { kind: 'collector' } }]);
  });

  it('refuses a client whose certificate another CA issued', async () => {
    const stranger = await createMarketplaceCa();
    const theirs = await stranger.issue(uva);
    await assertRefusedByServer(running, () => connect(running.port, ca.cert, surf, theirs));
  });

  it('refuses a client without a certificate', async () => {
    let outcome: Outcome | undefined;
    await assertRefusedByServer(running, async () => (outcome = await connect(running.port, ca.cert, surf)));
    assert.ok(outcome?.error, 'a missing certificate is refused during the handshake, with an alert');
  });

  it('refuses a client whose certificate expired', async () => {
    const old = await ca.issue(uva, { now: new Date(Date.now() - 2 * 86_400_000), validityMs: 3_600_000 });
    await assertRefusedByServer(running, () => connect(running.port, ca.cert, surf, old));
  });

  it('leaves the client refusing a server that is not the party the plan names', async () => {
    const outcome = await connect(running.port, ca.cert, { kind: 'party', party: 'VU' }, await ca.issue(uva));
    assert.match(String(outcome.error?.message), /the server is not party VU/);
    assert.deepEqual(outcome.server, surf);
    assert.equal(outcome.said, '');
    assert.deepEqual(running.accepted, []);
  });

  it('leaves the client refusing a server another CA vouches for', async () => {
    const stranger = await createMarketplaceCa();
    const outcome = await connect(running.port, stranger.cert, surf, await stranger.issue(uva));
    assert.ok(outcome.error, 'the client refuses the server');
    assert.equal(outcome.server, undefined, 'an unverified server is never asked who it is');
    assert.equal(outcome.said, '');
    assert.deepEqual(running.accepted, []);
  });
});
