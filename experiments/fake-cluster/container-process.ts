import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { constants } from 'node:os';
import type { JobGroup } from '../../adapters/local/job-memory-cgroup.js';

/** How much of a container's output the fake keeps for its log endpoint and termination message. */
const logCapBytes = 4 * 2 ** 20;

export interface ContainerExit {
  /** As a container runtime reports it: the code, or 128 + the signal's number. */
  readonly exitCode: number;
  readonly signal: NodeJS.Signals | null;
  /** The kernel's OOM killer (in the container's memory group) or the fake's OOM fault ended it. */
  readonly oomKilled: boolean;
  readonly finishedAtMs: number;
}

export interface ContainerLaunch {
  readonly command: readonly string[];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** Puts the process in its cgroups before it runs the container's command. */
  readonly place: (pid: number) => Promise<JobGroup | undefined>;
}

/** A container's output, stdout and stderr interleaved, as `kubectl logs` shows it. */
export class ContainerLog extends EventEmitter {
  private text = '';
  ended = false;

  append(chunk: string): void {
    this.text = (this.text + chunk).slice(-logCapBytes);
    this.emit('data', chunk);
  }

  end(): void {
    this.ended = true;
    this.emit('end');
  }

  all(): string {
    return this.text;
  }

  /** The last `lines` lines (all when undefined). */
  tail(lines: number | undefined): string {
    if (lines === undefined) return this.text;
    const parts = this.text.split('\n');
    const trailing = parts.at(-1) === '' ? 1 : 0;
    return parts.slice(Math.max(0, parts.length - trailing - lines)).join('\n');
  }
}

/**
 * One run of a container: a process in its own process group, started through a shell that waits
 * on stdin until the process sits in its cgroups, then execs the command (same pid), so no byte of
 * the command's memory is charged outside its limit.
 */
export class ContainerProcess {
  readonly log = new ContainerLog();
  readonly startedAtMs = Date.now();
  readonly exited: Promise<ContainerExit>;
  private readonly child: ChildProcess;
  private group: JobGroup | undefined;
  private oomFault = false;
  private done: ContainerExit | undefined;

  private constructor(launch: ContainerLaunch) {
    const [file = '', ...args] = launch.command;
    // `exec` keeps the pid the cgroups were given; the container's stdin is empty, as without `stdin: true`.
    const gate = 'read _gate || exit 126; exec "$@" </dev/null';
    this.child = spawn('/bin/sh', ['-c', gate, 'fake-kubelet-gate', file, ...args], { cwd: launch.cwd, env: { ...launch.env }, detached: true, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.log.append(chunk));
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.log.append(chunk));
    this.child.stdin?.on('error', () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        void this.finish(code, signal).then(resolve);
      });
      this.child.once('error', () => {
        void this.finish(127, null).then(resolve);
      });
    });
  }

  /** Spawns, places and releases the process; ends it and rejects when it cannot be placed. */
  static async start(launch: ContainerLaunch): Promise<ContainerProcess> {
    const run = new ContainerProcess(launch);
    const pid = run.pid;
    if (pid === undefined) {
      await run.exited;
      throw new Error(`could not start ${launch.command[0] ?? 'the command'}`);
    }
    try {
      run.group = await launch.place(pid);
    } catch (error) {
      run.signal('SIGKILL');
      await run.exited;
      throw error;
    }
    run.child.stdin?.end('go\n');
    return run;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.done === undefined;
  }

  /** Signals the whole process group; harmless once it exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.done !== undefined || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      this.child.kill(signal);
    }
  }

  /** The fake's OOM fault: SIGKILL, reported as the kernel's OOM killer would be. */
  oomKill(): void {
    this.oomFault = true;
    this.signal('SIGKILL');
  }

  private async finish(code: number | null, signal: NodeJS.Signals | null): Promise<ContainerExit> {
    if (this.done !== undefined) return this.done;
    // Whatever the process forked ends with it, as a container's processes end with the container.
    if (this.child.pid !== undefined) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        // The group is already empty.
      }
    }
    const kernelOom = this.group === undefined ? false : await this.group.oomKilled().catch(() => false);
    await this.group?.remove().catch(() => undefined);
    this.log.end();
    const exitCode = code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));
    this.done = { exitCode, signal, oomKilled: this.oomFault || kernelOom, finishedAtMs: Date.now() };
    return this.done;
  }
}
