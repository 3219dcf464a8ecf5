import { z } from 'zod';

const weight = (value: number) => z.number().nonnegative().default(value);

/**
 * Relative weights of the utility's objectives; normalised to sum 1 before use, so only their
 * ratios matter. Latency first (what a requester waits for), load headroom next (the thesis's
 * concern: keep parties out of overload), energy, and the marketplace's archetype preference last.
 */
export const objectiveWeightsSchema = z
  .strictObject({
    /** @default 0.35 */
    latency: weight(0.35),
    /** @default 0.2 */
    energy: weight(0.2),
    /** @default 0.3 */
    loadHeadroom: weight(0.3),
    /** @default 0.15 */
    policyPreference: weight(0.15),
  })
  .refine((w) => w.latency + w.energy + w.loadHeadroom + w.policyPreference > 0, { message: 'at least one objective weight must be positive' });

/**
 * What the utility strategy predicts with before it has learned anything.
 *
 * Latency priors come from our end-to-end benchmark (`npm run bench`, docs/performance.md): each
 * steward holds 250,000 people, about 25 MB of CSV over both tables (100 bytes a person). computeToData's
 * steward job took ~161 ms (≈ 6 ms/MB). Under dataThroughTtp each steward job (scan, join, stream
 * out) took 280–318 ms (≈ 10–12 ms/MB); the TTP job took 461 ms, of which ~320 ms is waiting for
 * the slower steward, leaving ~140 ms for the 50 MB both sent (≈ 2–3 ms/MB).
 *
 * CPU-second priors assume a job keeps one CPU busy while it works: ms/MB ÷ 1000. Energy = CPU-s
 * × `wattsPerCpu`, the dynamic power of one busy logical CPU: 3.5 W − 0.74 W (the Cloud Carbon
 * Footprint per-vCPU figures behind `knowledge/energy-model.ts`).
 */
export const utilityPriorsSchema = z.strictObject({
  /** Archetypes that compute at the stewards (computeToData). */
  computeAtStewards: z
    .strictObject({
      /** @default 6 */
      stewardMsPerMB: z.number().positive().default(6),
      /** @default 0.006 */
      stewardCpuSecondsPerMB: z.number().nonnegative().default(0.006),
    })
    .prefault({}),
  /** Archetypes that compute at a trusted third party (dataThroughTtp). */
  computeAtTtp: z
    .strictObject({
      /** @default 10 */
      stewardMsPerMB: z.number().positive().default(10),
      /** @default 2 */
      ttpMsPerMB: z.number().positive().default(2),
      /** @default 0.01 */
      stewardCpuSecondsPerMB: z.number().nonnegative().default(0.01),
      /** @default 0.002 */
      ttpCpuSecondsPerMB: z.number().nonnegative().default(0.002),
    })
    .prefault({}),
  /** @default 2.76 (3.5 W busy − 0.74 W idle per logical CPU) */
  wattsPerCpu: z.number().nonnegative().default(2.76),
  /** Size assumed for a dataset whose table files were never measured. @default 1 */
  unknownDatasetMB: z.number().positive().default(1),
});

export const utilityConfigSchema = z
  .strictObject({
    /**
     * After a switch, the choice for the same requester and stewards is kept this long, whatever
     * the scores say, unless it breaks a hard constraint. @default 60000
     */
    holdDownMs: z.number().int().nonnegative().default(60_000),
    /** A better candidate must beat the kept choice's utility by more than this to replace it. @default 0.05 */
    toleranceBand: z.number().min(0).max(1).default(0.05),
    /** CPU or memory load at or over which a party is overloaded: the thesis's 80 % rule, as a tier. @default 0.8 */
    loadThreshold: z.number().gt(0).max(1).default(0.8),
    /** CPU or memory load at or over which a party is never used (a hard constraint). @default 0.95 */
    loadCap: z.number().gt(0).max(1).default(0.95),
    weights: objectiveWeightsSchema.prefault({}),
    priors: utilityPriorsSchema.prefault({}),
  })
  .refine((c) => c.loadCap > c.loadThreshold, { message: 'loadCap must be above loadThreshold', path: ['loadCap'] });

export type UtilityConfig = z.output<typeof utilityConfigSchema>;
export type UtilityConfigInput = z.input<typeof utilityConfigSchema>;
export type ObjectiveWeights = z.output<typeof objectiveWeightsSchema>;
