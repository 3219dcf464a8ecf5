import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:https';
import { createServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { Status } from './api-errors.js';
import { ApiError, badRequest, failure, methodNotAllowed, reasonForCode, unauthorized } from './api-errors.js';
import type { ApiRoute } from './api-routes.js';
import { resolveRoute } from './api-routes.js';
import type { ClusterApi } from './cluster-api.js';
import { toApiError } from './cluster-api.js';
import { discoveryDocument } from './discovery.js';
import type { FaultState, RequestFault } from './faults.js';
import type { Kubelet } from './kubelet.js';
import { listObjects } from './list-pages.js';
import type { DeleteOptions } from './object-deletion.js';
import { servePodLog } from './pod-logs.js';
import type { ServingCertificate } from './serving-certificate.js';
import type { OpenWatch } from './watch-stream.js';
import { serveWatch } from './watch-stream.js';

export interface ApiServerDeps {
  readonly api: ClusterApi;
  readonly kubelet: Kubelet;
  readonly faults: FaultState;
  readonly token: string;
  readonly bookmarkIntervalMs: number;
  readonly certificate: ServingCertificate;
  readonly logger: Logger;
}

/**
 * The HTTPS front of the fake: bearer-token authentication, injected faults, then the REST verbs
 * on the routes of api-routes.ts. Every error is a Status object.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/
 */
export class ApiServer {
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(deps: ApiServerDeps): Promise<ApiServer> {
    const server = createServer({ cert: deps.certificate.cert, key: deps.certificate.key });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const apiServer = new ApiServer(server, `https://127.0.0.1:${port}`);
    server.on('secureConnection', (socket: Socket) => {
      apiServer.sockets.add(socket);
      socket.once('close', () => apiServer.sockets.delete(socket));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      apiServer.handle(deps, req, res).catch((error: unknown) => apiServer.reply(res, toApiError(error)));
    });
    return apiServer;
  }

  /** Breaks every open watch connection; returns how many there were. */
  dropWatches(): number {
    const open = [...this.watches];
    for (const watch of open) watch.drop();
    this.watches.clear();
    return open.length;
  }

  /** Ends every watch and connection and stops listening. Idempotent. */
  async close(): Promise<void> {
    for (const watch of this.watches) watch.end();
    this.watches.clear();
    for (const socket of this.sockets) socket.destroy();
    if (this.server.listening) await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(deps: ApiServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    if (req.headers.authorization !== `Bearer ${deps.token}`) throw unauthorized();
    if (['/version', '/healthz', '/livez', '/readyz'].includes(url.pathname)) {
      this.reply(res, url.pathname === '/version' ? { major: '1', minor: '31', gitVersion: 'v1.31.0-fake', platform: `${process.platform}/${process.arch}` } : 'ok');
      return;
    }
    const discovery = method === 'GET' ? discoveryDocument(url.pathname) : undefined;
    if (discovery !== undefined) return this.reply(res, discovery);
    const route = resolveRoute(url.pathname);
    const fault = deps.faults.takeRequestFault(method, url.pathname);
    if (fault !== undefined) throw faultError(fault, route, method);
    const query = url.searchParams;
    const dryRun = query.getAll('dryRun').includes('All');
    const { api } = deps;
    const { info, namespace, name, subresource } = route;
    const body = ['POST', 'PUT', 'PATCH', 'DELETE'].includes(method) ? await readJson(req) : undefined;
    if (name === undefined) {
      if (method === 'GET' && ['true', '1'].includes(query.get('watch') ?? '')) {
        const watch = serveWatch(req, res, api.store, { info, namespace, query }, deps.bookmarkIntervalMs);
        this.watches.add(watch);
        res.once('close', () => this.watches.delete(watch));
        return;
      }
      if (method === 'GET') return this.reply(res, listObjects(api.store, info, namespace, Object.fromEntries(query)));
      if (method === 'POST') return this.reply(res, api.create(info.plural, namespace, body, { dryRun }), 201);
      if (method === 'DELETE') {
        const list = listObjects(api.store, info, namespace, Object.fromEntries(query));
        for (const item of list.items) api.delete(info.plural, item.metadata.namespace, item.metadata.name ?? '', deleteOptions(query, body, dryRun));
        return this.reply(res, list);
      }
      throw methodNotAllowed(`the server does not allow this method on the requested resource`);
    }
    if (subresource === 'log') {
      if (method !== 'GET') throw methodNotAllowed('the server does not allow this method on the requested resource');
      servePodLog(res, api, deps.kubelet, namespace ?? '', name, query);
      return;
    }
    const write = { dryRun, ...(subresource === 'status' ? { subresource } : {}) };
    switch (method) {
      case 'GET':
        return this.reply(res, api.get(info.plural, namespace, name));
      case 'PUT':
        return this.reply(res, api.update(info.plural, namespace, name, body, write));
      case 'PATCH':
        return this.reply(res, api.patch(info.plural, namespace, name, req.headers['content-type'] ?? '', body, write));
      case 'DELETE': {
        if (subresource !== undefined) throw methodNotAllowed('the server does not allow this method on the requested resource');
        const { code, body: answer } = api.delete(info.plural, namespace, name, deleteOptions(query, body, dryRun));
        return this.reply(res, answer, code);
      }
      default:
        throw methodNotAllowed('the server does not allow this method on the requested resource');
    }
  }

  private reply(res: ServerResponse, body: unknown, code = 200): void {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (body instanceof ApiError) {
      res.writeHead(body.code, { 'Content-Type': 'application/json', ...body.headers });
      res.end(JSON.stringify(body.status));
      return;
    }
    res.writeHead(code, { 'Content-Type': typeof body === 'string' ? 'text/plain' : 'application/json' });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }
}

/** DeleteOptions from the query string, overridden by a DeleteOptions body (client-node sends the body when given one). */
function deleteOptions(query: URLSearchParams, body: unknown, dryRun: boolean): DeleteOptions {
  const fromBody = (body ?? {}) as { propagationPolicy?: string; orphanDependents?: boolean; gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: string[] };
  const grace = query.get('gracePeriodSeconds');
  const orphan = query.get('orphanDependents');
  return {
    propagationPolicy: fromBody.propagationPolicy ?? query.get('propagationPolicy') ?? undefined,
    orphanDependents: fromBody.orphanDependents ?? (orphan === null ? undefined : orphan === 'true'),
    gracePeriodSeconds: fromBody.gracePeriodSeconds ?? (grace === null ? undefined : Number(grace)),
    preconditions: fromBody.preconditions,
    dryRun: dryRun || (fromBody.dryRun ?? []).includes('All'),
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded: ${(error as Error).message}`);
  }
}

/** The Status a real apiserver gives for the injected code, with Retry-After where it sends one. */
function faultError(fault: RequestFault, route: ApiRoute, method: string): ApiError {
  const retryAfter = fault.retryAfterSeconds ?? 1;
  const resource = route.info.group === '' ? route.info.plural : `${route.info.plural}.${route.info.group}`;
  const messages: Record<RequestFault['code'], string> = {
    403: `${resource}${route.name === undefined ? '' : ` "${route.name}"`} is forbidden: User "fake-cluster-user" cannot ${verbOf(method, route)} resource "${route.info.plural}" in API group "${route.info.group}"${route.namespace === undefined ? ' at the cluster scope' : ` in the namespace "${route.namespace}"`}`,
    429: 'Too many requests, please try again later.',
    500: 'Internal error occurred: the fake cluster was told to fail this request',
    503: 'the server is currently unable to handle the request',
    504: 'Timeout: request did not complete within the allowed duration',
  };
  const retries = fault.code === 429 || fault.code === 503;
  const details = fault.code === 403 ? { group: route.info.group, kind: route.info.plural, ...(route.name === undefined ? {} : { name: route.name }) } : retries ? { retryAfterSeconds: retryAfter } : undefined;
  const status: Status = failure(fault.code, reasonForCode(fault.code), messages[fault.code], details);
  return new ApiError(status, retries ? { 'Retry-After': String(retryAfter) } : {});
}

function verbOf(method: string, route: ApiRoute): string {
  if (method === 'GET') return route.name === undefined ? 'list' : 'get';
  const verbs: Record<string, string> = { POST: 'create', PUT: 'update', PATCH: 'patch', DELETE: route.name === undefined ? 'deletecollection' : 'delete' };
  return verbs[method] ?? method.toLowerCase();
}
