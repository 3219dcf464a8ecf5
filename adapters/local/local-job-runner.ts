import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import os from 'node:os';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Deployment, DeploymentResult, JobReport, JobRunner, JobStatus, PartyResult, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { parseSettings } from '../../knowledge/problems.js';
import type { JobStats } from '../../services/job/job-protocol.js';
import type { LocalJobRunnerConfig } from './config.js';
import { DataPlaneCredentials } from './data-plane-credentials.js';
import { duckdbMemoryLimitOf, localJobRunnerConfigSchema, v8HeapMiBOf } from './config.js';
import type { JobProcess } from './job-process.js';
import { describeExit } from './job-process.js';
import { ResultCollector } from './result-collector.js';
import { TableCatalog } from './table-catalog.js';
import type { JobCgroupsProbe } from './job-memory-cgroup.js';
import { JobPools } from './job-pools.js';
import type { Placement } from './site-placement.js';
import { JobPlacement, openJobMemoryGroups } from './site-placement.js';
import type { SiteEnvelopes, SitesSettingsInput } from './sites/index.js';
import { openSiteEnvelopes, sitesSettingsSchema } from './sites/index.js';
import { makeJobTempDir, removeDir, sweepOrphanedTempDirs } from './temp-dirs.js';
import type { JobRun, Stop } from './job-runs.js';
import { failDependents, failProducers, producersFirst, stop, withLimitDetails } from './job-runs.js';

export interface LocalJobRunnerDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The data plane's certificates; a CA of the runner's own when absent. */
  readonly credentials?: DataPlaneCredentials;
  /** Each party's site on this machine: its CPU, memory and network envelope (adapters/local/sites). @default none */
  readonly sites?: SitesSettingsInput;
}

/** What every job of one deployment is given alike. */
interface Assignment {
  readonly threads: number;
  readonly deadlineAt: number;
  readonly credentials: DataPlaneCredentials;
  readonly sites: SiteEnvelopes;
  readonly resultLimit?: ResultLimit;
}

/**
 * JobRunner on one machine: each job is a fresh OS process in its own process group, used once,
 * killed with its group at the deadline or on cancel; data between parties goes through the jobs'
 * sidecars, over loopback or, for parties whose site has a network, over the sites' bridge. A job
 * runs inside its party's site (CPU quota, memory limit, namespace) where one is declared. Nothing
 * outlives a deployment: processes, sockets and temp directories are all gone when `run` returns.
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
  private readonly pools: JobPools;
  private readonly placement: JobPlacement;
  /** The parties' site envelopes: opened once, closed with the runner. */
  private readonly sites: Promise<SiteEnvelopes>;
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
    const sites = parseSettings(sitesSettingsSchema, deps.sites ?? {}, 'the sites config');
    this.sites = openSiteEnvelopes(sites, { runnerId: this.runnerId, logger: deps.logger, clock: deps.clock });
    this.sites.catch(() => undefined);
    const sizes = { shared: c.warmProcesses, perNetworkedSite: c.warmProcessesPerNetworkedSite };
    this.pools = new JobPools(sizes, { runnerId: this.runnerId, env, heapMiB: v8HeapMiBOf(c) }, deps, this.sites, Object.keys(sites));
    this.jobMemoryBytes = c.jobMemoryMiB * 2 ** 20;
    this.memoryGroups = c.jobMemoryCgroup === 'off'
      ? Promise.resolve({ kind: 'unavailable', reason: 'turned off (runner.jobMemoryCgroup: off)' })
      : openJobMemoryGroups({ runnerId: this.runnerId, ...(c.jobCgroupParent === undefined ? {} : { parent: c.jobCgroupParent }) }, deps.logger);
    this.placement = new JobPlacement(this.memoryGroups, this.sites, sites, this.jobMemoryBytes, deps.logger);
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
    const sites = await this.sites;
    await this.pools.ready;
    const runs = deployment.jobs.map((spec): JobRun => {
      const process = this.pools.take(spec.party);
      this.live.add(process);
      void process.exited.then(() => this.live.delete(process));
      return { spec, process, takenAt: performance.now(), placement: this.placement.place(process, spec.party) };
    });
    const byParty = new Map(runs.map((r) => [r.spec.party, r]));
    // The jobs reading data run at once: share the cores among them instead of oversubscribing.
    const readers = Math.max(1, deployment.jobs.filter((j) => j.tables.length > 0).length);
    const threads = this.jobThreads ?? Math.max(1, Math.floor(os.availableParallelism() / readers));
    const toRequester = runs.filter((r) => r.spec.output.to === 'requester');
    const stopAll = (why: Stop) => runs.forEach((r) => stop(r, why));
    const credentials = await this.credentials;
    const deadlineAt = Date.now() + deployment.deadlineMs;
    const collector = new ResultCollector(
      { tls: await credentials.for({ kind: 'collector' }), requestId: deployment.requestId, deadlineAt },
      deployment.resultLimit,
      // All or nothing: a request past its limit gets no results, so stop every job at once.
      (error) => stopAll({ status: 'failed', code: error.code, message: error.message }),
    );
    const deadline = this.deps.clock.setTimeout(() => stopAll({ status: 'timedOut', code: 'JOB_TIMEOUT', message: `deadline of ${deployment.deadlineMs} ms passed` }), deployment.deadlineMs);
    const onAbort = () => stopAll({ status: 'cancelled', code: 'JOB_CANCELLED', message: 'cancelled' });
    signal?.addEventListener('abort', onAbort);
    try {
      // A consumer is told where its producers' sidecars listen, so producers start first.
      for (const run of producersFirst(runs, byParty)) {
        if (run.stoppedAs !== undefined) continue;
        await this.assign(run, byParty, collector, { threads, deadlineAt, credentials, sites, ...(deployment.resultLimit === undefined ? {} : { resultLimit: deployment.resultLimit }) }).catch((error: unknown) => {
          stop(run, { status: 'failed', code: 'JOB_FAILED', message: (error as Error).message });
          failDependents(run, byParty);
          failProducers(run, runs);
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
      await Promise.all(runs.map((r) => r.placement.then(({ group }) => group?.remove()).catch((error: unknown) => this.deps.logger.warn('a job memory group could not be removed', { error: (error as Error).message }))));
      await Promise.all(runs.map((r) => (r.tempDir === undefined ? undefined : removeDir(r.tempDir))));
      // Refill only now, so starting the next warm processes does not take CPU from this request.
      this.pools.refill();
      this.events.emit('deploymentEnded', { requestId: deployment.requestId });
    }
  }

  /** Resolves when the warm pool is full of ready processes, so the next job starts at once. */
  whenWarm(): Promise<void> {
    return this.pools.whenWarm();
  }

  /** The parties' site envelopes, once opened: for the metrics source (`usage`) and /healthz (`status`). */
  siteEnvelopes(): Promise<SiteEnvelopes> {
    return this.sites;
  }

  /** How a job's memory is bounded here: DuckDB's and V8's limits, and the OS limit or why there is none. */
  async memoryBounds(): Promise<{ readonly jobMemoryMiB: number; readonly osLimit: string }> {
    const probe = await this.memoryGroups;
    return { jobMemoryMiB: this.jobMemoryBytes / 2 ** 20, osLimit: probe.kind === 'usable' ? `cgroup ${probe.groups.kind} (${probe.groups.path})` : `none: ${probe.reason}` };
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.pools.close();
    await this.catalog.close();
    for (const p of this.live) p.kill();
    await Promise.all([...this.live].map((p) => p.exited));
    const probe = await this.memoryGroups;
    if (probe.kind === 'usable') await probe.groups.close();
    // Last: the jobs' memory groups are inside the sites' groups, and jobs ran in their namespaces.
    await this.sites.then((sites) => sites.close(), () => undefined);
  }

  private async assign(run: JobRun, byParty: Map<string, JobRun>, collector: ResultCollector, how: Assignment): Promise<void> {
    const { spec } = run;
    const tableReads = await this.catalog.readsFor(spec.tables);
    const tls = await how.credentials.for({ kind: 'party', party: spec.party });
    await run.process.ready;
    const placed = await run.placement;
    if (placed.failure !== undefined) throw new Error(placed.failure);
    const inputs = await Promise.all(
      spec.inputs.map(async (party) => {
        const producer = byParty.get(party);
        const at = producer === undefined ? undefined : await producer.process.message('accepting');
        if (at === undefined) throw new Error(`no job runs at ${party}, whose data ${spec.party} needs`);
        return { party, address: at.address };
      }),
    );
    run.tempDir = await makeJobTempDir(this.tempRoot);
    run.assignedAt = performance.now();
    const limit = spec.output.to === 'requester' && how.resultLimit !== undefined ? { resultLimit: how.resultLimit } : {};
    run.process.assign({ type: 'assign', spec, tempDir: run.tempDir, tls, listenHost: how.sites.listenAddress(spec.party), deadlineAt: how.deadlineAt, inputs, threads: how.threads, tableReads, ...limit });
    this.events.emit('jobAssigned', { name: spec.name, party: spec.party, pid: run.process.pid });
    const at = await run.process.message('accepting');
    this.events.emit('jobAccepting', { name: spec.name, party: spec.party, address: at.address });
    if (spec.output.to === 'requester') collector.fetchFrom(spec.party, at.address, spec.output.streams);
  }

  /** Why the OS stopped the job for memory (its own limit or its site's), or undefined when it did not. */
  private async outOfMemory(run: JobRun): Promise<string | undefined> {
    const { group } = await run.placement.catch((): Placement => ({}));
    return this.placement.outOfMemory(run.spec.party, group);
  }

  private async finish(run: JobRun, byParty: Map<string, JobRun>, collector: ResultCollector): Promise<JobReport> {
    // A job that delivered says `done` before its sidecar closes (which waits for the consumer to
    // hang up); the runner ends what is left of it with the deployment.
    const done = await Promise.race([run.process.message('done').catch(() => undefined), run.process.exited.then(() => run.process.message('done').catch(() => undefined))]);
    const endedAt = performance.now();
    const exit = done === undefined ? await run.process.exited : { code: 0, signal: null };
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
    const outOfMemory = status !== 'succeeded' && done === undefined && failed === undefined && run.stoppedAs === undefined ? await this.outOfMemory(run) : undefined;
    if (outOfMemory !== undefined) error = { code: 'JOB_OUT_OF_MEMORY', message: outOfMemory };
    if (status !== 'succeeded') {
      failDependents(run, byParty);
      failProducers(run, [...byParty.values()]);
    }
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

function cancelled(deployment: Deployment): DynamosError {
  return new DynamosError('JOB_CANCELLED', `request ${deployment.requestId} was cancelled`, { retryable: false });
}
