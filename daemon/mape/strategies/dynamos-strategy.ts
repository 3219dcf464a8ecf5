import type { CandidateExplanation } from '../../../knowledge/decision.js';
import type { ArchetypeOption } from '../analyze.js';
import type { Ranking, Strategy } from './strategy.js';
import { rankingOf } from './strategy.js';

/**
 * The original DYNAMOS rules (orchestrator `chooseArchetype`), made deterministic:
 * 1. `aggregate: true` and every authorised provider allows dataThroughTtp → dataThroughTtp;
 * 2. `aggregate: false`, two or more providers, all allowing computeToData → computeToData;
 * 3. otherwise the lowest-weight archetype every provider allows.
 * The TTP is the first compute provider all authorised providers allow.
 */
export const dynamosStrategy: Strategy = {
  name: 'dynamos',
  rank(_k, a): Ranking {
    const feasible = a.archetypes.filter((o) => o.feasible);
    if (feasible.length === 0) {
      const why = a.archetypes.map((o) => `${o.archetype}: ${o.reason}`).join('; ');
      return rankingOf(null, `no archetype is feasible (${why})`, () => a.archetypes.map((o) => explain(o, a.archetypes)));
    }
    const byName = (name: string) => feasible.find((o) => o.archetype === name);
    const aggregate = a.request.options['aggregate'] === true;
    let chosen: ArchetypeOption;
    let rule: string;
    const throughTtp = byName('dataThroughTtp');
    const toData = byName('computeToData');
    if (aggregate && throughTtp !== undefined) {
      chosen = throughTtp;
      rule = 'rule 1: aggregation requested and every authorised provider allows dataThroughTtp';
    } else if (!aggregate && a.authorised.length >= 2 && toData !== undefined) {
      chosen = toData;
      rule = `rule 2: no aggregation, ${a.authorised.length} providers, all allow computeToData`;
    } else {
      chosen = [...feasible].sort((x, y) => x.weight - y.weight)[0] as ArchetypeOption;
      rule = `rule 3: lowest weight (${chosen.weight}) among archetypes every authorised provider allows`;
    }
    const others = feasible.filter((o) => o !== chosen).sort((x, y) => x.weight - y.weight);
    const ranked = [chosen, ...others];
    const ttp = chosen.ttps[0];
    const at = ttp === undefined ? '' : ` at ${ttp} (first trusted third party all providers allow)`;
    const choice = ttp === undefined ? { archetype: chosen.archetype } : { archetype: chosen.archetype, ttp };
    return rankingOf(choice, `${chosen.archetype}${at}: ${rule}`, () => {
      const candidates = a.archetypes.map((o) => {
        const rank = ranked.indexOf(o) + 1;
        if (rank === 0) return explain(o, a.archetypes);
        return explain(o, a.archetypes, rank, rank === 1 ? `chosen by ${rule}` : `feasible, but ${chosen.archetype} was chosen by ${rule}`);
      });
      return candidates.sort((x, y) => (x.rank ?? Infinity) - (y.rank ?? Infinity));
    });
  },
};

/** A candidate's explanation; ranked ones carry their rank and the reason for it. Plain literals: this runs per request. */
function explain(o: ArchetypeOption, all: readonly ArchetypeOption[], rank?: number, rankedReason?: string): CandidateExplanation {
  let min = Infinity;
  let max = -Infinity;
  for (const x of all) {
    min = Math.min(min, x.weight);
    max = Math.max(max, x.weight);
  }
  const score = max === min ? 1 : 1 - (o.weight - min) / (max - min);
  const objectives = [{ objective: 'policyPreference', score, reason: `weight ${o.weight} (lower is preferred)` }];
  const ttp = o.ttps[0];
  if (rank === undefined) {
    return ttp === undefined ? { archetype: o.archetype, feasible: o.feasible, objectives, reason: o.reason } : { archetype: o.archetype, ttp, feasible: o.feasible, objectives, reason: o.reason };
  }
  const reason = rankedReason ?? o.reason;
  return ttp === undefined ? { archetype: o.archetype, feasible: o.feasible, objectives, reason, rank } : { archetype: o.archetype, ttp, feasible: o.feasible, objectives, reason, rank };
}
