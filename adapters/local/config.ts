import { z } from 'zod';

export const localJobRunnerConfigSchema = z.strictObject({
  /** Fresh processes kept started and waiting, so a job starts at once. 0 starts each on demand. */
  warmProcesses: z.number().int().min(0).max(64).default(3),
  /**
   * Processes kept waiting inside each site's network namespace (`sites.<party>.network: true`): a
   * process cannot enter a namespace after it starts, so such a party's jobs cannot take from the
   * shared pool. 0 starts each of its jobs on demand, inside the namespace.
   */
  warmProcessesPerNetworkedSite: z.number().int().min(0).max(16).default(1),
  /** Where job temp directories go. @default the OS temp directory */
  tempRoot: z.string().optional(),
  /** DuckDB threads per job. @default the number of cores */
  jobThreads: z.number().int().positive().optional(),
  /**
   * Memory one job may use, in MiB: the OS limit of its process where the machine allows one
   * (docs/designs/010-job-memory-limits.md), and the budget DuckDB and V8 get their shares of.
   */
  jobMemoryMiB: z.number().int().min(256).default(2048),
  /** DuckDB's memory limit per job, such as '1GB', over its share of `jobMemoryMiB` (half). */
  jobMemoryLimit: z.string().optional(),
  /**
   * The OS limit of `jobMemoryMiB` per job through a cgroup: `auto` where the machine allows one
   * (root, or a delegated cgroup), `off` never.
   */
  jobMemoryCgroup: z.enum(['auto', 'off']).default('auto'),
  /** The cgroup to make the jobs' groups in. @default the daemon's own (v1), or its parent (v2) */
  jobCgroupParent: z.string().min(1).optional(),
});

/** DuckDB's share of a job's memory: it spills to the job's temp directory past it. */
export function duckdbMemoryLimitOf(c: Pick<LocalJobRunnerSettings, 'jobMemoryMiB' | 'jobMemoryLimit'>): string {
  return c.jobMemoryLimit ?? `${Math.floor(c.jobMemoryMiB / 2)}MB`;
}

/** V8's old space per job: the job holds chunks of a MiB or so, a quarter of its memory is ample. */
export function v8HeapMiBOf(c: Pick<LocalJobRunnerSettings, 'jobMemoryMiB'>): number {
  return Math.max(128, Math.floor(c.jobMemoryMiB / 4));
}

export type LocalJobRunnerSettings = z.output<typeof localJobRunnerConfigSchema>;

export type LocalJobRunnerConfig = z.input<typeof localJobRunnerConfigSchema>;
