import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** How a server process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface ServerProcessOptions {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** stdout and stderr go here, so a failed start can show why. */
  readonly logFile: string;
}

/**
 * One long-running server process in its own process group (so stopping it also ends the
 * children it forked, e.g. RabbitMQ's shell wrapper → beam.smp → erl_child_setup), with its
 * output in a log file.
 */
export class ServerProcess {
  readonly pid: number;
  readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;
  private readonly child: ChildProcess;

  constructor(private readonly options: ServerProcessOptions) {
    const log = openSync(options.logFile, 'a');
    try {
      this.child = spawn(options.command, [...options.args], {
        cwd: options.cwd,
        env: options.env,
        detached: true,
        stdio: ['ignore', log, log],
      });
    } finally {
      closeSync(log);
    }
    if (this.child.pid === undefined) throw new Error(`could not start ${options.command}`);
    this.pid = this.child.pid;
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', () => {
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
    // The test run must not wait on the server to end on its own.
    this.child.unref();
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The last lines of the process's output, for error messages. */
  logTail(lines = 30): string {
    try {
      return readFileSync(this.options.logFile, 'utf8').split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /**
   * Polls `probe` until it resolves true. Fails when the process exits first or after
   * `timeoutMs`, with the server's log tail in the message.
   */
  async waitUntilReady(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!this.alive) throw new Error(`${what} exited (${describeExit(this.exit)}) before it was ready:\n${this.logTail()}`);
      if (await probe().catch(() => false)) return;
      if (Date.now() > deadline) throw new Error(`${what} was not ready after ${timeoutMs} ms:\n${this.logTail()}`);
      await delay(100);
    }
  }

  /** SIGTERM to the whole process group, SIGKILL after `graceMs`; resolves once the leader exited. */
  async stop(graceMs = 15_000): Promise<ProcessExit> {
    signalGroup(this.pid, 'SIGTERM');
    const timer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    // Children that outlived the leader (same group) go too.
    signalGroup(this.pid, 'SIGKILL');
    return exit;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // The group is gone already.
  }
}

export function describeExit(exit: ProcessExit | undefined): string {
  if (exit === undefined) return 'still running';
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${String(exit.code)}`;
}
