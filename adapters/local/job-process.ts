import type { ChildProcess } from 'node:child_process';
import { fork, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobMessage, RunnerMessage } from '../../services/job/job-protocol.js';

const fromSource = fileURLToPath(import.meta.url).endsWith('.ts');
/**
 * The job entry next to this build: TypeScript through tsx in development; when built, one
 * bundled file (`npm run build`), which starts in half the time of loading the modules one by one.
 */
const jobEntry = fileURLToPath(new URL(`../../services/job/job-main.${fromSource ? 'ts' : 'cjs'}`, import.meta.url));
/**
 * The only variables a job inherits: nothing of the daemon's environment (credentials, proxies,
 * NODE_EXTRA_CA_CERTS, whose certificate parsing alone costs a job 50 ms of start-up) leaks in.
 * NODE_V8_COVERAGE lets coverage follow into jobs under test.
 */
const inheritedVariables = ['PATH', 'LANG', 'TZ', 'NODE_V8_COVERAGE'];
const stderrTailBytes = 4096;

export interface JobProcessOptions {
  /** Tags the process's command line so its runner (and tests) can find it. */
  readonly runnerId: string;
  readonly env: Readonly<Record<string, string>>;
  /** V8's old-space limit of the job, in MiB: past it the job fails instead of growing. */
  readonly heapMiB?: number;
  /**
   * A command that starts the process somewhere else, such as `ip netns exec <ns>` (a site's network
   * namespace, `SiteEnvelopes.launchPrefix`). It must exec Node in place, so the job keeps its pid,
   * its process group and the IPC channel.
   */
  readonly launchPrefix?: readonly string[];
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/**
 * One single-use job process in its own process group: spawned fresh, used for one job, killed
 * with its whole group. Its control channel is Node IPC; its data goes through its sidecar.
 */
export class JobProcess {
  readonly spawnedAt = performance.now();
  readonly ready: Promise<void>;
  readonly exited: Promise<Exit>;
  readyAt: number | undefined;
  private readonly child: ChildProcess;
  private stderrTail = '';
  private exitInfo: Exit | undefined;
  private readonly waiters = new Map<JobMessage['type'], ((m: JobMessage) => void)[]>();
  private readonly received = new Map<JobMessage['type'], JobMessage>();

  constructor(opts: JobProcessOptions) {
    const execArgv = [...(fromSource ? ['--import', tsxLoader()] : []), ...(opts.heapMiB === undefined ? [] : [`--max-old-space-size=${opts.heapMiB}`])];
    const args = [`--dynamos-runner=${opts.runnerId}`];
    const how = { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'ipc'] as ['ignore', 'ignore', 'pipe', 'ipc'], env: { ...pick(process.env, inheritedVariables), ...opts.env } };
    const [launcher, ...launcherArgs] = opts.launchPrefix ?? [];
    // fork cannot put a command in front of Node; spawn with an 'ipc' entry gives the same channel.
    this.child = launcher === undefined ? fork(jobEntry, args, { ...how, execArgv }) : spawn(launcher, [...launcherArgs, process.execPath, ...execArgv, jobEntry, ...args], how);
    this.child.stderr?.on('data', (d: Buffer) => {
      this.stderrTail = (this.stderrTail + d.toString('utf8')).slice(-stderrTailBytes);
    });
    this.child.on('message', (m: JobMessage) => {
      this.received.set(m.type, m);
      for (const wake of this.waiters.get(m.type) ?? []) wake(m);
      this.waiters.delete(m.type);
    });
    this.exited = new Promise((resolve) => {
      // 'close', not 'exit': a message the job sent just before exiting may still be in the IPC
      // pipe at 'exit' (under load, a third of them were), and its result would be lost.
      this.child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        resolve(this.exitInfo);
      });
      this.child.once('error', () => {
        this.exitInfo ??= { code: null, signal: null };
        resolve(this.exitInfo);
      });
    });
    this.ready = this.message('ready').then(() => {
      this.readyAt = performance.now();
    });
    this.ready.catch(() => undefined);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.exitInfo === undefined;
  }

  get stderr(): string {
    return this.stderrTail.trim();
  }

  /** The first message of `type`; rejects when the process exits without sending one. */
  message<T extends JobMessage['type']>(type: T): Promise<Extract<JobMessage, { type: T }>> {
    const seen = this.received.get(type);
    if (seen !== undefined) return Promise.resolve(seen as Extract<JobMessage, { type: T }>);
    return new Promise((resolve, reject) => {
      this.waiters.set(type, [...(this.waiters.get(type) ?? []), (m) => resolve(m as Extract<JobMessage, { type: T }>)]);
      void this.exited.then((exit) => {
        const got = this.received.get(type);
        if (got !== undefined) resolve(got as Extract<JobMessage, { type: T }>);
        else reject(new Error(`job process exited (${describeExit(exit)}) before "${type}"`));
      });
    });
  }

  assign(message: RunnerMessage): void {
    this.child.send(message);
  }

  /** Kills the process and everything in its group; harmless when it already exited. */
  kill(): void {
    if (!this.alive || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      this.child.kill('SIGKILL');
    }
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `code ${exit.code ?? 'unknown'}`;
}

/** tsx by its absolute location: a job's working directory need not see node_modules. */
function tsxLoader(): string {
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
}

function pick(env: NodeJS.ProcessEnv, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of names) {
    const value = env[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}
