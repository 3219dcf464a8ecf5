import { copyFile, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exampleMarketplaceFile } from '../../daemon/config.js';
import { loadMarketplaceFile } from '../../knowledge/marketplace/load-marketplace.js';
import { generateWageGapData } from '../../daemon/example-data/generate-wage-gap.js';
import { benchAdaptation } from './adaptation-bench.js';
import { benchAmqpRestart } from './amqp-restart-bench.js';
import { benchLoopOverhead } from './loop-overhead-bench.js';
import { benchRevocation } from './revocation-bench.js';

const serversNote = 'skipped: needs the test servers; run `npm run bench`, which starts them through scripts/with-test-servers.ts';

/** Issue 3's figures: loop overhead, revocation, AMQP through a broker restart, adaptation. */
export async function adaptationFigures(scratch: string, repeats: number, log: (line: string) => void): Promise<Record<string, unknown>> {
  const dataDir = path.join(scratch, 'rows-200');
  await generateWageGapData(dataDir, ['UVA', 'VU', 'RUG'], { rows: 200 });
  // Both stewards allow both TTPs here, so there is a TTP to move to.
  const marketplaceFile = path.join(scratch, 'two-ttps.yaml');
  await copyFile(exampleMarketplaceFile(), marketplaceFile);
  await writeFile(marketplaceFile, (await readFile(marketplaceFile, 'utf8')).replaceAll('allowedComputeProviders: [SURF]', 'allowedComputeProviders: [SURF, otherCompany]'));
  const loaded = await loadMarketplaceFile(marketplaceFile, dataDir);
  if (!loaded.ok) throw new Error('the two-TTP marketplace does not load');

  const figures: Record<string, unknown> = {};
  log('loop overhead per request, utility strategy …');
  figures['loopOverheadMs'] = { ...(await benchLoopOverhead(loaded.marketplace, scratch, 5_000)), targetP99Ms: 2, includes: 'body parsing and SQL inspection, the five phases with utility, the decision record written to disk, metrics, the reply; not the jobs' };
  log('revocation to a cancelled in-flight job …');
  figures['revocation'] = { ...(await benchRevocation(dataDir, marketplaceFile, scratch, repeats)), targetMs: 1000 };

  const amqpUrl = process.env['RABBITMQ_URL'];
  const ctl = process.env['RABBITMQ_CTL_ENV'];
  if (amqpUrl === undefined || ctl === undefined) figures['amqpBrokerRestart'] = serversNote;
  else {
    log('1,000 requests over AMQP with the broker restarted halfway …');
    figures['amqpBrokerRestart'] = { ...(await benchAmqpRestart({ amqpUrl, ctlEnv: JSON.parse(ctl) as Record<string, string> }, dataDir, marketplaceFile, scratch, 1_000)), target: '0 lost, 0 answered twice' };
  }
  const promUrl = process.env['PROM_URL'];
  const targetsFile = process.env['PROM_TARGETS_FILE'];
  if (promUrl === undefined || targetsFile === undefined) figures['ttpOverload'] = serversNote;
  else {
    log('a TTP crossing the load threshold, as Prometheus serves it (about 90 s) …');
    figures['ttpOverload'] = await benchAdaptation({ promUrl, targetsFile }, dataDir, marketplaceFile, scratch);
  }
  return figures;
}
