import { randomUUID } from 'node:crypto';
import { JobProcess } from '../../adapters/local/job-process.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

/**
 * Spawn to ready of a cold single-use job process: from asking the OS for a process until the job
 * process has Node, DuckDB and its control channel up and says `ready`. One at a time, on an idle
 * machine.
 */
export async function benchJobStart(repeats: number): Promise<Summary> {
  const runnerId = `bench-${randomUUID()}`;
  const samples: number[] = [];
  for (let i = 0; i < repeats + 1; i++) {
    const job = new JobProcess({ runnerId, env: {} });
    await job.ready;
    if (i > 0) samples.push((job.readyAt as number) - job.spawnedAt);
    job.kill();
    await job.exited;
  }
  return summarize(samples);
}
