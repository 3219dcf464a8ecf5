import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

/** Pids of live processes whose command line carries `--dynamos-runner=<runnerId>` (Linux /proc). */
export function processesOfRunner(runnerId: string): number[] {
  const tag = `--dynamos-runner=${runnerId}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1];
      if (cmdline.split('\0').includes(tag) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/** Job temp directories this test process's runners left in the OS temp directory. */
export function jobTempDirsOfThisProcess(root = os.tmpdir()): string[] {
  return readdirSync(root).filter((name) => name.startsWith(`dynamos-job-${process.pid}-`));
}
