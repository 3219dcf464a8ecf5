import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { LocalJobRunnerConfig } from './config.js';
import { LocalJobRunner } from './local-job-runner.js';

export { localJobRunnerConfigSchema } from './config.js';
export type { LocalJobRunnerConfig } from './config.js';
export { LocalJobRunner } from './local-job-runner.js';

export function createLocalJobRunner(config: LocalJobRunnerConfig, deps: { logger: Logger; clock: Clock }): LocalJobRunner {
  return new LocalJobRunner(config, deps);
}
