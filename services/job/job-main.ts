/**
 * Entry point of a single-use job process (DESIGN §6). The process loads the database engine,
 * says `ready`, runs the one job it is assigned, reports, and exits. It never takes a second job,
 * and it exits when its runner goes away.
 */
import type { DynamosError } from '../../knowledge/errors.js';
import { createEngine } from '../workspace/workspace.js';
import type { JobMessage, JobStats, RunnerMessage } from './job-protocol.js';
import { runJob } from './run-job.js';
import { warmUpSidecar } from '../sidecar/output-server.js';

const exitWhenOrphaned = 70;

function send(message: JobMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) resolve();
    else process.send(message, undefined, {}, () => resolve());
  });
}

async function main(): Promise<void> {
  process.on('disconnect', () => process.exit(exitWhenOrphaned));
  const memoryLimit = process.env['DYNAMOS_JOB_MEMORY_LIMIT'];
  const engine = await createEngine(memoryLimit ? { memoryLimit } : {});
  const assignment = new Promise<RunnerMessage>((resolve) => process.once('message', (m) => resolve(m as RunnerMessage)));
  await warmUpSidecar();
  await send({ type: 'ready' });
  const job = await assignment;
  const cpuAtStart = process.cpuUsage();
  const stats = (out: Omit<JobStats, 'cpuSeconds' | 'maxRssBytes'>): JobStats => {
    const cpu = process.cpuUsage(cpuAtStart);
    return { ...out, cpuSeconds: (cpu.user + cpu.system) / 1e6, maxRssBytes: process.resourceUsage().maxRSS * 1024 };
  };
  try {
    await runJob(engine, job, {
      accepting: (address) => void send({ type: 'accepting', address }),
      // Said before the sidecar closes: the runner need not wait for a busy consumer to hang up.
      delivered: (outcome) => send({ type: 'done', stats: stats(outcome) }),
    });
    process.exit(0);
  } catch (error) {
    const failure = error as DynamosError;
    await send({ type: 'failed', code: failure.code, message: failure.message, stats: stats({ rowsOut: 0, bytesOut: 0, streamsOut: 0, stages: [] }) });
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`job process failed to start: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
