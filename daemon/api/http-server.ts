import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { agreementOf, replaceAgreement, requireToken } from './agreements.js';
import { errorResponse } from './error-status.js';
import type { Intake } from './request-intake.js';
import { answerRequest } from './request-intake.js';

export interface ApiDeps {
  readonly intake: Intake;
  readonly logger: Logger;
  readonly clock: Clock;
  /** Bodies above this many bytes get 413. @default 1 MiB */
  readonly bodyLimitBytes: number;
  readonly startedAt: number;
  /** Enables PUT on agreements and party status; without it they answer 403. */
  readonly adminToken?: string;
  readonly decisions?: { find(requestId: string): Promise<DecisionRecord | undefined>; head(): { seq: number; hash: string } };
  readonly metrics?: { readonly contentType: string; text(): Promise<string> };
}

/** The daemon's HTTP API: the original's requestApproval, policy and audit, health and metrics. */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  const kb = deps.intake.knowledge;
  const reply = (c: { json: (body: unknown, status: ContentfulStatusCode) => Response }, status: number, body: unknown) => c.json(body, status as ContentfulStatusCode);

  app.post(
    '/api/v1/requestApproval',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => c.json({ code: 'REQUEST_TOO_LARGE', message: `the body exceeds the ${deps.bodyLimitBytes}-byte limit` }, 413),
    }),
    async (c) => {
      const answer = await answerRequest(deps.intake, await c.req.text(), c.req.raw.signal);
      return reply(c, answer.status, answer.body);
    },
  );

  app.get('/api/v1/agreements/:steward', (c) => c.json(agreementOf(kb, c.req.param('steward'))));
  app.put('/api/v1/agreements/:steward', async (c) => {
    requireToken(deps.adminToken, c.req.header('authorization'));
    const changed = replaceAgreement(kb, c.req.param('steward'), await jsonBody(c.req), deps.clock.now());
    deps.logger.warn('an agreement changed over the API', { ...changed });
    return c.json(changed);
  });

  app.put('/api/v1/parties/:party/status', async (c) => {
    requireToken(deps.adminToken, c.req.header('authorization'));
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
    const record = await deps.decisions?.find(c.req.param('id'));
    if (record === undefined) throw new DynamosError('NOT_FOUND', `no decision for request "${c.req.param('id')}"`, { retryable: false });
    return c.json(record);
  });
  app.get('/api/v1/audit/head', (c) => {
    if (deps.decisions === undefined) throw new DynamosError('NOT_FOUND', 'this daemon keeps no decision log', { retryable: false });
    return c.json(deps.decisions.head());
  });

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
    });
  });

  app.notFound((c) => c.json({ code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) deps.logger.error('request failed', { code: body.code, error: error.message, path: c.req.path });
    return c.json(body, status as ContentfulStatusCode);
  });
  return app;
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

export async function startHttpServer(app: Hono, opts: { host: string; port: number }): Promise<RunningServer> {
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${opts.host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
