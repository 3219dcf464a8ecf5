import type { CandidateExplanation } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import type { Analysis } from '../analyze.js';

export interface StrategyChoice {
  readonly archetype: string;
  readonly ttp?: string;
  /** The choice's overall score, for strategies that compute one (kept for hysteresis). */
  readonly utility?: number;
}

/** The choice (null when nothing is feasible), why, and every candidate explained, best first. */
export interface Ranking {
  /**
   * Every candidate, best first, with its scores and reasons in words. A function: putting
   * reasons into words costs more than deciding, and a replay, which decides tens of thousands of
   * requests a second, never reads them (`plan(…, { explain: false })`).
   */
  readonly explainCandidates: () => readonly CandidateExplanation[];
  readonly choice: StrategyChoice | null;
  readonly reason: string;
  /** When the choice is null for a passing reason (every candidate overloaded or offline): try later. */
  readonly retryable?: boolean;
}

/**
 * An archetype strategy (docs/mape-k-loop.md#strategies): a pure function of the snapshot and the analysis. Policy has
 * already removed what is not allowed; a strategy only ranks feasible candidates.
 */
export interface Strategy {
  readonly name: string;
  rank(k: KnowledgeSnapshot, a: Analysis): Ranking;
}

/**
 * A ranking, its candidates put into words only when asked. `explain` reads only values fixed at
 * ranking time (snapshots and analyses are immutable), so it gives the same text whenever it runs.
 * A plain function property, not a getter: object literals with accessors made every phase slower
 * (measured: analyze 3.9 → 7.5 µs).
 */
export function rankingOf(choice: StrategyChoice | null, reason: string, explain: () => readonly CandidateExplanation[], retryable?: boolean): Ranking {
  return retryable === undefined ? { explainCandidates: explain, choice, reason } : { explainCandidates: explain, choice, reason, retryable };
}
