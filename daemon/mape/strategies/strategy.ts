import type { CandidateExplanation } from '../../../knowledge/decision.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import type { Analysis } from '../analyze.js';

export interface StrategyChoice {
  readonly archetype: string;
  readonly ttp?: string;
  /** The choice's overall score, for strategies that compute one (kept for hysteresis). */
  readonly utility?: number;
}

/** Every candidate explained, best first, and the choice (null when nothing is feasible). */
export interface Ranking {
  readonly candidates: readonly CandidateExplanation[];
  readonly choice: StrategyChoice | null;
  readonly reason: string;
  /** When the choice is null for a passing reason (every candidate overloaded or offline): try later. */
  readonly retryable?: boolean;
}

/**
 * An archetype strategy (DESIGN §5): a pure function of the snapshot and the analysis. Policy has
 * already removed what is not allowed; a strategy only ranks feasible candidates.
 */
export interface Strategy {
  readonly name: string;
  rank(k: KnowledgeSnapshot, a: Analysis): Ranking;
}
