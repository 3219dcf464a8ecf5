import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
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

/** What a child prints on stdout until `pattern` shows; fails with that output if the child exits first. */
export async function outputUntil(child: ChildProcess, pattern: RegExp): Promise<string> {
  let out = '';
  const exited = once(child, 'exit');
  while (!pattern.test(out)) {
    const next = await Promise.race([once(child.stdout as NodeJS.ReadableStream, 'data'), exited.then(([code]) => ({ code }))]);
    if (!Array.isArray(next)) throw new Error(`the child exited (${String(next.code)}) before printing ${String(pattern)}; it printed:\n${out}`);
    out += String(next[0]);
  }
  return out;
}
