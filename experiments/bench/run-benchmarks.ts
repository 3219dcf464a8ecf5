/**
 * `npm run bench`: every figure the issues name, medians and ratios measured in one run, written
 * as JSON to bench-results/latest.json and printed. Runs from the build (dist/), as users do, under
 * scripts/with-test-servers.ts so the figures that need RabbitMQ and Prometheus get real ones.
 * BENCH_ONLY=dataPlane, adaptation, replay, soak or cluster runs one part; BENCH_REPEATS sets the
 * repeats, SOAK_REQUESTS the soak's requests, CLUSTER_REQUESTS the cluster churn's.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../../daemon/package-root.js';
import { adaptationFigures } from './adaptation-figures.js';
import { clusterFigures } from './cluster-figures.js';
import { dataPlaneFigures } from './data-plane-figures.js';
import { replayFigures } from './replay-figures.js';
import { soakFigures } from './soak-figures.js';

const repeats = Number(process.env['BENCH_REPEATS'] ?? 7);
const only = process.env['BENCH_ONLY'];

async function main(): Promise<void> {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'dynamos-bench-'));
  const log = (line: string) => process.stderr.write(`${line}\n`);
  try {
    const figures: Record<string, unknown> = {
      machine: { cpus: os.availableParallelism(), cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      date: new Date().toISOString(),
      repeats,
    };
    if (only === undefined || only === 'dataPlane') figures['dataPlane'] = await dataPlaneFigures(scratch, repeats, log);
    if (only === undefined || only === 'adaptation') figures['adaptation'] = await adaptationFigures(scratch, repeats, log);
    if (only === undefined || only === 'replay') figures['replay'] = await replayFigures(scratch, repeats, log);
    if (only === undefined || only === 'soak') figures['soak'] = await soakFigures(scratch, log);
    if (only === undefined || only === 'cluster') figures['cluster'] = await clusterFigures(scratch, repeats, log);
    const out = path.join(packageRoot(), 'bench-results');
    await mkdir(out, { recursive: true });
    const text = JSON.stringify(figures, null, 2);
    await writeFile(path.join(out, only === undefined ? 'latest.json' : `latest-${only}.json`), text);
    process.stdout.write(`${text}\n`);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

await main();
