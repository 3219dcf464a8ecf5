/**
 * Entry point of a single-use job process (docs/architecture.md#single-use-jobs-embedded-default). The process loads the database engine,
 * runs the one job it is assigned, reports, and exits. It never takes a second job.
 *
 * Under the local runner the assignment and the report travel over Node IPC, and the process
 * exits when its runner goes away. In a Kubernetes pod the assignment is a file and the report
 * the container's termination message (pod-assignment.ts).
 */
import type { DuckDBInstance } from '@duckdb/node-api';
import type { DynamosError } from '../../knowledge/errors.js';
import { createEngine } from '../workspace/workspace.js';
import type { JobMessage, JobStats, RunnerMessage } from './job-protocol.js';
import type { PodEnvironment } from './pod-assignment.js';
import { podEnvironmentOf, readPodAssignment, writeTerminationMessage } from './pod-assignment.js';
import { runJob } from './run-job.js';
import { warmUpSidecar } from '../sidecar/output-server.js';

const exitWhenOrphaned = 70;

function send(message: JobMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

/** How the job hears its assignment and tells its outcome. */
interface Channel {
  assignment(): Promise<RunnerMessage>;
  accepting(address: string): void;
  report(message: JobMessage): Promise<void>;
}

function ipcChannel(): Channel {
  process.on('disconnect', () => process.exit(exitWhenOrphaned));
  const assignment = new Promise<RunnerMessage>((resolve) => process.once('message', (m) => resolve(m as RunnerMessage)));
  return {
    assignment: async () => {
      await send({ type: 'ready' });
      return assignment;
    },
    accepting: (address) => void send({ type: 'accepting', address }),
    report: send,
  };
}

function podChannel(pod: PodEnvironment): Channel {
  return {
    assignment: () => Promise.resolve(readPodAssignment(pod)),
    accepting: () => undefined,
    report: (message) => Promise.resolve(writeTerminationMessage(pod, message)),
  };
}

async function main(): Promise<void> {
  const pod = podEnvironmentOf(process.env);
  const channel = pod === undefined ? ipcChannel() : podChannel(pod);
  const memoryLimit = process.env['DYNAMOS_JOB_MEMORY_LIMIT'];
  const engine: DuckDBInstance = await createEngine(memoryLimit ? { memoryLimit } : {});
  await warmUpSidecar();
  const job = await channel.assignment().catch(async (error: unknown) => {
    // A pod's assignment file that cannot be read or placed: said where the runner reads it.
    const stats = { rowsOut: 0, bytesOut: 0, streamsOut: 0, stages: [], cpuSeconds: 0, maxRssBytes: 0 };
    await channel.report({ type: 'failed', code: 'JOB_FAILED', message: `the job's assignment cannot be used: ${(error as Error).message}`, stats });
    process.exit(1);
  });
  const cpuAtStart = process.cpuUsage();
  const stats = (out: Omit<JobStats, 'cpuSeconds' | 'maxRssBytes'>): JobStats => {
    const cpu = process.cpuUsage(cpuAtStart);
    return { ...out, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  };
  try {
    await runJob(engine, job, {
      accepting: channel.accepting,
      // Said before the sidecar closes: the runner need not wait for a busy consumer to hang up.
      delivered: (outcome) => channel.report({ type: 'done', stats: stats(outcome) }),
    });
    process.exit(0);
  } catch (error) {
    const failure = error as DynamosError;
    await channel.report({ type: 'failed', code: failure.code, message: failure.message, stats: stats({ rowsOut: 0, bytesOut: 0, streamsOut: 0, stages: [] }) });
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`job process failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
