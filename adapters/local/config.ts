import { z } from 'zod';

export const localJobRunnerConfigSchema = z.strictObject({
  /** Fresh processes kept started and waiting, so a job starts at once. 0 starts each on demand. */
  warmProcesses: z.number().int().min(0).max(64).default(3),
  /** Where job temp directories go. @default the OS temp directory */
  tempRoot: z.string().optional(),
  /** DuckDB threads per job. @default the number of cores */
  jobThreads: z.number().int().positive().optional(),
  /** DuckDB memory limit per job, such as '2GB'. @default DuckDB's (80 % of RAM) */
  jobMemoryLimit: z.string().optional(),
});

export type LocalJobRunnerConfig = z.input<typeof localJobRunnerConfigSchema>;
