/**
 * The explanation of one archetype decision: every candidate with its per-objective scores and
 * the reason it won or lost. Returned to the requester and kept for data stewards to audit.
 */

export interface ObjectiveScore {
  readonly objective: string;
  /** Normalised to [0, 1], higher is better. */
  readonly score: number;
  readonly reason: string;
}

export interface CandidateExplanation {
  readonly archetype: string;
  /** The trusted third party, for archetypes that compute at one. */
  readonly ttp?: string;
  readonly feasible: boolean;
  /** 1 for the choice; absent for infeasible candidates. */
  readonly rank?: number;
  readonly objectives: readonly ObjectiveScore[];
  readonly reason: string;
}

export interface ChainExplanation {
  readonly party: string;
  readonly role: 'all' | 'dataProvider' | 'computeProvider';
  readonly services: readonly string[];
  /** Why services were added or left out (option flags, steward mandates, invalid archetypes). */
  readonly notes: readonly string[];
}

export interface DecisionExplanation {
  readonly strategy: string;
  readonly policyRevision: string;
  readonly candidates: readonly CandidateExplanation[];
  readonly choice: { readonly archetype: string; readonly ttp?: string; readonly utility?: number } | null;
  readonly reason: string;
  readonly chains: readonly ChainExplanation[];
}
