import { createDuckDBQueryInspector } from '../adapters/duckdb/index.js';
import { createLocalJobRunner } from '../adapters/local/index.js';
import type { LocalJobRunner } from '../adapters/local/index.js';
import { ensureExampleData } from '../experiments/datasets/example-data.js';
import { DynamosError } from '../knowledge/errors.js';
import { knowledgeOf } from '../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import { loadMarketplaceFile, missingTableFiles } from '../knowledge/marketplace/load-marketplace.js';
import type { Clock } from '../knowledge/ports/clock.js';
import { systemClock } from '../knowledge/ports/clock.js';
import type { Logger } from '../knowledge/ports/logger.js';
import { createApi, startHttpServer } from './api/http-server.js';
import type { DaemonConfigInput } from './config.js';
import { daemonConfigSchema, defaultExampleDataDir, exampleMarketplaceFile } from './config.js';
import { createLogger } from './logger.js';
import type { Strategy } from './mape/strategies/strategy.js';
import { dynamosStrategy } from './mape/strategies/dynamos-strategy.js';

export interface RunningDaemon {
  readonly url: string;
  readonly marketplace: Marketplace;
  readonly runner: LocalJobRunner;
  /** Stops accepting requests, ends every job and frees every resource; idempotent. */
  close(): Promise<void>;
}

const strategies: Readonly<Record<string, Strategy>> = { dynamos: dynamosStrategy };

/**
 * The embedded default (DESIGN §2): the whole marketplace on this machine, jobs as local
 * single-use processes. With no marketplace file, the bundled example on generated data.
 *
 * @throws DynamosError CONFIG_INVALID when the marketplace is invalid or a table file is missing.
 */
export async function startDaemon(input: DaemonConfigInput = {}, deps: { logger?: Logger; clock?: Clock } = {}): Promise<RunningDaemon> {
  const config = daemonConfigSchema.parse(input);
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? systemClock;
  const marketplace = await loadMarketplace(config.marketplaceFile, config.dataDir, config.exampleRows, logger);
  const inspector = await createDuckDBQueryInspector();
  const runner = createLocalJobRunner(config.runner, { logger, clock });
  const strategy = strategies[config.strategy] as Strategy;
  const pipeline = {
    knowledge: () => knowledgeOf(marketplace, clock.now()),
    strategy,
    runner,
    clock,
    logger,
    deadlineMs: config.jobDeadlineMs,
  };
  const app = createApi({ pipeline, inspector, bodyLimitBytes: config.bodyLimitBytes, startedAt: clock.now() });
  let server;
  try {
    await runner.whenWarm();
    server = await startHttpServer(app, { host: config.host, port: config.port });
  } catch (error) {
    await runner.close();
    await inspector.close();
    throw error;
  }
  logger.info('daemon listening', { url: server.url, marketplace: marketplace.name, revision: marketplace.revision, strategy: strategy.name });
  let closing: Promise<void> | undefined;
  const running = server;
  return {
    url: running.url,
    marketplace,
    runner,
    close: () =>
      (closing ??= (async () => {
        await running.close();
        await runner.close();
        await inspector.close();
      })()),
  };
}

async function loadMarketplace(file: string | undefined, dataDir: string | undefined, exampleRows: number, logger: Logger): Promise<Marketplace> {
  const example = file === undefined;
  const dir = example ? (dataDir ?? defaultExampleDataDir()) : dataDir;
  const result = await loadMarketplaceFile(file ?? exampleMarketplaceFile(), dir);
  if (!result.ok) throw configInvalid(`the marketplace config ${file ?? 'example'} is invalid`, result.problems);
  const m = result.marketplace;
  if (example && (await ensureExampleData(m.dataDir, Object.keys(m.dataStewards), exampleRows))) {
    logger.info('generated the example data', { dataDir: m.dataDir, rowsPerSteward: exampleRows });
  }
  const missing = await missingTableFiles(m);
  if (missing.length > 0) throw configInvalid(`table files are missing in ${m.dataDir}`, missing);
  return m;
}

function configInvalid(message: string, problems: readonly { path: string; message: string }[]): DynamosError {
  const list = problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  return new DynamosError('CONFIG_INVALID', `${message}:\n${list}`, { retryable: false, details: { problems } });
}
