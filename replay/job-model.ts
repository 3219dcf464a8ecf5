import { defaultEnergyModel, estimateJobJoules } from '../knowledge/energy-model.js';

/**
 * How long the jobs of a request take in the replay's world, and what they cost. The constants
 * are calibrated from `npm run bench` on the development machine (docs/performance.md, 2 stewards
 * × 250,000 people, about 25 MB of CSV each):
 *
 * - computeToData: the steward's job took 161 ms for 25 MB → **6 ms/MB**;
 * - dataThroughTtp: each steward's job (scan, join, stream out) took 280–318 ms → **10 ms/MB**;
 *   the TTP's own work, after the slower steward, ~140 ms for the 50 MB both sent → **2 ms/MB**;
 * - about **30 ms** per request outside the jobs (body, decision, HTTP);
 * - jobs come from the warm pool: **0 ms** start (cold start, 100 ms, is not what a request waits).
 *
 * A job keeps one CPU busy while it works, so CPU-seconds = ms/MB × MB ÷ 1000, and its energy is
 * what the daemon estimates where no meter reports: CPU-seconds × (3.5 − 0.74) W
 * (knowledge/energy-model.ts). Load slows a party down as an M/M/1 queue would, 1 / (1 − ρ) with
 * ρ its CPU load, capped at ρ = 0.95 (20×): the same assumption the utility strategy predicts with,
 * which is a threat to validity the docs state (docs/replay.md#the-world-model).
 */
export const jobModel = {
  computeToData: { stewardMsPerMB: 6 },
  dataThroughTtp: { stewardMsPerMB: 10, ttpMsPerMB: 2 },
  requestOverheadMs: 30,
  jobStartMs: 0,
  /** Bytes a steward's computeToData job sends the requester: a result, not data. */
  resultBytes: 1_000,
  slowdownLoadLimit: 0.95,
  /** Each job's duration varies by up to ± this fraction, the same for every strategy (common random numbers). */
  noise: 0.1,
} as const;

/** What one job did, as a job runner would report it. */
export interface ModelledJob {
  readonly party: string;
  readonly durationMs: number;
  readonly cpuSeconds: number;
  readonly energyJoules: number;
  readonly bytesOut: number;
}

export interface ModelledRequest {
  readonly jobs: readonly ModelledJob[];
  /** From the decision to the answer. */
  readonly latencyMs: number;
  readonly energyJoules: number;
}

/**
 * The world's slowdown. Not the utility strategy's `slowdown` (utility-objectives.ts), though the
 * formula is the same today: a strategy's beliefs must not change the world it is judged in.
 */
export function slowdown(cpu: number): number {
  return 1 / (1 - Math.min(Math.max(cpu, 0), jobModel.slowdownLoadLimit));
}

export interface ModelInput {
  /** Computes at the stewards (`dataProvider`) or at a trusted third party (`other`). */
  readonly computeAt: 'dataProvider' | 'other';
  /** MB of data each steward's job reads. */
  readonly stewardMB: ReadonlyMap<string, number>;
  readonly ttp: string | undefined;
  /** CPU load of a party at the decision (0..1). */
  readonly cpuOf: (party: string) => number;
  /** A factor near 1 for one job: the model's noise. */
  readonly noiseOf: (party: string) => number;
}

/**
 * The jobs of one request: stewards work in parallel; under a TTP the TTP works on all the data
 * after the slowest steward has sent it.
 */
export function modelRequest(input: ModelInput): ModelledRequest {
  const atTtp = input.computeAt === 'other';
  const stewardRate = atTtp ? jobModel.dataThroughTtp.stewardMsPerMB : jobModel.computeToData.stewardMsPerMB;
  const job = (party: string, mb: number, msPerMB: number, bytesOut: number): ModelledJob => {
    const workMs = msPerMB * mb;
    const durationMs = jobModel.jobStartMs + workMs * slowdown(input.cpuOf(party)) * input.noiseOf(party);
    const cpuSeconds = workMs / 1000;
    return { party, durationMs, cpuSeconds, energyJoules: estimateJobJoules(cpuSeconds, defaultEnergyModel), bytesOut };
  };
  // Loops, not spreads and reduces: this runs several times for every request of every strategy.
  const jobs: ModelledJob[] = [];
  let latencyMs = 0;
  let total = 0;
  input.stewardMB.forEach((mb, steward) => {
    const stewardJob = job(steward, mb, stewardRate, atTtp ? mb * 1e6 : jobModel.resultBytes);
    jobs.push(stewardJob);
    latencyMs = Math.max(latencyMs, stewardJob.durationMs);
    total += mb;
  });
  if (atTtp && input.ttp !== undefined) {
    const ttpJob = job(input.ttp, total, jobModel.dataThroughTtp.ttpMsPerMB, jobModel.resultBytes);
    jobs.push(ttpJob);
    latencyMs += ttpJob.durationMs;
  }
  let energyJoules = 0;
  for (const j of jobs) energyJoules += j.energyJoules;
  return { jobs, latencyMs: latencyMs + jobModel.requestOverheadMs, energyJoules };
}

/**
 * A factor in [1 − noise, 1 + noise] from the seed, the request and the party alone (FNV-1a), so
 * every strategy meets the same luck for the same job.
 */
export function noiseFactor(seed: number, requestId: string, party: string): number {
  // The hash of `${requestId}\u0000${party}`, without building that string for every job.
  let h = 0x811c9dc5 ^ (seed | 0);
  for (let i = 0; i < requestId.length; i++) h = Math.imul(h ^ requestId.charCodeAt(i), 0x01000193);
  h = Math.imul(h, 0x01000193);
  for (let i = 0; i < party.length; i++) h = Math.imul(h ^ party.charCodeAt(i), 0x01000193);
  const u = (h >>> 0) / 4294967296;
  return 1 + (u * 2 - 1) * jobModel.noise;
}
