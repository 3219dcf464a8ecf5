import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the front does with one query: forward it, answer it, or never answer. */
export type FrontAnswer = { readonly status: number; readonly body: unknown } | 'forward' | 'hang';

export interface FrontOptions {
  /** Prometheus to forward to; without it every query must be answered by `answer`. */
  readonly upstream?: string;
  /** @default forward everything */
  readonly answer?: (query: string, req: http.IncomingMessage) => FrontAnswer;
}

/**
 * An HTTP server in front of Prometheus's API for the tests: it forwards queries to a real
 * Prometheus, or answers them itself, and can hold chosen queries forever (a Prometheus that
 * never answers) or stop listening altogether (`down`) and come back on the same port (`up`).
 * `seen` holds every query it received, with its headers.
 */
export class PrometheusFront {
  readonly seen: { query: string; headers: http.IncomingHttpHeaders }[] = [];
  private readonly server: http.Server;
  private port = 0;

  private constructor(private readonly opts: FrontOptions) {
    this.server = http.createServer((req, res) => void this.handle(req, res));
  }

  static async start(opts: FrontOptions = {}): Promise<PrometheusFront> {
    const front = new PrometheusFront(opts);
    await front.up();
    return front;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Listens again, on the same port as before. */
  async up(): Promise<void> {
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening and drops every connection: clients get ECONNREFUSED. */
  async down(): Promise<void> {
    if (!this.server.listening) return;
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  close(): Promise<void> {
    return this.down();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://front');
    const query = new URLSearchParams(body.toString('utf8')).get('query') ?? url.searchParams.get('query') ?? '';
    this.seen.push({ query, headers: req.headers });
    const answer = this.opts.answer?.(query, req) ?? 'forward';
    if (answer === 'hang') return; // closeAllConnections ends it
    if (answer !== 'forward') {
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
      return;
    }
    if (this.opts.upstream === undefined) {
      res.writeHead(502).end('no upstream');
      return;
    }
    try {
      const upstream = await fetch(new URL(`${url.pathname}${url.search}`, this.opts.upstream), {
        method: req.method ?? 'GET',
        headers: { 'content-type': req.headers['content-type'] ?? 'application/x-www-form-urlencoded' },
        ...(req.method === 'POST' ? { body } : {}),
      });
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' }).end(await upstream.text());
    } catch (error) {
      res.writeHead(502).end(String(error));
    }
  }
}

/** A Prometheus instant-vector answer, as `/api/v1/query` writes it. */
export function vectorAnswer(series: readonly { labels: Record<string, string>; value: number | string; atSeconds: number }[]): FrontAnswer {
  return {
    status: 200,
    body: {
      status: 'success',
      data: { resultType: 'vector', result: series.map((s) => ({ metric: s.labels, value: [s.atSeconds, String(s.value)] })) },
    },
  };
}
