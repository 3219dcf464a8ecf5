import type { AlgorithmName } from '../catalog.js';
import type { AnonymizationRules } from '../marketplace/marketplace-schema.js';

/**
 * Runs the single-use jobs of one request (docs/architecture.md#single-use-jobs-embedded-default). A job is the part of the chain that runs
 * at one party, behind a sidecar; it exists for one request and leaves nothing behind.
 */
export interface JobRunner {
  /**
   * Runs every job of a deployment, wiring each job's output to its consumer, and resolves when
   * the requester holds every result or a job failed. Never rejects for a job's failure: a failed
   * job is a value in the result. Rejects with JOB_CANCELLED when `signal` aborts.
   */
  run(deployment: Deployment, signal?: AbortSignal): Promise<DeploymentResult>;
  /** Stops every job and frees every resource; idempotent. */
  close(): Promise<void>;
}

export interface Deployment {
  readonly requestId: string;
  readonly jobs: readonly JobSpec[];
  /** Every job is killed this long after it starts. */
  readonly deadlineMs: number;
  /**
   * The most the requester may receive, over all results of the request: past it the jobs stop
   * and the request fails with RESULT_TOO_LARGE. Unlimited when absent.
   */
  readonly resultLimit?: ResultLimit;
}

export interface ResultLimit {
  readonly maxRows: number;
  /** Bytes on the wire: the columns' values, offsets and validity. */
  readonly maxBytes: number;
}

export type PartyKind = 'dataSteward' | 'computeProvider';

export interface JobSpec {
  /** Unique per request and party, so a retry collides instead of duplicating. */
  readonly name: string;
  readonly requestId: string;
  readonly party: string;
  readonly partyKind: PartyKind;
  /** Microservices in the order they run. */
  readonly services: readonly string[];
  readonly request: JobRequest;
  /** Tables this job may read: only the steward's own, only the datasets the agreement allows. */
  readonly tables: readonly TableSource[];
  /**
   * The steward's anonymisation, per table and column, when sql-anonymize is in this job's chain:
   * the job builds its tables from it before the query runs, so the query sees nothing else.
   * Absent when the chain has no sql-anonymize (and for a TTP, which holds no tables).
   */
  readonly anonymization?: AnonymizationRules;
  /** Parties whose output streams into this job, one stream each. */
  readonly inputs: readonly string[];
  readonly output: JobOutput;
  /** When set, the job sends only these columns (data minimisation toward a TTP). */
  readonly outputColumns?: readonly string[];
}

export interface JobRequest {
  readonly type: string;
  readonly query: string;
  readonly algorithm: AlgorithmName;
  readonly options: Readonly<Record<string, boolean>>;
  readonly requester: string;
}

export interface TableSource {
  readonly name: string;
  readonly file: string;
  readonly format: 'csv';
  readonly delimiter: string;
}

export type JobOutput =
  | { readonly to: 'requester'; readonly streams: number }
  | { readonly to: 'party'; readonly party: string };

export type ColumnKind = 'bool' | 'int32' | 'int64' | 'float64' | 'utf8' | 'date' | 'timestamp';

/** A result as the requester receives it: typed columns, JSON-safe values. */
export interface ResultTable {
  readonly columns: readonly { readonly name: string; readonly type: ColumnKind }[];
  readonly rows: readonly (readonly unknown[])[];
}

export interface ResultArtifact {
  readonly name: string;
  readonly mediaType: string;
  readonly content: string;
}

export interface PartyResult {
  /** The party that computed this result. */
  readonly computedBy: string;
  /** Whose data it covers: one steward, or every steward a TTP combined. */
  readonly providers: readonly string[];
  readonly table: ResultTable;
  readonly artifacts: readonly ResultArtifact[];
}

export type JobStatus = 'succeeded' | 'failed' | 'timedOut' | 'cancelled';

export interface JobReport {
  readonly name: string;
  readonly party: string;
  readonly status: JobStatus;
  readonly error?: { readonly code: string; readonly message: string; readonly details?: Readonly<Record<string, unknown>> };
  /** From asking for a process to the process being ready for the job, in ms. */
  readonly startMs: number;
  /** From assignment to the job's exit, in ms. */
  readonly durationMs: number;
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
  readonly rowsOut: number;
  readonly bytesOut: number;
  /** Wall time of each step inside the job (workspace, inputs, each service, output), in ms. */
  readonly stages: readonly { readonly stage: string; readonly ms: number }[];
}

export interface DeploymentResult {
  readonly results: readonly PartyResult[];
  readonly jobs: readonly JobReport[];
}
