import path from 'node:path';
import { createDuckDBQueryInspector } from '../../adapters/duckdb/index.js';
import { KubernetesJobRunner } from '../../adapters/kubernetes/index.js';
import { parseRequestBody } from '../../daemon/api/request-body.js';
import { analyze } from '../../daemon/mape/analyze.js';
import { plan } from '../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../daemon/mape/strategies/dynamos-strategy.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import { loadMarketplaceFile } from '../../knowledge/marketplace/load-marketplace.js';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { systemClock } from '../../knowledge/ports/clock.js';
import { generateWageGapData } from '../../daemon/example-data/generate-wage-gap.js';
import { startExampleCluster } from '../fake-cluster/example-cluster.js';
import { benchClusterChurn } from './cluster-bench.js';
import { requestBody } from './data-plane-figures.js';
import { benchEndToEnd } from './end-to-end-bench.js';
import { benchJobStart } from './job-start-bench.js';
import { ratio, summarize } from './stats.js';

const parties = ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'];
const stewards = ['UVA', 'VU', 'RUG'];

/**
 * Issue 13's figures, on the fake API server (experiments/fake-cluster/), whose kubelet runs each
 * pod as a local process: a job's start from its Job created to its container running, the example
 * request in cluster mode beside the embedded default in the same run, and the churn of
 * CLUSTER_REQUESTS (1,000) requests with cancels and a kill -9 of the daemon halfway.
 */
export async function clusterFigures(scratch: string, repeats: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const dataDir = path.join(scratch, 'cluster-data');
  await generateWageGapData(dataDir, stewards, { rows: 10_000, seed: 13 });
  const example = await startExampleCluster({ parties, stewards, dataDir, scratch });
  const figures: Record<string, unknown> = {};
  try {
    log('cluster: a job\'s start through the fake API server (Job created → container running) …');
    const runner = new KubernetesJobRunner({ ...example.settings.kubernetes, daemonName: 'bench-start' }, { logger: silentLogger, clock: systemClock, sites: example.settings.sites, parties, dataDir });
    const loaded = await loadMarketplaceFile(exampleMarketplaceFile(), dataDir);
    if (!loaded.ok) throw new Error('the example marketplace does not load');
    const inspector = await createDuckDBQueryInspector();
    const parsed = await parseRequestBody(requestBody(['UVA'], { aggregate: false, graph: false }), loaded.marketplace, inspector);
    await inspector.close();
    const starts: number[] = [];
    for (let i = 0; i < repeats + 1; i++) {
      const k = knowledgeOf(loaded.marketplace, Date.now());
      const request = { ...parsed, id: `bench-start-${i}` };
      const p = plan(k, analyze(k, request), dynamosStrategy);
      if (p.kind !== 'deploy') throw new Error(`the start benchmark's request was not deployed: ${p.kind}`);
      const result = await runner.run({ requestId: request.id, jobs: p.jobs, deadlineMs: 60_000 });
      if (result.jobs[0]?.status !== 'succeeded') throw new Error(`the start benchmark's job failed: ${JSON.stringify(result.jobs[0]?.error)}`);
      if (i > 0) starts.push(result.jobs[0].startMs);
    }
    await runner.close();
    figures['jobStart'] = { jobCreatedToContainerRunningMs: summarize(starts), localColdSpawnToReadyMs: await benchJobStart(repeats) };

    log('cluster: the example request end to end, cluster mode beside the embedded default …');
    const settings = { port: 0, marketplaceFile: exampleMarketplaceFile(), dataDir, logLevel: 'silent' as const, watchConfig: false, metrics: { source: 'none' as const } };
    const embedded = await startDaemon({ ...settings, decisionLogFile: path.join(scratch, 'embedded-decisions.jsonl') }, { logger: silentLogger });
    const cluster = await startDaemon({ ...settings, decisionLogFile: path.join(scratch, 'cluster-decisions.jsonl'), ...example.settings }, { logger: silentLogger });
    try {
      const body = requestBody(['VU', 'UVA'], { aggregate: false, graph: false });
      const runs = { embedded: [] as number[], cluster: [] as number[] };
      // Interleaved, so a slow spell of the machine falls on both.
      for (let i = 0; i < repeats; i++) {
        runs.embedded.push((await benchEndToEnd(embedded, body, 1)).latencyMs.median);
        runs.cluster.push((await benchEndToEnd(cluster, body, 1)).latencyMs.median);
      }
      const e = summarize(runs.embedded);
      const c = summarize(runs.cluster);
      figures['exampleRequest'] = { request: 'wage-gap: computeToData, VU and UVA, 10,000 rows each', embeddedMs: e, clusterModeMs: c, clusterToEmbeddedRatio: ratio(c.median, e.median) };
    } finally {
      await cluster.close();
      await embedded.close();
    }

    const requests = Number(process.env['CLUSTER_REQUESTS'] ?? 1_000);
    log(`cluster: ${requests} requests with cancels and a kill -9 of the daemon halfway …`);
    const keysDir = path.join(scratch, 'churn-keys');
    const decisionLogFile = path.join(scratch, 'churn-decisions.jsonl');
    const churnSettings = { ...settings, decisionLogFile, keysDir, jobDeadlineMs: 30_000, ...example.settings, kubernetes: { ...example.settings.kubernetes, daemonName: 'churn' } };
    figures['churn'] = await benchClusterChurn({ requests, concurrency: 4, cancelShare: 0.2, settings: churnSettings, keysDir, decisionLogFile, cluster: example });
  } finally {
    await example.close();
  }
  return figures;
}
