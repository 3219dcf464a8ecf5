import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LocalIssuer } from '../../daemon/local-issuer.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { ExampleCluster } from '../fake-cluster/example-cluster.js';
import { requestBody } from './data-plane-figures.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ChurnOptions {
  readonly requests: number;
  readonly concurrency: number;
  /** Share of requests the client gives up on after a random wait (its connection closes). */
  readonly cancelShare: number;
  readonly settings: Record<string, unknown>;
  readonly keysDir: string;
  readonly decisionLogFile: string;
  readonly cluster: ExampleCluster;
}

/**
 * Issue 13's churn: `requests` requests in cluster mode through the fake API server, some given up
 * by their client, with a `kill -9` of the daemon at the halfway mark and a restart on the same
 * log. Reports what the restart's clean-up left in the cluster, what the end left, and the
 * requests lost: those with a `started` record and no record of how they ended.
 */
export async function benchClusterChurn(opts: ChurnOptions): Promise<Record<string, unknown>> {
  const { world } = opts.cluster.cluster;
  let daemon = await startChild(opts.settings);
  const answers = new Map<string, number>();
  let killedWith = { jobs: 0, pods: 0 };
  let afterRestart = { jobs: 0, pods: 0, containers: 0 };
  let next = 0;
  let restarting: Promise<void> | undefined;
  const started = performance.now();
  const worker = async () => {
    while (next < opts.requests) {
      const n = next++;
      if (n === Math.floor(opts.requests / 2)) restarting ??= (async () => {
        killedWith = { jobs: world.jobs().length, pods: world.pods().length };
        daemon.child.kill('SIGKILL');
        await once(daemon.child, 'exit');
        daemon = await startChild(opts.settings);
        // The new daemon deleted the dead one's Jobs before it listened; their pods go with them.
        await world.until(() => world.pods().length === 0 || undefined, 'the dead daemon\'s pods to go', 60_000).catch(() => undefined);
        afterRestart = { jobs: world.jobs().length, pods: world.pods().length, containers: world.processes().length };
      })();
      if (restarting !== undefined && n >= Math.floor(opts.requests / 2)) await restarting;
      const cancelAfterMs = pseudoRandom(n) < opts.cancelShare ? Math.floor(pseudoRandom(n + 7919) * 400) : undefined;
      count(answers, await send(daemon, n % 2 === 0 ? ['UVA'] : ['VU'], cancelAfterMs));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  daemon.child.kill('SIGTERM');
  await once(daemon.child, 'exit');
  await world.until(() => world.jobs().length + world.pods().length + world.processes().length === 0 || undefined, 'the cluster to be empty', 60_000).catch(() => undefined);
  const records = readFileSync(opts.decisionLogFile, 'utf8').split('\n').filter((line) => line.startsWith('{"at"')).map((line) => JSON.parse(line) as DecisionRecord);
  const ends = new Map<string, string[]>();
  for (const r of records) if (r.outcome.kind !== 'started') ends.set(r.requestId, [...(ends.get(r.requestId) ?? []), r.outcome.kind]);
  const startedIds = records.filter((r) => r.outcome.kind === 'started').map((r) => r.requestId);
  return {
    requests: opts.requests,
    concurrency: opts.concurrency,
    seconds: Math.round(seconds),
    answers: Object.fromEntries([...answers].sort()),
    recordsByOutcome: countBy(records.map((r) => r.outcome.kind)),
    atTheKill: killedWith,
    leftAfterRestartCleanUp: afterRestart,
    leftAtTheEnd: { jobs: world.jobs().length, pods: world.pods().length, secrets: world.secrets().length, containers: world.processes().length },
    requestsLost: startedIds.filter((id) => (ends.get(id) ?? []).length === 0).length,
    requestsEndedTwice: startedIds.filter((id) => (ends.get(id) ?? []).length > 1).length,
    targets: { leftAfterRestartCleanUp: 0, requestsLost: 0 },
    fakeClusterErrors: world.errors().length,
  };
}

interface Child {
  readonly child: ChildProcess;
  readonly url: string;
  readonly token: string;
}

async function startChild(settings: Record<string, unknown>): Promise<Child> {
  const child = spawn(process.execPath, [path.join(here, 'soak-daemon-child.js'), JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
    out += chunk.toString('utf8');
    if (out.includes('\n')) break;
  }
  const url = out.split('\n')[0]?.split(' ')[1];
  if (url === undefined || !url.startsWith('http')) throw new Error(`the daemon did not start: ${out}`);
  const issuer = await LocalIssuer.read(settings['keysDir'] as string);
  return { child, url, token: await issuer.mint({ user: 'analyst@uva.example', now: Date.now(), ttlMs: 3_600_000 }) };
}

async function send(daemon: Child, providers: string[], cancelAfterMs: number | undefined): Promise<string> {
  const controller = new AbortController();
  const timer = cancelAfterMs === undefined ? undefined : setTimeout(() => controller.abort(), cancelAfterMs);
  try {
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(requestBody(providers, { aggregate: false })), headers: { authorization: `Bearer ${daemon.token}` }, signal: controller.signal });
    const json = (await response.json()) as { code?: string };
    return response.status === 200 ? '200' : `${response.status} ${json.code ?? ''}`;
  } catch (error) {
    return controller.signal.aborted ? 'given up by the client' : `connection lost (${(error as Error).message})`;
  } finally {
    clearTimeout(timer);
  }
}

/** The same "random" choices in every run. */
function pseudoRandom(n: number): number {
  const x = Math.sin(n * 12.9898) * 43758.5453;
  return x - Math.floor(x);
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts = new Map<string, number>();
  for (const v of values) count(counts, v);
  return Object.fromEntries([...counts].sort());
}
