import { DynamosError } from '../../knowledge/errors.js';
import type { Deployment, DeploymentResult, JobReport, JobRunner, JobSpec, PartyResult } from '../../knowledge/ports/job-runner.js';

/** A job as the fake world holds it. */
export interface FakeJob {
  readonly spec: JobSpec;
  readonly deployment: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
}

interface Pending {
  readonly deployment: Deployment;
  readonly resolve: (result: DeploymentResult) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * JobRunner in a small world model (docs/conventions.md: fakes are worlds, not call recorders). Jobs stay
 * `running` until the test completes them (`completeDeployment`, `failJob`), or complete at once
 * with `autoComplete`; a cancelled deployment's jobs end `cancelled`. Tests assert the world's
 * state: which jobs ran, at which party, how they ended.
 */
export class FakeJobRunner implements JobRunner {
  readonly jobs: FakeJob[] = [];
  /** The same jobs by deployment, so settling one stays cheap however many have run. */
  private readonly jobsOf = new Map<string, FakeJob[]>();
  private readonly pending = new Map<string, Pending>();
  private readonly waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly opts: { autoComplete?: (deployment: Deployment) => DeploymentResult } = {}) {}

  run(deployment: Deployment, signal?: AbortSignal): Promise<DeploymentResult> {
    if (this.closed) return Promise.reject(new DynamosError('INTERNAL', 'the job runner is closed', { retryable: false }));
    if (signal?.aborted) return Promise.reject(cancelled(deployment));
    const jobs = deployment.jobs.map((spec): FakeJob => ({ spec, deployment: deployment.requestId, status: 'running' }));
    this.jobs.push(...jobs);
    this.jobsOf.set(deployment.requestId, [...(this.jobsOf.get(deployment.requestId) ?? []), ...jobs]);
    this.wake();
    if (this.opts.autoComplete !== undefined) {
      const result = this.opts.autoComplete(deployment);
      this.settle(deployment.requestId, result.jobs);
      return Promise.resolve(result);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(deployment.requestId, { deployment, resolve, reject });
      signal?.addEventListener('abort', () => {
        if (!this.pending.delete(deployment.requestId)) return;
        this.mark(deployment.requestId, 'cancelled');
        reject(cancelled(deployment));
      });
    });
  }

  /** Jobs of a deployment still running. */
  running(requestId?: string): FakeJob[] {
    return this.jobs.filter((j) => j.status === 'running' && (requestId === undefined || j.deployment === requestId));
  }

  /** Resolves once a deployment is running (the next one when none is). */
  async nextDeployment(): Promise<string> {
    for (;;) {
      const first = [...this.pending.keys()][0];
      if (first !== undefined) return first;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Every job of the deployment succeeds; each result-bearing job answers `table`. */
  completeDeployment(requestId: string, results: readonly PartyResult[] = [], reports?: readonly JobReport[]): void {
    const pending = this.take(requestId);
    const jobReports = reports ?? pending.deployment.jobs.map((spec) => fakeReport(spec, 'succeeded'));
    this.settle(requestId, jobReports);
    pending.resolve({ results, jobs: jobReports });
  }

  /** One job fails with `code`; the others of the deployment end as they are (a value, not a rejection). */
  failJob(requestId: string, party: string, code: string, message: string): void {
    const pending = this.take(requestId);
    const reports = pending.deployment.jobs.map((spec) =>
      spec.party === party ? { ...fakeReport(spec, 'failed'), error: { code, message } } : fakeReport(spec, 'succeeded'),
    );
    this.settle(requestId, reports);
    pending.resolve({ results: [], jobs: reports });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const [id, pending] of this.pending) {
      this.mark(id, 'cancelled');
      pending.reject(cancelled(pending.deployment));
    }
    this.pending.clear();
  }

  private take(requestId: string): Pending {
    const pending = this.pending.get(requestId);
    if (pending === undefined) throw new Error(`no deployment ${requestId} is running`);
    this.pending.delete(requestId);
    return pending;
  }

  private settle(requestId: string, reports: readonly JobReport[]): void {
    for (const job of this.jobsOf.get(requestId) ?? []) {
      job.status = reports.find((r) => r.name === job.spec.name)?.status === 'failed' ? 'failed' : 'succeeded';
    }
  }

  private mark(requestId: string, status: FakeJob['status']): void {
    for (const job of this.jobsOf.get(requestId) ?? []) if (job.status === 'running') job.status = status;
  }

  private wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}

/** A plausible report for a fake job, with the given status. */
export function fakeReport(spec: JobSpec, status: JobReport['status'], figures: Partial<JobReport> = {}): JobReport {
  return {
    name: spec.name,
    party: spec.party,
    status,
    startMs: 0,
    durationMs: 100,
    cpuSeconds: 0.1,
    maxRssBytes: 100e6,
    rowsOut: 0,
    bytesOut: 0,
    stages: [],
    ...figures,
  };
}

function cancelled(deployment: Deployment): DynamosError {
  return new DynamosError('JOB_CANCELLED', `request ${deployment.requestId} was cancelled`, { retryable: false });
}
