/** The jobs of one deployment in a cluster: what the runner keeps of each and how they end one another. */
import type { JobSpec } from '../../knowledge/ports/job-runner.js';
import type { Stop } from '../local/job-runs.js';
import type { Cluster } from './clusters.js';
import type { Verdict } from './job-verdict.js';

/** A value that is settled once: the first verdict stands. */
export interface Once<T> {
  readonly promise: Promise<T>;
  readonly settled: boolean;
  /** Settles with `value`; false when it was settled already. */
  settle(value: T): boolean;
}

export interface ClusterRun {
  readonly spec: JobSpec;
  readonly cluster: Cluster;
  readonly namespace: string;
  readonly name: string;
  readonly verdict: Once<Verdict>;
  /** `ip:port` of the job's sidecar, once its pod has an IP. */
  readonly address: Promise<string>;
  addressKnown(address: string): void;
  addressLost(error: Error): void;
  /** The Job's uid once created: only pods it owns are its pods. */
  uid?: string;
  /** performance.now() when the Job was asked for. */
  created?: number;
  /** performance.now() when its container was first seen started. */
  runningAt?: number;
  unfollow?: () => void;
  /** Reads the Job's state again: once its uid is known, what came before counts. */
  reread?: () => void;
  /** Creating the Job and its Secret: removing waits for it, so nothing is created after its delete. */
  launched?: Promise<void>;
  removed?: Promise<void>;
}

/** The parts of a run that settle: its verdict and its address. */
export function settle(): Pick<ClusterRun, 'verdict' | 'address' | 'addressKnown' | 'addressLost'> {
  let resolveVerdict!: (v: Verdict) => void;
  const verdictPromise = new Promise<Verdict>((resolve) => (resolveVerdict = resolve));
  let settled = false;
  const verdict: Once<Verdict> = {
    promise: verdictPromise,
    get settled() {
      return settled;
    },
    settle(value) {
      if (settled) return false;
      settled = true;
      resolveVerdict(value);
      return true;
    },
  };
  let known!: (address: string) => void;
  let lost!: (error: Error) => void;
  const address = new Promise<string>((resolve, reject) => {
    known = resolve;
    lost = reject;
  });
  // Nobody may wait for a producer's address; a lost one is then no unhandled rejection.
  address.catch(() => undefined);
  return { verdict, address, addressKnown: known, addressLost: lost };
}

type StopRun = (run: ClusterRun, why: Stop) => void;

/** The jobs consuming `run`'s output cannot finish without it: end them too. */
export function failDependents(run: ClusterRun, byParty: Map<string, ClusterRun>, stop: StopRun): void {
  if (run.spec.output.to !== 'party') return;
  const consumer = byParty.get(run.spec.output.party);
  if (consumer === undefined || consumer.verdict.settled) return;
  stop(consumer, { status: 'failed', code: 'JOB_FAILED', message: `input from ${run.spec.party} failed` });
  failDependents(consumer, byParty, stop);
}

/** The jobs feeding `run` have nobody to fetch their data once it failed: end them too. */
export function failProducers(run: ClusterRun, runs: readonly ClusterRun[], stop: StopRun): void {
  for (const producer of runs) {
    if (producer.spec.output.to === 'party' && producer.spec.output.party === run.spec.party && !producer.verdict.settled) {
      stop(producer, { status: 'failed', code: 'JOB_FAILED', message: `${run.spec.party}, which needed its data, failed` });
    }
  }
}
