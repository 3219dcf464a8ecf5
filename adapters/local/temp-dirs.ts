import { mkdtemp, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isProcessAlive } from '../../knowledge/process-alive.js';

const prefix = 'dynamos-job-';

/** A job's private temp directory, named after the runner's process so a sweep can find it. */
export function makeJobTempDir(root: string): Promise<string> {
  return mkdtemp(path.join(root, `${prefix}${process.pid}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes job temp directories whose runner process no longer exists: what a crashed daemon
 * left behind. Directories of live runners (this one included) are left alone.
 */
export async function sweepOrphanedTempDirs(root: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(root);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = Number(/^dynamos-job-(\d+)-/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || isProcessAlive(pid)) continue;
    await removeDir(path.join(root, name));
    removed.push(name);
  }
  return removed;
}

