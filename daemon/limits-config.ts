import { z } from 'zod';
import { requestLimitsSchema } from './api/request-limits.js';

const ms = z.number().int().positive();

/**
 * What one request may take (docs/operations.md): the size of its answer, and room for its jobs.
 * The defaults keep a daemon on a small machine answering under load: past them a requester gets
 * RESULT_TOO_LARGE (422) or OVERLOADED (503 with Retry-After), never a daemon that fell over.
 */
export const limitsConfigSchema = z.strictObject({
  /** How deep and long a requestApproval body may be (daemon/api/request-limits.ts); past them, 400 REQUEST_INVALID. */
  request: requestLimitsSchema.prefault({}),
  result: z
    .strictObject({
      /** Rows a requester may receive per request, over all results. */
      maxRows: z.number().int().positive().default(100_000),
      /** Bytes on the wire a requester may receive per request (values, offsets, validity). */
      maxBytes: z.number().int().positive().default(32 * 1024 * 1024),
    })
    .prefault({}),
  jobs: z
    .strictObject({
      /** Jobs running at once, over all parties. */
      maxRunning: z.number().int().positive().default(8),
      /** Jobs running at once at one party. */
      maxPerParty: z.number().int().positive().default(4),
      /** Requests waiting for room for their jobs; one more is answered OVERLOADED. */
      maxQueued: z.number().int().min(0).default(100),
      /** Longest wait for room, then OVERLOADED. */
      maxWaitMs: ms.default(30_000),
    })
    .prefault({}),
});

export type LimitsConfig = z.output<typeof limitsConfigSchema>;
