import type { LocalJobRunnerConfig } from './config.js';
import type { LocalJobRunnerDeps } from './local-job-runner.js';
import { LocalJobRunner } from './local-job-runner.js';

export { localJobRunnerConfigSchema } from './config.js';
export type { LocalJobRunnerConfig } from './config.js';
export { LocalJobRunner } from './local-job-runner.js';
export type { LocalJobRunnerDeps } from './local-job-runner.js';
export { DataPlaneCredentials } from './data-plane-credentials.js';

export function createLocalJobRunner(config: LocalJobRunnerConfig, deps: LocalJobRunnerDeps): LocalJobRunner {
  return new LocalJobRunner(config, deps);
}
