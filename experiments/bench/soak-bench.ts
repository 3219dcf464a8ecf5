import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalIssuer } from '../../daemon/local-issuer.js';
import type { SoakKind } from './soak-requests.js';
import { rightAnswers, soakKindOf, soakRequest } from './soak-requests.js';
import { summarize } from './stats.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SoakOptions {
  readonly requests: number;
  readonly concurrency: number;
  /** Daemon settings (port 0, data, log, limits) for the soak's daemon. */
  readonly settings: Record<string, unknown>;
  /** Where the daemon's local issuer keeps its key, to sign the requester's token. */
  readonly keysDir: string;
}

/**
 * A bounded soak (issue 11): `requests` requests of the mix in soak-requests.ts at `concurrency`,
 * against a daemon in its own process. Reports the answers by kind and status, the false failures
 * (an answer not right for its kind), the daemon's RSS (after warm-up, peak, at the end), what was
 * left (requests in flight, job processes, temp directories) and the throughput sustained.
 */
export async function soak(opts: SoakOptions): Promise<Record<string, unknown>> {
  const child = spawn(process.execPath, [path.join(here, 'soak-daemon-child.js'), JSON.stringify(opts.settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const [url, runnerId] = (await firstLine(child)).split(' ').slice(1) as [string, string];
    const issuer = await LocalIssuer.read(opts.keysDir);
    const token = await issuer.mint({ user: 'analyst@uva.example', now: Date.now(), ttlMs: 3_600_000 });
    const answers = new Map<string, number>();
    const falseFailures = new Map<string, number>();
    const latencies: number[] = [];
    let next = 0;
    let rssAfterWarmup = 0;
    /** The daemon's RSS at every tenth of the run, in MB: flat once its caches are full, or it leaks. */
    const rssSeries: number[] = [];
    const started = performance.now();
    const worker = async () => {
      while (next < opts.requests) {
        const n = next++;
        if (n === Math.floor(opts.requests / 10)) rssAfterWarmup = rssOf(child.pid as number).rss;
        if (n % Math.max(1, Math.floor(opts.requests / 10)) === 0) rssSeries.push(mb(rssOf(child.pid as number).rss));
        const kind = soakKindOf(n);
        const { text, authenticated } = soakRequest(kind, n);
        const t = performance.now();
        const answer = await send(url, text, authenticated ? token : undefined);
        latencies.push(performance.now() - t);
        count(answers, `${kind} ${answer}`);
        if (!rightAnswers[kind].includes(answer)) count(falseFailures, `${kind} ${answer}`);
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency }, worker));
    const seconds = (performance.now() - started) / 1000;
    const health = (await (await fetch(`${url}/healthz`)).json()) as { inFlight: number };
    const memory = rssOf(child.pid as number);
    child.kill('SIGTERM');
    await once(child, 'exit');
    return {
      requests: opts.requests,
      concurrency: opts.concurrency,
      seconds: Math.round(seconds),
      requestsPerSecond: Math.round((opts.requests / seconds) * 10) / 10,
      answeredByKindAndStatus: Object.fromEntries([...answers].sort()),
      falseFailures: Object.fromEntries(falseFailures),
      falseFailureCount: [...falseFailures.values()].reduce((s, x) => s + x, 0),
      latencyMs: summarize(latencies),
      daemonRssMB: { afterWarmup: mb(rssAfterWarmup), peak: mb(memory.peak), atEnd: mb(memory.rss), everyTenth: rssSeries },
      leftAfter: { inFlight: health.inFlight, jobProcesses: processesTagged(runnerId), tempDirs: tempDirsOf(child.pid as number) },
    };
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

async function send(url: string, text: string, token: string | undefined): Promise<string> {
  try {
    const response = await fetch(`${url}/api/v1/requestApproval`, { method: 'POST', body: text, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
    const json = (await response.json()) as { code?: string };
    return response.status === 200 ? '200' : `${response.status} ${json.code ?? ''}`;
  } catch (error) {
    return `connection failed: ${(error as Error).message}`;
  }
}

async function firstLine(child: ReturnType<typeof spawn>): Promise<string> {
  let out = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    out += chunk.toString('utf8');
    if (out.includes('\n')) return out.split('\n')[0] as string;
  }
  throw new Error(`the soak daemon exited before it was ready: ${out}`);
}

/** Resident and peak resident memory of a process, in bytes (Linux /proc). */
function rssOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

function processesTagged(runnerId: string): number {
  let n = 0;
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(`--dynamos-runner=${runnerId}`)) n++;
    } catch {
      // ended while we looked
    }
  }
  return n;
}

function tempDirsOf(pid: number): number {
  return readdirSync(os.tmpdir()).filter((name) => name.startsWith(`dynamos-job-${pid}-`)).length;
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

export type { SoakKind };
