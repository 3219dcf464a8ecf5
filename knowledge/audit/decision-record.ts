import type { CandidateExplanation, ChainExplanation } from '../decision.js';

/** How a decided request ended. */
export type OutcomeKind = 'completed' | 'partial' | 'failed' | 'denied' | 'cancelled' | 'interrupted';

/**
 * A record's outcome: how the request ended, or `started`, the write-ahead record of a request
 * whose jobs are about to start. A `started` record without a later record of the same request
 * means the daemon died under it; the next start appends its `interrupted` record.
 */
export type RecordedOutcomeKind = OutcomeKind | 'started';

export interface DecisionOutcome {
  readonly kind: RecordedOutcomeKind;
  /** From the request's arrival to its answer, in ms. */
  readonly latencyMs: number;
  /** Bytes the jobs sent over the wire (between parties and to the requester). */
  readonly bytes: number;
  readonly cpuSeconds: number;
  /** Measured where the parties report energy, estimated from CPU-seconds elsewhere. */
  readonly energyJoules: number;
  /** Why it failed, was denied or cancelled; absent when it completed. */
  readonly reason?: string;
}

/**
 * One decision, as kept in the append-only audit log for data stewards: what was decided on
 * (digest of the inputs, policy revision), every candidate with its per-objective scores, the
 * choice and why, and how it ended. `hash` chains each record to the one before it.
 */
export interface DecisionRecord {
  /** 1, 2, 3, … in the log: a gap shows a dropped record. */
  readonly seq: number;
  readonly at: number;
  readonly requestId: string;
  readonly requester: string;
  readonly requestType: string;
  readonly providers: readonly string[];
  /**
   * sha256 of the canonical JSON of what the decision read: the request, the policy revision, the
   * sha256 of the node states and of the learned outcomes, and the remembered choice.
   */
  readonly inputsDigest: string;
  readonly policyRevision: string;
  readonly strategy: string;
  readonly candidates: readonly CandidateExplanation[];
  readonly choice: { readonly archetype: string; readonly ttp?: string } | null;
  readonly reason: string;
  readonly chains: readonly ChainExplanation[];
  readonly outcome: DecisionOutcome;
  /** The previous record's hash; 64 zeros for the first. */
  readonly prevHash: string;
  /** sha256 of this record without `hash`, in canonical JSON. */
  readonly hash: string;
}
