import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { V1Job } from '@kubernetes/client-node';
import { DynamosError, isErrorCode } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Deployment, DeploymentResult, JobReport, JobRunner, JobSpec, PartyResult } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { parseSettings } from '../../knowledge/problems.js';
import type { SitesSettings, SitesSettingsInput } from '../../knowledge/site-settings.js';
import { sitesSettingsSchema } from '../../knowledge/site-settings.js';
import type { RunnerMessage } from '../../services/job/job-protocol.js';
import { DataPlaneCredentials } from '../local/data-plane-credentials.js';
import type { Stop } from '../local/job-runs.js';
import { withLimitDetails } from '../local/job-runs.js';
import { ResultCollector } from '../local/result-collector.js';
import { describe, reasonOf, statusOf, withRetries } from './api-retry.js';
import { Clusters } from './clusters.js';
import type { KubernetesRunnerConfig, KubernetesRunnerConfigInput } from './config.js';
import { kubernetesRunnerConfigSchema } from './config.js';
import { assignmentSecret, jobManifest, podPaths } from './job-manifest.js';
import type { Verdict } from './job-verdict.js';
import type { JobState } from './namespace-watch.js';
import { containerStarted, podIpOf, verdictOf } from './job-verdict.js';
import { jobNameOf, labels, namespaceOf } from './names.js';
import { failDependents, failProducers, settle, type ClusterRun } from './cluster-runs.js';
import { checkNamespacesApart, deleteEarlierDaemonsJobs } from './party-namespaces.js';

export interface KubernetesJobRunnerDeps {
  readonly logger: Logger;
  readonly clock: Clock;
  /** The data plane's certificates; a CA of the runner's own when absent. */
  readonly credentials?: DataPlaneCredentials;
  readonly sites?: SitesSettingsInput;
  /** The marketplace's parties at start: their namespaces are cleaned of Jobs left by a daemon before this one. */
  readonly parties?: readonly string[];
  /** Where the marketplace's table files resolve on the daemon; inside a pod they resolve in the same place of the tables volume. */
  readonly dataDir?: string;
  /** The memory of a job whose site sets none, in MiB. @default 2048 */
  readonly jobMemoryMiB?: number;
}

/** How long the runner keeps trying to delete a finished Job before it leaves it to its TTL. */
const deleteForMs = 30_000;

/**
 * JobRunner for a cluster (docs/designs/013-cluster-mode.md): each party's job is a single-use
 * batch/v1 Job in the party's namespace, its assignment a Secret the Job owns. Consumers reach
 * their producers at the producers' pod IPs over the gRPC data plane with mutual TLS. The runner
 * watches its Jobs and pods, reads each job's outcome from its termination message, and deletes
 * every Job (with its pods and Secret) when the deployment ends.
 */
export class KubernetesJobRunner implements JobRunner {
  /** `jobEnded` (the JobReport) and `deploymentEnded` ({ requestId }), as the local runner emits them. */
  readonly events = new EventEmitter();
  /** Resolves with the Jobs of earlier daemons this runner deleted at start, as `namespace/name`. */
  readonly cleanedUp: Promise<string[]>;
  private readonly config: KubernetesRunnerConfig;
  private readonly sites: SitesSettings;
  private readonly clusters: Clusters;
  private readonly credentials: Promise<DataPlaneCredentials>;
  private closed = false;

  constructor(config: KubernetesRunnerConfigInput, private readonly deps: KubernetesJobRunnerDeps) {
    this.config = parseSettings(kubernetesRunnerConfigSchema, config, 'the kubernetes settings');
    this.sites = parseSettings(sitesSettingsSchema, deps.sites ?? {}, 'the sites config');
    this.clusters = new Clusters(this.config, deps);
    this.credentials = deps.credentials === undefined ? DataPlaneCredentials.ephemeral() : Promise.resolve(deps.credentials);
    this.credentials.catch(() => undefined);
    const parties = [...new Set([...(deps.parties ?? []), ...Object.keys(this.sites)])];
    checkNamespacesApart(parties, this.sites, this.config);
    this.cleanedUp = deleteEarlierDaemonsJobs(parties, { ...deps, sites: this.sites, config: this.config, clusters: this.clusters });
  }

  async run(deployment: Deployment, signal?: AbortSignal): Promise<DeploymentResult> {
    if (this.closed) throw new DynamosError('INTERNAL', 'the job runner is closed', { retryable: false });
    if (signal?.aborted) throw cancelled(deployment);
    // A Job created before the clean-up lists its namespace would be taken for a dead daemon's.
    await this.cleanedUp;
    const credentials = await this.credentials;
    const deadlineAt = Date.now() + deployment.deadlineMs;
    const until = this.deps.clock.now() + deployment.deadlineMs;
    const runs = deployment.jobs.map((spec) => this.follow(spec));
    const byParty = new Map(runs.map((r) => [r.spec.party, r]));
    const stopAll = (why: Stop) => runs.forEach((r) => this.stop(r, why));
    const fetches = new AbortController();
    const collector = new ResultCollector(
      { tls: await credentials.for({ kind: 'collector' }), requestId: deployment.requestId, deadlineAt, waitForReady: true, signal: fetches.signal },
      deployment.resultLimit,
      (error) => stopAll({ status: 'failed', code: error.code, message: error.message }),
    );
    const deadline = this.deps.clock.setTimeout(() => stopAll({ status: 'timedOut', code: 'JOB_TIMEOUT', message: `deadline of ${deployment.deadlineMs} ms passed` }), deployment.deadlineMs);
    const onAbort = () => stopAll({ status: 'cancelled', code: 'JOB_CANCELLED', message: 'cancelled' });
    signal?.addEventListener('abort', onAbort);
    try {
      for (const run of runs) {
        run.launched = this.launch(run, { byParty, collector, credentials, deployment, deadlineAt, until });
        run.launched.catch((error: unknown) => {
          const code = error instanceof DynamosError ? error.code : 'JOB_FAILED';
          this.stop(run, { status: 'failed', code, message: (error as Error).message });
          failDependents(run, byParty, (r, why) => this.stop(r, why));
          failProducers(run, runs, (r, why) => this.stop(r, why));
        });
      }
      const reports = withLimitDetails(await Promise.all(runs.map((run) => this.finish(run, runs, byParty, collector))), deployment.resultLimit);
      if (signal?.aborted) throw cancelled(deployment);
      const overLimit = reports.some((r) => r.error?.code === 'RESULT_TOO_LARGE');
      const results: PartyResult[] = [];
      for (const [i, run] of runs.entries()) {
        if (!overLimit && run.spec.output.to === 'requester' && reports[i]?.status === 'succeeded') results.push(...collector.resultsOf(run.spec.party));
      }
      return { results, jobs: reports };
    } finally {
      this.deps.clock.clearTimeout(deadline);
      signal?.removeEventListener('abort', onAbort);
      fetches.abort();
      await Promise.all(runs.map((run) => this.remove(run)));
      this.events.emit('deploymentEnded', { requestId: deployment.requestId });
    }
  }

  /** Nothing to warm: the cluster starts each job's pod. */
  whenWarm(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    this.clusters.close();
    return Promise.resolve();
  }

  /** The run of one job, following its Job and pods from now on. */
  private follow(spec: JobSpec): ClusterRun {
    const site = this.sites[spec.party];
    const cluster = this.clusters.of(site?.kubernetes?.context);
    const namespace = namespaceOf(spec.party, site);
    const run: ClusterRun = { spec, cluster, namespace, name: jobNameOf(spec.requestId, spec.party), ...settle() };
    const watch = cluster.watch(namespace);
    const onChange = (seen: JobState) => {
      // Only what this Job owns: a stale or planted pod of the same name says nothing of it.
      if (run.uid === undefined) return;
      const state = { job: seen.job?.metadata?.uid === run.uid ? seen.job : undefined, pods: seen.pods.filter((pod) => (pod.metadata?.ownerReferences ?? []).some((o) => o.uid === run.uid)) };
      if (containerStarted(state)) run.runningAt ??= performance.now();
      const ip = podIpOf(state);
      if (ip !== undefined) run.addressKnown(ip.includes(':') ? `[${ip}]:${this.config.dataPlanePort}` : `${ip}:${this.config.dataPlanePort}`);
      const verdict = verdictOf(state, spec.party);
      if (verdict !== undefined) this.end(run, verdict);
    };
    run.unfollow = watch.follow(run.name, onChange);
    run.reread = () => onChange(watch.stateOf(run.name));
    return run;
  }

  /** Creates the Job and its assignment once every producer's pod has an address. */
  private async launch(run: ClusterRun, how: Launch): Promise<void> {
    const { spec } = run;
    const inputs = await Promise.all(
      spec.inputs.map(async (party) => {
        const producer = how.byParty.get(party);
        if (producer === undefined) throw new Error(`no job runs at ${party}, whose data ${spec.party} needs`);
        return { party, address: await producer.address };
      }),
    );
    if (run.verdict.settled) return;
    const site = this.sites[spec.party];
    const assignment = await this.assignmentOf(run, inputs, how);
    const retry = { clock: this.deps.clock, logger: this.deps.logger, until: how.until };
    const body = jobManifest({ spec, namespace: run.namespace, config: this.config, site, deadlineMs: how.deployment.deadlineMs, jobMemoryMiB: this.deps.jobMemoryMiB ?? 2048 });
    run.created = performance.now();
    const job = await withRetries(`create the Job of ${spec.party}`, () => run.cluster.batch.createNamespacedJob({ namespace: run.namespace, body }), retry).catch((error: unknown) => this.existingJob(run, error));
    run.uid = job.metadata?.uid;
    run.reread?.();
    await withRetries(`create the assignment of ${spec.party}`, () => run.cluster.core.createNamespacedSecret({ namespace: run.namespace, body: assignmentSecret(job, assignment) }), retry).catch((error: unknown) => {
      // The runner may create Secrets but not read them (adapters/kubernetes/rbac.ts), so one that
      // is there already, maybe planted, cannot be checked: the job fails rather than trust it.
      if (reasonOf(error) === 'AlreadyExists') throw new DynamosError('JOB_FAILED', `a Secret named ${run.name} is in ${run.namespace} already; the job does not trust it`, { retryable: true });
      throw apiFailure(run, `create the assignment Secret of ${spec.party}`, error);
    });
    if (spec.output.to !== 'requester') return;
    how.collector.fetchFrom(spec.party, await run.address, spec.output.streams);
    // A job whose answer cannot be fetched would wait for its consumer until the deadline.
    how.collector.streamsOf(spec.party).catch((error: unknown) => this.stop(run, { status: 'failed', code: error instanceof DynamosError ? error.code : 'STREAM_INVALID', message: (error as Error).message }));
  }

  /** A Job of this name exists: created by an earlier attempt of this call, whose answer was lost. */
  private async existingJob(run: ClusterRun, error: unknown): Promise<V1Job> {
    if (reasonOf(error) !== 'AlreadyExists') throw apiFailure(run, `create the Job of ${run.spec.party}`, error);
    const retry = { clock: this.deps.clock, logger: this.deps.logger, until: this.deps.clock.now() + deleteForMs };
    const job = await withRetries(`read the Job of ${run.spec.party}`, () => run.cluster.batch.readNamespacedJob({ name: run.name, namespace: run.namespace }), retry);
    if (job.metadata?.labels?.[labels.daemon] !== this.config.daemonName) throw new DynamosError('JOB_FAILED', `a Job named ${run.name} in ${run.namespace} is not this daemon's`, { retryable: false });
    return job;
  }

  private async assignmentOf(run: ClusterRun, inputs: RunnerMessage['inputs'], how: Launch): Promise<RunnerMessage> {
    const { spec } = run;
    const tables = spec.tables.map((table) => {
      if (this.sites[spec.party]?.kubernetes?.tables === undefined) {
        throw new DynamosError('DATA_UNAVAILABLE', `${spec.party}'s tables have no volume in the cluster: set sites.${spec.party}.kubernetes.tables`, { retryable: false });
      }
      const relative = path.relative(this.deps.dataDir ?? process.cwd(), table.file);
      if (relative === '..' || relative.startsWith(`..${path.sep}`) || path.isAbsolute(relative)) throw new DynamosError('DATA_UNAVAILABLE', `table ${table.name} of ${spec.party} is outside the data directory`, { retryable: false });
      return { ...table, file: relative };
    });
    const limit = spec.output.to === 'requester' && how.deployment.resultLimit !== undefined ? { resultLimit: how.deployment.resultLimit } : {};
    // The key travels in a Secret: valid for this request only, until its deadline and a minute.
    const tls = await how.credentials.forOneRequest({ kind: 'party', party: spec.party }, how.deadlineAt + 60_000);
    return {
      type: 'assign',
      spec: { ...spec, tables },
      // The pod's own: its IP, port and work directory come from its environment.
      tempDir: podPaths.workDir,
      listenHost: '',
      tls,
      deadlineAt: how.deadlineAt,
      inputs,
      threads: Math.max(1, Math.ceil(this.sites[spec.party]?.cpus ?? 2)),
      tableReads: {},
      waitForProducers: true,
      ...limit,
    };
  }

  private async finish(run: ClusterRun, runs: readonly ClusterRun[], byParty: Map<string, ClusterRun>, collector: ResultCollector): Promise<JobReport> {
    const verdict = await run.verdict.promise;
    const endedAt = performance.now();
    let { status, error } = verdict;
    if (status === 'succeeded' && run.spec.output.to === 'requester') {
      await collector.streamsOf(run.spec.party).catch((e: unknown) => {
        status = 'failed';
        error = { code: e instanceof DynamosError ? e.code : 'STREAM_INVALID', message: (e as Error).message };
      });
    }
    if (status !== 'succeeded') {
      failDependents(run, byParty, (r, why) => this.stop(r, why));
      failProducers(run, runs, (r, why) => this.stop(r, why));
    }
    const stats = verdict.stats;
    const report: JobReport = {
      name: run.spec.name,
      party: run.spec.party,
      status,
      ...(error === undefined ? {} : { error: { code: isErrorCode(error.code) ? error.code : 'JOB_FAILED', message: error.message } }),
      startMs: run.created === undefined || run.runningAt === undefined ? 0 : Math.max(0, run.runningAt - run.created),
      durationMs: run.runningAt === undefined ? 0 : endedAt - run.runningAt,
      cpuSeconds: stats?.cpuSeconds ?? 0,
      maxRssBytes: stats?.maxRssBytes ?? 0,
      rowsOut: stats?.rowsOut ?? 0,
      bytesOut: stats?.bytesOut ?? 0,
      stages: stats?.stages ?? [],
    };
    this.events.emit('jobEnded', report);
    return report;
  }

  private end(run: ClusterRun, verdict: Verdict): void {
    if (!run.verdict.settle(verdict)) return;
    run.addressLost(new DynamosError('JOB_FAILED', `the job at ${run.spec.party} ended before its sidecar had an address`, { retryable: false }));
  }

  /** Ends a job the runner gives up on; its Job is deleted when the deployment ends, which is at once. */
  private stop(run: ClusterRun, why: Stop): void {
    this.end(run, { status: why.status, error: { code: why.code, message: why.message } });
    void this.remove(run);
  }

  /** Deletes the Job with its pods and Secret: Background, since the API's default orphans the pods. */
  private remove(run: ClusterRun): Promise<void> {
    run.removed ??= (async () => {
      run.unfollow?.();
      // A Job still being created would be created after its delete, and run on unwatched.
      await run.launched?.catch(() => undefined);
      if (run.created === undefined) return;
      const retry = { clock: this.deps.clock, logger: this.deps.logger, until: this.deps.clock.now() + deleteForMs };
      await withRetries(`delete the Job of ${run.spec.party}`, () => run.cluster.batch.deleteNamespacedJob({ name: run.name, namespace: run.namespace, propagationPolicy: 'Background' }), retry).catch((error: unknown) => {
        if (statusOf(error) === 404) return;
        this.deps.logger.warn('a Job could not be deleted; its TTL will remove it', { job: run.name, namespace: run.namespace, error: describe(error) });
      });
    })();
    return run.removed;
  }
}


interface Launch {
  readonly byParty: Map<string, ClusterRun>;
  readonly collector: ResultCollector;
  readonly credentials: DataPlaneCredentials;
  readonly deployment: Deployment;
  readonly deadlineAt: number;
  readonly until: number;
}

/** A failed create, with what the operator must fix when it is the settings or the RBAC. */
function apiFailure(run: ClusterRun, what: string, error: unknown): DynamosError {
  if (error instanceof DynamosError) return error;
  const status = statusOf(error);
  if (status === 404) return new DynamosError('CONFIG_INVALID', `could not ${what}: namespace ${run.namespace} does not exist (sites.${run.spec.party}.kubernetes.namespace; dynamos manifests makes it)`, { retryable: false, cause: error });
  if (status === 403) return new DynamosError('CONFIG_INVALID', `could not ${what}: the daemon is not allowed to in namespace ${run.namespace} (its Role and RoleBinding: dynamos manifests)`, { retryable: false, cause: error });
  return new DynamosError('JOB_FAILED', `could not ${what}: ${describe(error)}`, { retryable: status === undefined, cause: error });
}

function cancelled(deployment: Deployment): DynamosError {
  return new DynamosError('JOB_CANCELLED', `request ${deployment.requestId} was cancelled`, { retryable: false });
}
