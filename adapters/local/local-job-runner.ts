import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Deployment, DeploymentResult, JobReport, JobRunner, JobSpec, JobStatus, PartyResult, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { parseSettings } from '../../knowledge/problems.js';
import type { JobStats } from '../../services/job/job-protocol.js';
import type { StreamTarget } from '../../services/sidecar/send-stream.js';
import type { LocalJobRunnerConfig } from './config.js';
import { DataPlaneCredentials } from './data-plane-credentials.js';
import { duckdbMemoryLimitOf, localJobRunnerConfigSchema, v8HeapMiBOf } from './config.js';
import type { JobProcess } from './job-process.js';
import { describeExit } from './job-process.js';
import { ResultCollector } from './result-collector.js';
import { TableCatalog } from './table-catalog.js';
import type { JobCgroupsProbe, JobGroup } from './job-memory-cgroup.js';
import { detectJobCgroups } from './job-memory-cgroup.js';
import { makeJobTempDir, removeDir, sweepOrphanedTempDirs } from './temp-dirs.js';
import { WarmPool } from './warm-pool.js';

export interface LocalJobRunnerDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The data plane's certificates; a CA of the runner's own when absent. */
  readonly credentials?: DataPlaneCredentials;
}

/** What every job of one deployment is given alike. */
interface Assignment {
  readonly threads: number;
  readonly deadlineAt: number;
  readonly credentials: DataPlaneCredentials;
  readonly resultLimit?: ResultLimit;
}

interface Stop {
  readonly status: JobStatus;
  readonly code: string;
  readonly message: string;
}

interface JobRun {
  readonly spec: JobSpec;
  readonly process: JobProcess;
  readonly takenAt: number;
  tempDir?: string;
  /** The job's OS memory group, where the machine allows one. */
  memoryGroup?: Promise<JobGroup | undefined>;
  assignedAt?: number;
  /** Why the runner ended the job, when it did. */
  stoppedAs?: Stop;
}

/**
 * JobRunner on one machine: each job is a fresh OS process in its own process group, used once,
 * killed with its group at the deadline or on cancel; data between parties goes through the jobs'
 * sidecars over loopback. Nothing outlives a deployment: processes, sockets and temp directories
 * are all gone when `run` returns.
 */
export class LocalJobRunner implements JobRunner {
  /** Tags every job process's command line, so tests can prove none outlived its deployment. */
  readonly runnerId = randomUUID();
  /**
   * Emits `jobAssigned` ({ name, party, pid }) when a job process receives its job, `jobAccepting`
   * ({ name, party, address }) when a job with inputs listens for them, `jobEnded`
   * (the JobReport) when it is gone, and `deploymentEnded` ({ requestId }) once everything of a
   * deployment is cleaned up: what an operator or a test can watch.
   */
  readonly events = new EventEmitter();
  /** Resolves with the temp directories of dead runners this runner removed when it started. */
  readonly swept: Promise<string[]>;
  private readonly pool: WarmPool;
  private readonly tempRoot: string;
  private readonly live = new Set<JobProcess>();
  private readonly catalog = new TableCatalog();
  private readonly jobThreads: number | undefined;
  private readonly jobMemoryBytes: number;
  /** The OS memory limit of jobs, or why there is none. */
  private readonly memoryGroups: Promise<JobCgroupsProbe>;
  /** The certificates jobs and the result collector show each other. */
  private readonly credentials: Promise<DataPlaneCredentials>;
  private closed = false;

  constructor(config: LocalJobRunnerConfig, private readonly deps: LocalJobRunnerDeps) {
    const c = parseSettings(localJobRunnerConfigSchema, config, 'the job runner config');
    this.tempRoot = c.tempRoot ?? os.tmpdir();
    this.jobThreads = c.jobThreads;
    const env = { DYNAMOS_JOB_MEMORY_LIMIT: duckdbMemoryLimitOf(c) };
    this.pool = new WarmPool(c.warmProcesses, { runnerId: this.runnerId, env, heapMiB: v8HeapMiBOf(c) }, deps);
    this.jobMemoryBytes = c.jobMemoryMiB * 2 ** 20;
    this.memoryGroups = c.jobMemoryCgroup === 'off'
      ? Promise.resolve({ kind: 'unavailable', reason: 'turned off (runner.jobMemoryCgroup: off)' })
      : openJobMemoryGroups({ runnerId: this.runnerId, ...(c.jobCgroupParent === undefined ? {} : { parent: c.jobCgroupParent }) }, deps.logger);
    this.credentials = deps.credentials === undefined ? DataPlaneCredentials.ephemeral() : Promise.resolve(deps.credentials);
    this.credentials.catch(() => undefined);
    this.swept = sweepOrphanedTempDirs(this.tempRoot).then((removed) => {
      if (removed.length > 0) deps.logger.warn('removed temp directories of job runners that died', { removed });
      return removed;
    });
  }

  async run(deployment: Deployment, signal?: AbortSignal): Promise<DeploymentResult> {
    if (this.closed) throw new DynamosError('INTERNAL', 'the job runner is closed', { retryable: false });
    if (signal?.aborted) throw cancelled(deployment);
    const runs = deployment.jobs.map((spec): JobRun => {
      const process = this.pool.take();
      this.live.add(process);
      void process.exited.then(() => this.live.delete(process));
      return { spec, process, takenAt: performance.now(), memoryGroup: this.placeInMemoryGroup(process) };
    });
    const byParty = new Map(runs.map((r) => [r.spec.party, r]));
    // The jobs reading data run at once: share the cores among them instead of oversubscribing.
    const readers = Math.max(1, deployment.jobs.filter((j) => j.tables.length > 0).length);
    const threads = this.jobThreads ?? Math.max(1, Math.floor(os.availableParallelism() / readers));
    const toRequester = runs.filter((r) => r.spec.output.to === 'requester');
    const stopAll = (why: Stop) => runs.forEach((r) => stop(r, why));
    const credentials = await this.credentials;
    const deadlineAt = Date.now() + deployment.deadlineMs;
    const collector = await ResultCollector.listen(
      { host: '127.0.0.1', tls: await credentials.for({ kind: 'collector' }), requestId: deployment.requestId },
      toRequester.map((r) => ({ party: r.spec.party, count: r.spec.output.to === 'requester' ? r.spec.output.streams : 0 })),
      deployment.resultLimit,
      // All or nothing: a request past its limit gets no results, so stop every job at once.
      (error) => stopAll({ status: 'failed', code: error.code, message: error.message }),
    );
    const deadline = this.deps.clock.setTimeout(() => stopAll({ status: 'timedOut', code: 'JOB_TIMEOUT', message: `deadline of ${deployment.deadlineMs} ms passed` }), deployment.deadlineMs);
    const onAbort = () => stopAll({ status: 'cancelled', code: 'JOB_CANCELLED', message: 'cancelled' });
    signal?.addEventListener('abort', onAbort);
    try {
      // Each consumer job's sidecar must listen before its producers are told where to send.
      for (const run of consumersFirst(runs, byParty)) {
        if (run.stoppedAs !== undefined) continue;
        await this.assign(run, byParty, collector, { threads, deadlineAt, credentials, ...(deployment.resultLimit === undefined ? {} : { resultLimit: deployment.resultLimit }) }).catch((error: unknown) => {
          stop(run, { status: 'failed', code: 'JOB_FAILED', message: (error as Error).message });
          failDependents(run, byParty);
        });
      }
      const reports = withLimitDetails(await Promise.all(runs.map((run) => this.finish(run, byParty, collector))), deployment.resultLimit);
      if (signal?.aborted) throw cancelled(deployment);
      const results: PartyResult[] = [];
      const overLimit = reports.some((r) => r.error?.code === 'RESULT_TOO_LARGE');
      for (const run of overLimit ? [] : toRequester) {
        if (reports[runs.indexOf(run)]?.status === 'succeeded') results.push(...collector.resultsOf(run.spec.party));
      }
      return { results, jobs: reports };
    } finally {
      this.deps.clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      runs.forEach((r) => r.process.kill());
      await Promise.all(runs.map((r) => r.process.exited));
      await Promise.all(runs.map((r) => r.memoryGroup?.then((group) => group?.remove()).catch((error: unknown) => this.deps.logger.warn('a job memory group could not be removed', { error: (error as Error).message }))));
      await Promise.all(runs.map((r) => (r.tempDir === undefined ? undefined : removeDir(r.tempDir))));
      await collector.close();
      // Refill only now, so starting the next warm processes does not take CPU from this request.
      this.pool.refill();
      this.events.emit('deploymentEnded', { requestId: deployment.requestId });
    }
  }

  /** Resolves when the warm pool is full of ready processes, so the next job starts at once. */
  whenWarm(): Promise<void> {
    return this.pool.whenWarm();
  }

  /** How a job's memory is bounded here: DuckDB's and V8's limits, and the OS limit or why there is none. */
  async memoryBounds(): Promise<{ readonly jobMemoryMiB: number; readonly osLimit: string }> {
    const probe = await this.memoryGroups;
    return { jobMemoryMiB: this.jobMemoryBytes / 2 ** 20, osLimit: probe.kind === 'usable' ? `cgroup ${probe.groups.kind} (${probe.groups.path})` : `none: ${probe.reason}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
    await this.catalog.close();
    for (const p of this.live) p.kill();
    await Promise.all([...this.live].map((p) => p.exited));
    const probe = await this.memoryGroups;
    if (probe.kind === 'usable') await probe.groups.close();
  }

  /** Puts a job's process in its own OS memory group, where the machine allows one; a process that cannot be placed is ended. */
  private async placeInMemoryGroup(process: JobProcess): Promise<JobGroup | undefined> {
    const probe = await this.memoryGroups;
    if (probe.kind !== 'usable' || process.pid === undefined) return undefined;
    try {
      return await probe.groups.place(process.pid, this.jobMemoryBytes);
    } catch (error) {
      // A job the OS cannot bound does not run unbounded.
      this.deps.logger.warn('a job process could not be given its memory limit; it is ended', { error: (error as Error).message });
      process.kill();
      return undefined;
    }
  }

  private async assign(run: JobRun, byParty: Map<string, JobRun>, collector: ResultCollector, how: Assignment): Promise<void> {
    const { spec } = run;
    const tableReads = await this.catalog.readsFor(spec.tables);
    const tls = await how.credentials.for({ kind: 'party', party: spec.party });
    await run.process.ready;
    await run.memoryGroup;
    let output: StreamTarget;
    if (spec.output.to === 'requester') output = { address: collector.address, identity: { kind: 'collector' } };
    else {
      const consumer = byParty.get(spec.output.party);
      const at = consumer === undefined ? undefined : await consumer.process.message('accepting');
      if (at === undefined) throw new Error(`no job runs at ${spec.output.party}, where ${spec.party} must send its data`);
      output = { address: at.address, identity: { kind: 'party', party: spec.output.party } };
    }
    run.tempDir = await makeJobTempDir(this.tempRoot);
    run.assignedAt = performance.now();
    const limit = spec.output.to === 'requester' && how.resultLimit !== undefined ? { resultLimit: how.resultLimit } : {};
    run.process.assign({ type: 'assign', spec, tempDir: run.tempDir, tls, listenHost: '127.0.0.1', deadlineAt: how.deadlineAt, output, threads: how.threads, tableReads, ...limit });
    this.events.emit('jobAssigned', { name: spec.name, party: spec.party, pid: run.process.pid });
    if (spec.inputs.length > 0) {
      const at = await run.process.message('accepting');
      this.events.emit('jobAccepting', { name: spec.name, party: spec.party, address: at.address });
    }
  }

  private async finish(run: JobRun, byParty: Map<string, JobRun>, collector: ResultCollector): Promise<JobReport> {
    const exit = await run.process.exited;
    const endedAt = performance.now();
    const done = await run.process.message('done').catch(() => undefined);
    const failed = done === undefined ? await run.process.message('failed').catch(() => undefined) : undefined;
    let status: JobStatus = done !== undefined ? 'succeeded' : (run.stoppedAs?.status ?? 'failed');
    let error =
      done !== undefined ? undefined
      : failed !== undefined ? { code: failed.code, message: failed.message }
      : run.stoppedAs !== undefined ? { code: run.stoppedAs.code, message: run.stoppedAs.message }
      : { code: 'JOB_FAILED', message: `job process ended (${describeExit(exit)})` };
    // What a crashed process printed (a stack with host paths, a native error) is for the operator only.
    if (done === undefined && failed === undefined && run.stoppedAs === undefined && run.process.stderr !== '') {
      this.deps.logger.warn('a job process ended without a result', { job: run.spec.name, party: run.spec.party, exit: describeExit(exit), stderr: run.process.stderr });
    }
    if (status === 'succeeded' && run.spec.output.to === 'requester') {
      await collector.streamsOf(run.spec.party).catch((e: unknown) => {
        status = 'failed';
        error = { code: e instanceof DynamosError ? e.code : 'STREAM_INVALID', message: (e as Error).message };
      });
    }
    if (status !== 'succeeded' && done === undefined && failed === undefined && run.stoppedAs === undefined && (await oomKilled(run))) {
      error = { code: 'JOB_OUT_OF_MEMORY', message: `the job passed its memory limit of ${this.jobMemoryBytes / 2 ** 20} MiB and the operating system stopped it` };
    }
    if (status !== 'succeeded') failDependents(run, byParty);
    const stats: JobStats | undefined = done?.stats ?? failed?.stats;
    const readyAt = run.process.readyAt ?? endedAt;
    const report: JobReport = {
      name: run.spec.name,
      party: run.spec.party,
      status,
      ...(error === undefined ? {} : { error }),
      startMs: Math.max(0, readyAt - Math.max(run.takenAt, run.process.spawnedAt)),
      durationMs: run.assignedAt === undefined ? 0 : endedAt - run.assignedAt,
      cpuSeconds: stats?.cpuSeconds ?? 0,
      maxRssBytes: stats?.maxRssBytes ?? 0,
      rowsOut: stats?.rowsOut ?? 0,
      bytesOut: stats?.bytesOut ?? 0,
      stages: stats?.stages ?? [],
    };
    this.events.emit('jobEnded', report);
    return report;
  }
}

async function oomKilled(run: JobRun): Promise<boolean> {
  const group = await run.memoryGroup?.catch(() => undefined);
  return (await group?.oomKilled().catch(() => false)) ?? false;
}

/** The OS memory groups of jobs, or why there are none (logged once, at start). */
async function openJobMemoryGroups(opts: { runnerId: string; parent?: string }, logger: Logger): Promise<JobCgroupsProbe> {
  const probe = await detectJobCgroups(opts, { logger });
  if (probe.kind === 'unavailable') {
    logger.warn('jobs run without an OS memory limit (DuckDB\'s and V8\'s limits still hold)', { reason: probe.reason });
    return probe;
  }
  const removed = await probe.groups.sweepOrphaned();
  if (removed.length > 0) logger.warn('removed the job memory groups of job runners that died', { removed });
  return probe;
}

function stop(run: JobRun, why: Stop): void {
  if (!run.process.alive) return;
  run.stoppedAs ??= why;
  run.process.kill();
}

/** The jobs consuming `run`'s output cannot finish without it: end them too. */
function failDependents(run: JobRun, byParty: Map<string, JobRun>): void {
  if (run.spec.output.to !== 'party') return;
  const consumer = byParty.get(run.spec.output.party);
  if (consumer === undefined) return;
  stop(consumer, { status: 'failed', code: 'JOB_FAILED', message: `input from ${run.spec.party} failed` });
  failDependents(consumer, byParty);
}

/** A report of a job stopped at the result limit names the limit, so the requester can read it. */
function withLimitDetails(reports: JobReport[], limit: ResultLimit | undefined): JobReport[] {
  if (limit === undefined) return reports;
  return reports.map((r) => (r.error?.code === 'RESULT_TOO_LARGE' ? { ...r, error: { ...r.error, details: { limit: { maxRows: limit.maxRows, maxBytes: limit.maxBytes } } } } : r));
}

/** Runs ordered so that every job comes after the job its output goes to. */
function consumersFirst(runs: readonly JobRun[], byParty: Map<string, JobRun>): JobRun[] {
  const depth = (run: JobRun, seen = new Set<JobRun>()): number => {
    if (run.spec.output.to !== 'party' || seen.has(run)) return 0;
    const next = byParty.get(run.spec.output.party);
    return next === undefined ? 0 : 1 + depth(next, seen.add(run));
  };
  return [...runs].sort((a, b) => depth(a) - depth(b));
}

function cancelled(deployment: Deployment): DynamosError {
  return new DynamosError('JOB_CANCELLED', `request ${deployment.requestId} was cancelled`, { retryable: false });
}
