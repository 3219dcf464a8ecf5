import { request } from 'node:https';
import type { IssuedCertificate } from './certificates.js';

/** One HTTPS call that trusts `ca` for the server and presents `client` when given. */
export function httpsCall(
  url: string,
  method: string,
  path: string,
  opts: { ca: string; client?: IssuedCertificate; authorization?: string; body?: unknown },
): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      new URL(path, url),
      {
        method,
        ca: opts.ca,
        ...(opts.client === undefined ? {} : { cert: opts.client.cert, key: opts.client.key }),
        headers: { 'content-type': 'application/json', ...(opts.authorization === undefined ? {} : { authorization: opts.authorization }) },
        agent: false,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) as Record<string, unknown> }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
