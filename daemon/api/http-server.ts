import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DynamosError } from '../../knowledge/errors.js';
import type { QueryInspector } from '../../knowledge/ports/query-inspector.js';
import type { RequestPipeline } from '../loop/handle-request.js';
import { handleRequest } from '../loop/handle-request.js';
import { errorResponse } from './error-status.js';
import { parseRequestBody } from './request-body.js';
import { replyTo } from './response.js';

export interface ApiDeps {
  readonly pipeline: RequestPipeline;
  readonly inspector: QueryInspector;
  /** Bodies above this many bytes get 413. @default 1 MiB */
  readonly bodyLimitBytes: number;
  readonly startedAt: number;
}

/** The daemon's HTTP API: the original's requestApproval, plus health. */
export function createApi(deps: ApiDeps): Hono {
  const app = new Hono();
  const log = deps.pipeline.logger;

  app.post(
    '/api/v1/requestApproval',
    bodyLimit({
      maxSize: deps.bodyLimitBytes,
      onError: (c) => c.json({ code: 'REQUEST_TOO_LARGE', message: `the body exceeds the ${deps.bodyLimitBytes}-byte limit` }, 413),
    }),
    async (c) => {
      let body: unknown;
      try {
        body = JSON.parse(await c.req.text());
      } catch (cause) {
        throw new DynamosError('REQUEST_INVALID', `the body is not valid JSON: ${(cause as Error).message}`, { retryable: false });
      }
      const request = await parseRequestBody(body, deps.pipeline.knowledge().marketplace, deps.inspector);
      const outcome = await handleRequest(deps.pipeline, request, c.req.raw.signal);
      const reply = replyTo(outcome);
      return c.json(reply.body, reply.status as ContentfulStatusCode);
    },
  );

  app.get('/healthz', (c) => {
    const { marketplace } = deps.pipeline.knowledge();
    return c.json({ status: 'ok', marketplace: marketplace.name, policyRevision: marketplace.revision, uptimeMs: Date.now() - deps.startedAt });
  });

  app.notFound((c) => c.json({ code: 'NOT_FOUND', message: `no route for ${c.req.method} ${c.req.path}` }, 404));
  app.onError((error, c) => {
    const { status, body } = errorResponse(error);
    if (status >= 500) log.error('request failed', { code: body.code, error: error.message, path: c.req.path });
    return c.json(body, status as ContentfulStatusCode);
  });
  return app;
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
