import type { DataRequest } from '../../knowledge/data-request.js';
import type { DynamosError, ErrorCode } from '../../knowledge/errors.js';
import type { DeploymentResult } from '../../knowledge/ports/job-runner.js';
import type { Analysis } from './analyze.js';
import type { Plan } from './plan.js';

export const phases = ['monitor', 'analyze', 'plan', 'execute', 'record'] as const;
export type Phase = (typeof phases)[number];

export interface RequestTimings {
  /** Analyze + plan, in ms. */
  readonly decisionMs: number;
  readonly executeMs: number;
  readonly totalMs: number;
  /** Every phase's wall time, in ms. */
  readonly phases: Readonly<Partial<Record<Phase, number>>>;
}

type Deploy = Extract<Plan, { kind: 'deploy' }>;

/** What became of one request: one value, never two flags that could disagree. */
export type RequestOutcome =
  | { readonly kind: 'denied'; readonly request: DataRequest; readonly analysis: Analysis; readonly plan: Extract<Plan, { kind: 'deny' }>; readonly timings: RequestTimings }
  | { readonly kind: 'completed'; readonly request: DataRequest; readonly analysis: Analysis; readonly plan: Deploy; readonly result: DeploymentResult; readonly timings: RequestTimings }
  | {
      readonly kind: 'cancelled';
      readonly request: DataRequest;
      readonly analysis: Analysis;
      readonly plan: Deploy;
      /** JOB_CANCELLED when the requester went away, AGREEMENT_REVOKED when policy changed under it. */
      readonly code: ErrorCode;
      readonly reason: string;
      readonly timings: RequestTimings;
    }
  | { readonly kind: 'failed'; readonly request: DataRequest; readonly analysis?: Analysis; readonly plan?: Plan; readonly error: DynamosError; readonly timings: RequestTimings };
