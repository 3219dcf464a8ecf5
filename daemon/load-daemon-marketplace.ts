import { ensureExampleData } from '../experiments/datasets/example-data.js';
import { anonymizationColumnProblems } from '../knowledge/marketplace/anonymization-columns.js';
import { DynamosError } from '../knowledge/errors.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import { loadMarketplaceFile, missingTableFiles } from '../knowledge/marketplace/load-marketplace.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { DaemonConfig } from './config.js';
import { defaultExampleDataDir, exampleMarketplaceFile } from './config.js';

/**
 * The marketplace a daemon starts with: the configured file, or the bundled example on data it
 * generates when missing. Every table file must exist, with every column its anonymisation names.
 * @throws DynamosError CONFIG_INVALID listing every problem
 */
export async function loadDaemonMarketplace(config: Pick<DaemonConfig, 'marketplaceFile' | 'dataDir' | 'exampleRows'>, logger: Logger): Promise<Marketplace> {
  const example = config.marketplaceFile === undefined;
  const dir = example ? (config.dataDir ?? defaultExampleDataDir()) : config.dataDir;
  const result = await loadMarketplaceFile(config.marketplaceFile ?? exampleMarketplaceFile(), dir);
  if (!result.ok) throw configInvalid(`the marketplace config ${config.marketplaceFile ?? 'example'} is invalid`, result.problems);
  const m = result.marketplace;
  if (example && (await ensureExampleData(m.dataDir, Object.keys(m.dataStewards), config.exampleRows))) {
    logger.info('generated the example data', { dataDir: m.dataDir, rowsPerSteward: config.exampleRows });
  }
  const missing = await missingTableFiles(m);
  if (missing.length > 0) throw configInvalid(`table files are missing in ${m.dataDir}`, missing);
  const unknownColumns = await anonymizationColumnProblems(m);
  if (unknownColumns.length > 0) throw configInvalid('anonymization rules name columns the table files do not have', unknownColumns);
  return m;
}

function configInvalid(message: string, problems: readonly { path: string; message: string }[]): DynamosError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  return new DynamosError('CONFIG_INVALID', `${message}:\n${list}`, { retryable: false, details: { problems } });
}
