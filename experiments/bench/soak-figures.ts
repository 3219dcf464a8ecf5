import path from 'node:path';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { generateWageGapData } from '../../daemon/example-data/generate-wage-gap.js';
import { soak } from './soak-bench.js';

/**
 * Issue 11's soak: about 10,000 requests (SOAK_REQUESTS) mixing good, malformed, hostile,
 * huge-result and slow ones at concurrency 50, against a daemon with its default limits and a
 * 3 s job deadline (so the slow ones end in the soak's time).
 */
export async function soakFigures(scratch: string, log: (line: string) => void): Promise<Record<string, unknown>> {
  const requests = Number(process.env['SOAK_REQUESTS'] ?? 10_000);
  const dataDir = path.join(scratch, 'soak-data');
  await generateWageGapData(dataDir, ['UVA', 'VU', 'RUG'], { rows: 1_000, seed: 3 });
  const keysDir = path.join(scratch, 'soak-keys');
  const settings = {
    port: 0,
    marketplaceFile: exampleMarketplaceFile(),
    dataDir,
    decisionLogFile: path.join(scratch, 'soak-decisions.jsonl'),
    keysDir,
    logLevel: 'silent',
    metrics: { source: 'none' },
    watchConfig: false,
    jobDeadlineMs: 3_000,
  };
  log(`soak: ${requests} requests at concurrency 50 …`);
  return soak({ requests, concurrency: 50, settings, keysDir });
}
