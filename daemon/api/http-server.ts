import type { Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { SignedHead } from '../../knowledge/audit/checkpoint.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { agreementOf, replaceAgreement } from './agreements.js';
import type { Authenticator } from './authenticator.js';
import { credentialsOf } from './client-certificate.js';
import { errorResponse } from './error-status.js';
import { requireAdmin, requireDecisionReader, requireStewardOrAdmin } from './identity.js';
import type { Intake } from './request-intake.js';
import { answerRequest } from './request-intake.js';

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
}

/** The daemon's HTTP API: the original's requestApproval, policy and audit, health and metrics. */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  const kb = deps.intake.knowledge;
  const reply = (c: { json: (body: unknown, status: ContentfulStatusCode) => Response }, status: number, body: unknown) => c.json(body, status as ContentfulStatusCode);
  const identify = (c: Parameters<typeof credentialsOf>[0]) => deps.authenticator.identify(credentialsOf(c));

  app.post(
    '/api/v1/requestApproval',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => c.json({ code: 'REQUEST_TOO_LARGE', message: `the body exceeds the ${deps.bodyLimitBytes}-byte limit` }, 413),
    }),
    async (c) => {
      const answer = await answerRequest(deps.intake, await c.req.text(), { credentials: credentialsOf(c), signal: c.req.raw.signal });
      if (answer.status === 401) c.header('WWW-Authenticate', bearerChallenge);
      return reply(c, answer.status, answer.body);
    },
  );

  app.get('/api/v1/agreements/:steward', async (c) => {
    requireStewardOrAdmin(await identify(c), c.req.param('steward'));
    return c.json(agreementOf(kb, c.req.param('steward')));
  });
  app.put('/api/v1/agreements/:steward', async (c) => {
    requireStewardOrAdmin(await identify(c), c.req.param('steward'));
    const changed = replaceAgreement(kb, c.req.param('steward'), await jsonBody(c.req), deps.clock.now());
    deps.logger.warn('an agreement changed over the API', { ...changed });
    return c.json(changed);
  });

  app.put('/api/v1/parties/:party/status', async (c) => {
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
    server.once('error', reject);
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
