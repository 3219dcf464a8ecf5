import { generateKeyPairSync } from 'node:crypto';
import path from 'node:path';
import { fakeReport } from '../../adapters/fake/fake-job-runner.js';
import { createDuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import { Authenticator } from '../../daemon/api/authenticator.js';
import { answerRequest } from '../../daemon/api/request-intake.js';
import { TokenVerifier } from '../../daemon/api/token-verifier.js';
import { LocalIssuer } from '../../daemon/local-issuer.js';
import { RequestLoop } from '../../daemon/loop/request-loop.js';
import { createUtilityStrategy } from '../../daemon/mape/strategies/utility-strategy.js';
import { DaemonMetrics } from '../../daemon/telemetry/daemon-metrics.js';
import { auditSigner } from '../../knowledge/audit/checkpoint.js';
import { FileDecisionLog } from '../../knowledge/audit/log-file.js';
import { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { JobRunner } from '../../knowledge/ports/job-runner.js';
import { systemClock } from '../../knowledge/ports/clock.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

/**
 * Everything a request costs but its jobs: verifying the requester's token, parsing and checking
 * the body (DuckDB's parser for the SQL), the request machine's phases with the utility strategy on fresh metrics and learned
 * outcomes, writing the hash-chained decision record to disk, metrics, and the reply. The jobs
 * end at once.
 */
export async function benchLoopOverhead(marketplace: Marketplace, scratch: string, iterations: number): Promise<Summary> {
  const clock = systemClock;
  const knowledge = new KnowledgeBase(knowledgeOf(marketplace, clock.now()));
  const now = clock.now();
  const parties = ['VU', 'UVA', 'RUG', 'SURF', 'otherCompany'];
  knowledge.apply({
    kind: 'metricsRead',
    reading: { at: now, samples: parties.flatMap((party) => [{ party, signal: 'cpu' as const, value: 0.3, at: now }, { party, signal: 'memory' as const, value: 0.4, at: now }]), failures: [] },
  });
  knowledge.apply({ kind: 'dataSizesKnown', bytes: { 'VU/wageGap': 25e6, 'UVA/wageGap': 25e6 } });
  // Jobs that end at once and keep nothing (the test fake keeps every job for its assertions).
  const runner: JobRunner = {
    run: (d) => Promise.resolve({ results: [], jobs: d.jobs.map((j) => fakeReport(j, 'succeeded', { cpuSeconds: 0.2 })) }),
    close: () => Promise.resolve(),
  };
  const log = await FileDecisionLog.open(path.join(scratch, 'overhead-decisions.jsonl'), { signer: auditSigner(generateKeyPairSync('ed25519').privateKey) });
  const requests = new RequestLoop({
    knowledge,
    strategy: () => createUtilityStrategy(),
    runner,
    clock,
    logger: silentLogger,
    deadlineMs: 600_000,
    energyOf: (r) => r.cpuSeconds * 2.76,
    decisionLog: log,
    metrics: new DaemonMetrics({ defaultMetrics: false }),
  });
  const inspector = await createDuckDBQueryInspector();
  const issuer = await LocalIssuer.open(path.join(scratch, 'overhead-keys'));
  const authenticator = new Authenticator({ verifier: new TokenVerifier([issuer.trusted()], { clock, clockToleranceSeconds: 30 }) });
  const credentials = { authorization: `Bearer ${await issuer.mint({ user: 'analyst@uva.example', ttlMs: 3_600_000, now: clock.now() })}` };
  const body = JSON.stringify({
    type: 'sqlDataRequest',
    user: { id: '1', userName: 'analyst@uva.example' },
    dataProviders: ['VU', 'UVA', 'RUG'],
    data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options: { aggregate: true }, requestMetadata: {} },
  });
  const samples: number[] = [];
  try {
    for (let i = 0; i < iterations + 200; i++) {
      const t = performance.now();
      const reply = await answerRequest({ knowledge, inspector, requests, authenticator }, body, { credentials });
      if (reply.status !== 200) throw new Error(`loop overhead bench: ${reply.status} ${JSON.stringify(reply.body).slice(0, 300)}`);
      if (i >= 200) samples.push(performance.now() - t);
    }
  } finally {
    await inspector.close();
    await log.close();
    await runner.close();
  }
  return summarize(samples);
}
