import type { JobSpec, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { DataPlaneTls } from '../sidecar/data-plane-tls.js';
import type { StreamSource } from '../sidecar/fetch-streams.js';

/**
 * The control channel between a job runner and a job process (Node IPC). Data never travels
 * here: it goes through the sidecars' gRPC streams.
 *
 * runner → job: `assign` (once). job → runner: `ready` (engine loaded, waiting), then `accepting`
 * (its sidecar listens for its consumer), then exactly one of `done` or `failed`.
 */
export type RunnerMessage = {
  readonly type: 'assign';
  readonly spec: JobSpec;
  /** A directory the job may spill to; the runner removes it when the job ends. */
  readonly tempDir: string;
  /** The marketplace CA and this party's certificate and key: what its sidecar shows and trusts. */
  readonly tls: DataPlaneTls;
  /** Where this job's sidecar listens for its consumer: loopback, or its site's address. */
  readonly listenHost: string;
  /** The port it listens on: a pod's container port; any free port when absent. */
  readonly listenPort?: number;
  /**
   * Whether fetches wait for a producer that does not listen yet (a pod still starting), until
   * the deadline. Locally every producer listens before its consumer is assigned.
   */
  readonly waitForProducers?: boolean;
  /** Epoch ms: the request's deadline, which travels with every fetch the job makes. */
  readonly deadlineAt: number;
  /** The sidecars of the parties in `spec.inputs`, in that order, to fetch from. */
  readonly inputs: readonly StreamSource[];
  /** DuckDB threads: the machine's cores shared among the jobs running at once. */
  readonly threads: number;
  /** Table name → its `read_csv(...)` call, sniffed once by the runner; saves the job sniffing. */
  readonly tableReads: Readonly<Record<string, string>>;
  /** For a job answering the requester: stop with RESULT_TOO_LARGE past this. */
  readonly resultLimit?: ResultLimit;
};

export interface StageTiming {
  readonly stage: string;
  readonly ms: number;
}

export interface JobStats {
  readonly rowsOut: number;
  readonly bytesOut: number;
  readonly streamsOut: number;
  /** CPU time of the job process since assignment (user + system). */
  readonly cpuSeconds: number;
  readonly maxRssBytes: number;
  readonly stages: readonly StageTiming[];
}

export type JobMessage =
  | { readonly type: 'ready' }
  | { readonly type: 'accepting'; readonly address: string }
  | { readonly type: 'done'; readonly stats: JobStats }
  | { readonly type: 'failed'; readonly code: string; readonly message: string; readonly stats: JobStats };
