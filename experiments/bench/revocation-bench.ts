import { once } from 'node:events';
import path from 'node:path';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

const token = 'bench-admin-token-0123456789';

/**
 * Revocation to a cancelled job: a request runs a long query at UVA; UVA's agreement is replaced
 * over HTTP with one that no longer has a relation for the requester; measured from sending the
 * PUT until the job's process is gone (the runner reports it cancelled). Then the agreement is
 * restored for the next round.
 */
export async function benchRevocation(dataDir: string, marketplaceFile: string, scratch: string, repeats: number): Promise<{ revocationToCancelledMs: Summary; requesterAnswer: string }> {
  const daemon = await startDaemon(
    { port: 0, marketplaceFile, dataDir, decisionLogFile: path.join(scratch, 'revocation-decisions.jsonl'), logLevel: 'silent', adminToken: token, watchConfig: false },
    { logger: silentLogger },
  );
  const call = (method: string, url: string, body: unknown) =>
    fetch(`${daemon.url}${url}`, { method, body: JSON.stringify(body), headers: { authorization: `Bearer ${token}` } });
  const original = (await (await fetch(`${daemon.url}/api/v1/agreements/UVA`, { headers: { authorization: `Bearer ${token}` } })).json()) as { relations: unknown };
  const slow = {
    type: 'sqlDataRequest',
    user: { id: '1', userName: 'analyst@uva.example' },
    dataProviders: ['UVA'],
    data_request: { type: 'sqlDataRequest', query: 'WITH t(x) AS (VALUES (1),(2),(3),(4),(5),(6),(7),(8),(9),(10)) SELECT Personen.* FROM Personen, t a, t b, t c, t d, t e, t f, t g, t h, t i, t j, t k', algorithm: 'count', options: {}, requestMetadata: {} },
  };
  const samples: number[] = [];
  let requesterAnswer = '';
  try {
    for (let i = 0; i < repeats; i++) {
      await daemon.runner.whenWarm();
      const assigned = once(daemon.runner.events, 'jobAssigned');
      const answer = fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(slow), headers: { authorization: `Bearer ${await daemon.mintToken(slow.user.userName)}` } });
      await assigned;
      const cancelled = new Promise<number>((resolve) => daemon.runner.events.once('jobEnded', () => resolve(performance.now())));
      const sent = performance.now();
      await call('PUT', '/api/v1/agreements/UVA', { relations: {} });
      samples.push((await cancelled) - sent);
      const reply = (await (await answer).json()) as { code: string; message: string };
      requesterAnswer = `${reply.code}: ${reply.message}`;
      await call('PUT', '/api/v1/agreements/UVA', { relations: original.relations });
    }
  } finally {
    await daemon.close();
  }
  return { revocationToCancelledMs: summarize(samples), requesterAnswer };
}
