import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { SignedHead } from '../../knowledge/audit/checkpoint.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { agreementOf, replaceAgreement } from '../../knowledge/marketplace/agreements.js';
import type { Authenticator } from './authenticator.js';
import { credentialsOf } from './client-certificate.js';
import { errorResponse } from './error-status.js';
import { requireAdmin, requireDecisionReader, requireStewardOrAdmin } from './identity.js';
import type { Intake } from './request-intake.js';
import { answerRequest } from './request-intake.js';
import type { HttpReply } from './response.js';

export interface ApiDeps {
  readonly intake: Intake;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Bodies above this many bytes get 413. @default 1 MiB */
  readonly bodyLimitBytes: number;
  readonly startedAt: number;
  /** Who is calling (tokens, client certificates, the admin token); see identity.ts for who may do what. */
  readonly authenticator: Authenticator;
  readonly decisions?: { find(requestId: string): Promise<DecisionRecord | undefined> };
  /** The decision log's head, freshly signed, and the public key that verifies it, for auditors. */
  readonly audit?: { signedHead(): SignedHead; readonly publicKeyPem: string };
  readonly metrics?: { readonly contentType: string; text(): Promise<string> };
  /** Jobs running and requests waiting for room, and how job memory is bounded, for /healthz. */
  readonly jobs?: () => Record<string, unknown>;
  /** How the parties' data travels: transport, CA, sites. */
  readonly dataPlane?: () => Record<string, unknown>;
}

/** The daemon's HTTP API: the original's requestApproval, policy and audit, health and metrics. */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  const kb = deps.intake.knowledge;
  const reply = (c: { json: (body: unknown, status: ContentfulStatusCode) => Response }, status: number, body: unknown) => c.json(body, status as ContentfulStatusCode);
  const identify = (c: Parameters<typeof credentialsOf>[0]) => deps.authenticator.identify(credentialsOf(c));
  const limitBody = bodyLimitOf(deps.bodyLimitBytes);

  app.post(
    '/api/v1/requestApproval',
    limitBody,
    async (c) => {
      const outgoing = (c.env as Partial<HttpBindings> | undefined)?.outgoing;
      const sent = outgoing === undefined ? {} : { sent: (reply: HttpReply) => answerSent(outgoing, reply.status) };
      const answer = await answerRequest(deps.intake, await c.req.text(), { credentials: credentialsOf(c), signal: requesterGone(c.req.raw.signal, outgoing), ...sent });
      if (answer.status === 401) c.header('WWW-Authenticate', bearerChallenge);
      const retryAfter = answer.body['code'] === 'OVERLOADED' ? (answer.body['details'] as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds : undefined;
      if (retryAfter !== undefined) c.header('Retry-After', String(retryAfter));
      return reply(c, answer.status, answer.body);
    },
  );

  app.get('/api/v1/agreements/:steward', async (c) => {
    requireStewardOrAdmin(await identify(c), c.req.param('steward'));
    return c.json(agreementOf(kb, c.req.param('steward')));
  });
  app.put('/api/v1/agreements/:steward', limitBody, async (c) => {
    requireStewardOrAdmin(await identify(c), c.req.param('steward'));
    const changed = replaceAgreement(kb, c.req.param('steward'), await jsonBody(c.req), deps.clock.now());
    deps.logger.warn('an agreement changed over the API', { ...changed });
    return c.json(changed);
  });

  app.put('/api/v1/parties/:party/status', limitBody, async (c) => {
    requireAdmin(await identify(c), 'mark parties online or offline');
    const party = c.req.param('party');
    const m = kb.current().marketplace;
    if (!Object.hasOwn(m.dataStewards, party) && !Object.hasOwn(m.computeProviders, party)) {
      throw new DynamosError('NOT_FOUND', `no party "${party}"`, { retryable: false });
    }
    const body = (await jsonBody(c.req)) as { online?: unknown };
    if (typeof body.online !== 'boolean') {
      throw new DynamosError('REQUEST_INVALID', 'online: expected a boolean', { retryable: false, details: { problems: [{ path: 'online', message: 'expected a boolean' }] } });
    }
    kb.apply({ kind: 'partyMarked', party, offline: !body.online, at: deps.clock.now() });
    deps.logger.warn('a party was marked over the API', { party, online: body.online });
    return c.json({ party, online: body.online });
  });

  app.get('/api/v1/decisions/:id', async (c) => {
    const identity = await identify(c);
    const record = await deps.decisions?.find(c.req.param('id'));
    if (record === undefined) throw new DynamosError('NOT_FOUND', `no decision for request "${c.req.param('id')}"`, { retryable: false });
    requireDecisionReader(identity, record);
    return c.json(record);
  });
  // Public, like the log's public key: an auditor needs no account to check the log.
  app.get('/api/v1/audit/head', (c) => c.json(auditOf(deps).signedHead()));
  app.get('/api/v1/audit/key', (c) => c.body(auditOf(deps).publicKeyPem, 200, { 'content-type': 'application/x-pem-file' }));

  app.get('/metrics', async (c) => {
    if (deps.metrics === undefined) throw new DynamosError('NOT_FOUND', 'metrics are off', { retryable: false });
    return c.body(await deps.metrics.text(), 200, { 'content-type': deps.metrics.contentType });
  });

  app.get('/healthz', (c) => {
    const k = kb.current();
    return c.json({
      status: 'ok',
      marketplace: k.marketplace.name,
      policyRevision: k.marketplace.revision,
      uptimeMs: deps.clock.now() - deps.startedAt,
      inFlight: k.inFlight.size,
      monitor: { lastReadAt: k.monitor.lastReadAt ?? null, error: k.monitor.error ?? null },
      auth: deps.authenticator.summary(),
      ...(deps.jobs === undefined ? {} : { jobs: deps.jobs() }),
      ...(deps.dataPlane === undefined ? {} : { dataPlane: deps.dataPlane() }),
    });
  });

  app.notFound((c) => c.json({ code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) deps.logger.error('request failed', { code: body.code, error: error.message, path: c.req.path });
    if (status === 401) c.header('WWW-Authenticate', bearerChallenge);
    return c.json(body, status as ContentfulStatusCode);
  });
  return app;
}

/**
 * Resolves once the answer with `status` was handed whole to the operating system, and rejects
 * when the connection closed first or another answer (an error page) went out instead.
 */
function answerSent(outgoing: HttpBindings['outgoing'], status: number): Promise<void> {
  // Gone already: its 'close' came and went, and waiting for it would never end (nor the record).
  if (connectionGone(outgoing)) return Promise.reject(new Error('the connection closed before the answer was sent'));
  return new Promise((resolve, reject) => {
    outgoing.once('finish', () => (outgoing.statusCode === status ? resolve() : reject(new Error(`a ${outgoing.statusCode} went out instead of the ${status} answer`))));
    outgoing.once('close', () => {
      if (!outgoing.writableFinished) reject(new Error('the connection closed before the answer was sent'));
    });
  });
}

/**
 * Aborts when the requester goes away before its answer: the request's jobs are then cancelled
 * and its record says so. The request's own signal does not abort once its body was read.
 */
function requesterGone(requestSignal: AbortSignal, outgoing: HttpBindings['outgoing'] | undefined): AbortSignal {
  if (outgoing === undefined) return requestSignal;
  const gone = new AbortController();
  const onClose = () => {
    if (!outgoing.writableFinished) gone.abort();
  };
  if (connectionGone(outgoing)) onClose();
  else outgoing.once('close', onClose);
  return AbortSignal.any([requestSignal, gone.signal]);
}

function connectionGone(outgoing: HttpBindings['outgoing']): boolean {
  return !outgoing.writableFinished && (outgoing.destroyed || outgoing.socket === null || outgoing.socket.destroyed);
}

/**
 * 413 REQUEST_TOO_LARGE for a body over `maxBytes`, answered as soon as the limit is known to be
 * passed, without reading the rest. That rest is still on its way, so the connection cannot carry
 * another request: `Connection: close` makes the client send its next one on a fresh connection,
 * and Node's server closes this one once the answer is out. Without it a client's next request on
 * the kept-alive connection met a reset (the server adapter gave up draining the unread body). The
 * alternative, reading the rest of the body to keep the connection, would have the daemon read
 * whatever a client chooses to send.
 */
function bodyLimitOf(maxBytes: number): MiddlewareHandler {
  return bodyLimit({
    maxSize: maxBytes,
    onError: (c) => {
      c.header('Connection', 'close');
      return c.json({ code: 'REQUEST_TOO_LARGE', message: `the body exceeds the ${maxBytes}-byte limit` }, 413);
    },
  });
}

/** RFC 6750's challenge: a bearer token is what the daemon asks for. */
const bearerChallenge = 'Bearer realm="dynamos"';

function auditOf(deps: ApiDeps): NonNullable<ApiDeps['audit']> {
  if (deps.audit === undefined) throw new DynamosError('NOT_FOUND', 'this daemon keeps no decision log', { retryable: false });
  return deps.audit;
}

async function jsonBody(req: { text(): Promise<string> }): Promise<unknown> {
  try {
    return JSON.parse(await req.text());
  } catch (cause) {
    throw new DynamosError('REQUEST_INVALID', `the body is not valid JSON: ${(cause as Error).message}`, { retryable: false });
  }
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** HTTPS for the listener: PEM texts; with `clientCa`, clients may present a certificate signed by it. */
export interface TlsMaterial {
  readonly cert: string;
  readonly key: string;
  readonly clientCa?: string | undefined;
}

export async function startHttpServer(app: Hono, opts: { host: string; port: number; tls?: TlsMaterial | undefined }): Promise<RunningServer> {
  const tls = opts.tls;
  // A client without a certificate may still send a token, so an unverified one is judged per request, not refused in the handshake.
  const https = tls === undefined ? {} : { createServer: createHttpsServer, serverOptions: { cert: tls.cert, key: tls.key, ca: tls.clientCa, requestCert: tls.clientCa !== undefined, rejectUnauthorized: false } };
  const server = createAdaptorServer({ fetch: app.fetch, ...https }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => reject(listenFailure(error, opts)));
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `${tls === undefined ? 'http' : 'https'}://${opts.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Why a listen failed that the settings can fix: the port or host is wrong for this machine. */
const listenReasons: Readonly<Record<string, string>> = {
  EADDRINUSE: 'the port is in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: "the address is not one of this machine's",
  ENOTFOUND: 'no such host',
};

/** A settings problem (host, port) as CONFIG_INVALID in one line; anything else as it came. */
function listenFailure(error: NodeJS.ErrnoException, at: { host: string; port: number }): Error {
  const reason = error.code === undefined ? undefined : listenReasons[error.code];
  if (reason === undefined) return error;
  return new DynamosError('CONFIG_INVALID', `cannot listen on ${at.host}:${at.port}: ${reason}`, { retryable: false, cause: error, details: { host: at.host, port: at.port } });
}
