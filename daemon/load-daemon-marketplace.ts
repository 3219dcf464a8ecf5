import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { prepareExampleData } from './example-data/example-data.js';
import { anonymizationColumnProblems } from '../knowledge/marketplace/anonymization-columns.js';
import { DynamosError } from '../knowledge/errors.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import { loadMarketplaceFile, missingTableFiles } from '../knowledge/marketplace/load-marketplace.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { Problem } from '../knowledge/problems.js';
import { describeProblems } from '../knowledge/problems.js';
import type { DaemonConfig } from './config.js';
import { defaultExampleDataDir, exampleMarketplaceFile } from './config.js';
import { describeFileError } from './file-errors.js';

/**
 * The marketplace a daemon starts with: the configured file, or the bundled example on the data in
 * its data directory, generated when the directory holds none (daemon/example-data/example-data.ts
 * says when it refuses instead). Every table file must exist, with every column its anonymisation
 * names, except in cluster mode, where the tables are on the stewards' volumes.
 * @param opts.exampleRowsGiven whether `exampleRows` was asked for rather than defaulted: then the
 *   example's data must have that many rows
 * @throws DynamosError CONFIG_INVALID listing every problem
 */
export async function loadDaemonMarketplace(
  config: Pick<DaemonConfig, 'marketplaceFile' | 'dataDir' | 'exampleRows' | 'regenerateExampleData' | 'kubernetes'>,
  logger: Logger,
  opts: { exampleRowsGiven: boolean } = { exampleRowsGiven: false },
): Promise<Marketplace> {
  const example = config.marketplaceFile === undefined;
  const dir = example ? (config.dataDir ?? defaultExampleDataDir()) : config.dataDir;
  if (config.marketplaceFile !== undefined) await mustBeReadable(config.marketplaceFile);
  const result = await loadMarketplaceFile(config.marketplaceFile ?? exampleMarketplaceFile(), dir);
  if (!result.ok) throw configInvalid(`the marketplace config ${config.marketplaceFile ?? 'example'} is invalid`, result.problems);
  const m = result.marketplace;
  if (config.kubernetes !== undefined) {
    // Cluster mode: each steward's tables are on its own volume, which only its jobs mount; the
    // daemon has none of them, so each job checks its files (DATA_UNAVAILABLE, QUERY_FAILED).
    logger.info('cluster mode: the stewards\' tables are on their volumes; each job checks its own', { dataDir: m.dataDir });
    return m;
  }
  if (example) {
    const rows = config.exampleRows;
    const outcome = await prepareExampleData(m.dataDir, Object.keys(m.dataStewards), { rows, rowsGiven: opts.exampleRowsGiven, force: config.regenerateExampleData });
    if (outcome.kind === 'generated') logger.info(outcome.replaced ? 'regenerated the example data over the files there' : 'generated the example data', { dataDir: m.dataDir, rowsPerSteward: rows });
    else logger.info('using the example data already in the data directory', { dataDir: m.dataDir, ...(outcome.rows === undefined ? {} : { rowsPerSteward: outcome.rows }) });
  }
  const missing = await missingTableFiles(m);
  if (missing.length > 0) throw configInvalid(`table files are missing in ${m.dataDir}`, missing);
  const unknownColumns = await anonymizationColumnProblems(m);
  if (unknownColumns.length > 0) throw configInvalid('anonymization rules name columns the table files do not have', unknownColumns);
  return m;
}

/** A config file that cannot be read is one line naming the setting, not a list of one problem. */
async function mustBeReadable(file: string): Promise<void> {
  await access(file, constants.R_OK).catch((error: unknown) => {
    throw new DynamosError('CONFIG_INVALID', `cannot read the marketplace config (marketplaceFile, --config) ${file}: ${describeFileError(error)}`, { retryable: false, cause: error });
  });
}

function configInvalid(message: string, problems: readonly Problem[]): DynamosError {
  return new DynamosError('CONFIG_INVALID', `${message}:\n${describeProblems(problems)}`, { retryable: false, details: { problems } });
}
