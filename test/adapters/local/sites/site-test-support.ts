import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, rmdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * A cgroup of the test's own in every hierarchy a site needs, so the tests neither write into the
 * test process's groups nor sweep another runner's. `parent` is its path within each hierarchy.
 */
export interface TestCgroupContainer {
  readonly parent: string;
  readonly kind: 'v1' | 'v2';
  /** Where it is in each hierarchy (v1: memory first; v2: the one). */
  readonly dirs: readonly string[];
  remove(): Promise<void>;
}

/** The container, or why this machine cannot have one (to skip with). */
export async function makeTestCgroupContainer(): Promise<TestCgroupContainer | string> {
  if (process.getuid?.() !== 0) return `not root (uid ${process.getuid?.()})`;
  const root = '/sys/fs/cgroup';
  const name = `dynamos-test-${randomUUID()}`;
  const unified = existsSync(path.join(root, 'cgroup.controllers')) ? readFileSync(path.join(root, 'cgroup.controllers'), 'utf8').split(/\s+/) : [];
  const isV2 = unified.includes('cpu') && unified.includes('memory');
  const hierarchies = isV2 ? [root] : ['memory', 'cpu', 'cpuacct'].map((c) => path.join(root, c));
  if (hierarchies.some((h) => !existsSync(h))) return `no cgroup cpu and memory hierarchies at ${root}`;
  const dirs = [...new Set(hierarchies.map((h) => path.join(realpathSync(h), name)))];
  const made: string[] = [];
  try {
    for (const dir of dirs) {
      await mkdir(dir);
      made.push(dir);
    }
  } catch (error) {
    await Promise.all(made.map((dir) => rmdir(dir).catch(() => undefined)));
    return `cannot create a cgroup: ${(error as Error).message}`;
  }
  return {
    parent: `/${name}`,
    kind: isV2 ? 'v2' : 'v1',
    dirs,
    remove: async () => {
      for (const dir of dirs) await rmdir(dir).catch(() => undefined);
    },
  };
}

/** The processes a test started, ended by pid whatever happens. */
export class StartedProcesses {
  private readonly children: ChildProcess[] = [];
  private readonly pids = new Set<number>();

  /** A Node script (CommonJS, `-e`), started under `prefix` when given, with an IPC channel. */
  node(script: string, prefix?: readonly string[], stdio: 'ignore' | 'inherit' = 'ignore'): ChildProcess & { pid: number } {
    const [file = process.execPath, ...args] = prefix ?? [];
    const child = spawn(file, [...args, ...(prefix === undefined ? [] : [process.execPath]), '-e', script], { stdio: ['pipe', 'ignore', stdio, 'ipc'] });
    return this.track(child);
  }

  track(child: ChildProcess): ChildProcess & { pid: number } {
    if (child.pid === undefined) throw new Error('the process did not start');
    this.children.push(child);
    this.pids.add(child.pid);
    return child as ChildProcess & { pid: number };
  }

  /** A process started by one of ours (a runner in a child daemon, say), to end too. */
  adopt(pid: number): void {
    this.pids.add(pid);
  }

  async endAll(): Promise<void> {
    for (const pid of this.pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone already.
      }
    }
    await Promise.all(this.children.map(exitOf));
    this.children.length = 0;
    this.pids.clear();
  }
}

export async function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  return { code: child.exitCode, signal: child.signalCode };
}

/** The next IPC message, or a rejection when the child exits first. */
export function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`the child exited (${code ?? signal}) before sending a message`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      resolve(m as T);
    });
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function ipOutput(args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8' });
}

/** Waits for `condition`, polling; fails with `what` after `timeoutMs`. */
export async function waitFor(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The first line the child writes to stdout; rejects when it exits first. */
export function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onExit = (code: number | null, signal: string | null) => reject(new Error(`the child exited (${code ?? signal}) before writing a line: ${text}`));
    child.once('exit', onExit);
    child.stdout?.on('data', (d: Buffer) => {
      text += d.toString('utf8');
      const end = text.indexOf('\n');
      if (end < 0) return;
      child.off('exit', onExit);
      resolve(text.slice(0, end));
    });
  });
}
