/** The jobs of one deployment: what the runner keeps of each, how they end one another, in which order they start. */
import type { JobReport, JobSpec, JobStatus, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { JobProcess } from './job-process.js';
import type { Placement } from './site-placement.js';

/** Why the runner ended a job. */
export interface Stop {
  readonly status: JobStatus;
  readonly code: string;
  readonly message: string;
}

export interface JobRun {
  readonly spec: JobSpec;
  readonly process: JobProcess;
  readonly takenAt: number;
  tempDir?: string;
  /** The job's OS memory group in its site, where the machine allows them. */
  placement: Promise<Placement>;
  assignedAt?: number;
  /** Why the runner ended the job, when it did. */
  stoppedAs?: Stop;
}

export function stop(run: JobRun, why: Stop): void {
  if (!run.process.alive) return;
  run.stoppedAs ??= why;
  run.process.kill();
}

/** The jobs consuming `run`'s output cannot finish without it: end them too. */
export function failDependents(run: JobRun, byParty: Map<string, JobRun>): void {
  if (run.spec.output.to !== 'party') return;
  const consumer = byParty.get(run.spec.output.party);
  if (consumer === undefined) return;
  stop(consumer, { status: 'failed', code: 'JOB_FAILED', message: `input from ${run.spec.party} failed` });
  failDependents(consumer, byParty);
}

/** A report of a job stopped at the result limit names the limit, so the requester can read it. */
export function withLimitDetails(reports: JobReport[], limit: ResultLimit | undefined): JobReport[] {
  if (limit === undefined) return reports;
  return reports.map((r) => (r.error?.code === 'RESULT_TOO_LARGE' ? { ...r, error: { ...r.error, details: { limit: { maxRows: limit.maxRows, maxBytes: limit.maxBytes } } } } : r));
}

/** The jobs feeding `run` have nobody to fetch their data once it failed: end them too. */
export function failProducers(run: JobRun, runs: readonly JobRun[]): void {
  for (const producer of runs) {
    if (producer.spec.output.to === 'party' && producer.spec.output.party === run.spec.party) {
      stop(producer, { status: 'failed', code: 'JOB_FAILED', message: `${run.spec.party}, which needed its data, failed` });
    }
  }
}

/** Runs ordered so that every job comes before the job its output goes to. */
export function producersFirst(runs: readonly JobRun[], byParty: Map<string, JobRun>): JobRun[] {
  const depth = (run: JobRun, seen = new Set<JobRun>()): number => {
    if (run.spec.output.to !== 'party' || seen.has(run)) return 0;
    const next = byParty.get(run.spec.output.party);
    return next === undefined ? 0 : 1 + depth(next, seen.add(run));
  };
  return [...runs].sort((a, b) => depth(b) - depth(a));
}
