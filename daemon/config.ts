import path from 'node:path';
import { z } from 'zod';
import { localJobRunnerConfigSchema } from '../adapters/local/config.js';
import { packageRoot } from './package-root.js';

/** The bundled example marketplace. */
export function exampleMarketplaceFile(): string {
  return path.join(packageRoot(), 'experiments', 'marketplaces', 'example.yaml');
}

/**
 * How a daemon runs. Every field has a default, so `dynamos serve` with no arguments runs the
 * bundled example marketplace on generated data.
 */
export const daemonConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** The marketplace config; the bundled example when absent. */
  marketplaceFile: z.string().optional(),
  /**
   * Where table files resolve. For the example, where its data is generated.
   * @default the config file's directory; ./data/example for the example
   */
  dataDir: z.string().optional(),
  /** Rows per steward when the example's data is generated. */
  exampleRows: z.number().int().positive().default(10_000),
  strategy: z.enum(['dynamos']).default('dynamos'),
  /** Each job is killed this long after it starts (the original's deadline). */
  jobDeadlineMs: z.number().int().positive().default(600_000),
  /** Request bodies above this size get 413. */
  bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
  runner: localJobRunnerConfigSchema.default({ warmProcesses: 3 }),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
});

export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;
export type DaemonConfig = z.output<typeof daemonConfigSchema>;

export function defaultExampleDataDir(): string {
  return path.resolve('data', 'example');
}
