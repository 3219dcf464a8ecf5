import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { analyze } from '../../../daemon/mape/analyze.js';
import { createThresholdStrategy, thresholdConfigSchema } from '../../../daemon/mape/strategies/threshold-strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import { dataRequest } from '../../support/fixtures.js';
import type { ConfigEdit, LoadSample } from '../../support/marketplace-builder.js';
import { foldAll, givenSnapshot, loadsRead, relation } from '../../support/marketplace-builder.js';

const now = 100_000;
const threshold = createThresholdStrategy();
const load = (cpu: number, memory = 0.1): LoadSample => ({ cpu, memory });
const calm = { VU: load(0.3), UVA: load(0.2), SURF: load(0.1) };
const aggregate = { options: { aggregate: true } };
const bothTtps = ['VU', 'UVA'].map((s) => relation(s, { allowedComputeProviders: ['SURF', 'otherCompany'] }));
const only = (archetype: string) => ['VU', 'UVA'].map((s) => relation(s, { allowedArchetypes: [archetype] }));

const rank = (loads: Readonly<Record<string, LoadSample>>, request: Partial<DataRequest> = {}, edits: readonly ConfigEdit[] = []) => {
  const k = foldAll(givenSnapshot(...edits), [loadsRead(now, loads)]);
  return threshold.rank(k, analyze(k, dataRequest(request)));
};

interface Row {
  readonly rule: string;
  readonly loads: Readonly<Record<string, LoadSample>>;
  readonly request?: Partial<DataRequest>;
  readonly given?: readonly ConfigEdit[];
  readonly choice: { archetype: string; ttp?: string };
  readonly because: RegExp;
}

const rows: readonly Row[] = [
  {
    rule: 'rule 1: stewards under 80 %, aggregation, TTP under 80 % → dataThroughTtp at the TTP',
    loads: calm,
    request: aggregate,
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^dataThroughTtp at SURF: rule 1 .*every steward is under 80 % \(VU cpu 30 %, memory 10 %; UVA .*\), aggregation is requested and SURF is under 80 % \(cpu 10 %/,
  },
  {
    rule: 'rule 2: stewards under 80 %, no aggregation → computeToData',
    loads: calm,
    choice: { archetype: 'computeToData' },
    because: /^computeToData: rule 2 .*no aggregation is requested$/,
  },
  {
    rule: 'rule 2: stewards under 80 %, aggregation, but the TTP is at 85 % → computeToData',
    loads: { ...calm, SURF: load(0.85) },
    request: aggregate,
    choice: { archetype: 'computeToData' },
    because: /^computeToData: rule 2 .*aggregation is requested but no allowed third party is under 80 %$/,
  },
  {
    rule: 'rule 1: the first TTP under 80 % in marketplace order, skipping an overloaded one',
    loads: { ...calm, SURF: load(0.9), otherCompany: load(0.2) },
    request: aggregate,
    given: bothTtps,
    choice: { archetype: 'dataThroughTtp', ttp: 'otherCompany' },
    because: /rule 1 .*otherCompany is under 80 %/,
  },
  {
    rule: 'rule 3: a steward at 85 % CPU offloads to a TTP under 80 %',
    loads: { ...calm, VU: load(0.85) },
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^dataThroughTtp at SURF: rule 3 .*VU cpu 85 % is at or over 80 %, so the work moves to SURF/,
  },
  {
    rule: 'rule 3: memory counts too, and exactly 80 % is overloaded',
    loads: { ...calm, UVA: load(0.1, 0.8) },
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /rule 3 .*UVA memory 80 % is at or over 80 %/,
  },
  {
    rule: 'rule 4: a steward overloaded and every TTP overloaded → computeToData',
    loads: { ...calm, VU: load(0.9), SURF: load(0.1, 0.95) },
    choice: { archetype: 'computeToData' },
    because: /^computeToData: rule 4 .*VU cpu 90 % is at or over 80 % and no allowed third party is under 80 %$/,
  },
  {
    rule: 'rule 1 infeasible (a steward refuses dataThroughTtp) → falls to rule 2',
    loads: calm,
    request: aggregate,
    given: [relation('VU', { allowedArchetypes: ['computeToData'] })],
    choice: { archetype: 'computeToData' },
    because: /rule 2 .*aggregation is requested but no archetype that computes at a third party is feasible$/,
  },
  {
    rule: 'rule 3 infeasible (dataThroughTtp refused) → falls to rule 4',
    loads: { ...calm, VU: load(0.9) },
    given: only('computeToData'),
    choice: { archetype: 'computeToData' },
    because: /rule 4/,
  },
  {
    rule: 'rule 2 infeasible (computeToData refused) → no rule applies, the dynamos rules decide',
    loads: calm,
    given: only('dataThroughTtp'),
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^no rule of Listing 3\.1 found a feasible archetype \(rule 2 does not apply: computing at the stewards is not feasible\); fell back to the dynamos rules \(dataThroughTtp at SURF .*rule 3/,
  },
  {
    rule: 'rule 4 infeasible (computeToData refused, TTP overloaded) → the dynamos rules decide',
    loads: { ...calm, VU: load(0.9), SURF: load(0.9) },
    given: only('dataThroughTtp'),
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /rule 3 does not apply: VU cpu 90 % is at or over 80 % but no allowed third party .*rule 4 does not apply.*fell back to the dynamos rules/,
  },
  {
    rule: 'fallback: a steward’s readings are 45 s old (limit 30 s)',
    loads: { ...calm, VU: { cpu: 0.3, memory: 0.1, observedAt: now - 45_000 } },
    choice: { archetype: 'computeToData' },
    because: /^metrics stale: VU cpu 45 s old \(limit 30 s\), VU memory 45 s old \(limit 30 s\); fell back to the dynamos rules \(computeToData: rule 2/,
  },
  {
    rule: 'fallback: the TTP was never read, and rule 1 needs it',
    loads: { VU: load(0.3), UVA: load(0.2) },
    request: aggregate,
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^metrics missing: SURF cpu never read, SURF memory never read; fell back to the dynamos rules/,
  },
  {
    rule: 'no fallback: the TTP was never read, but rule 2 does not need it',
    loads: { VU: load(0.3), UVA: load(0.2) },
    choice: { archetype: 'computeToData' },
    because: /^computeToData: rule 2/,
  },
  {
    rule: 'fallback: no metrics source at all',
    loads: {},
    request: aggregate,
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^no metrics: no party has reported any reading; fell back to the dynamos rules \(dataThroughTtp at SURF .*rule 1/,
  },
];

describe('threshold strategy: Listing 3.1', () => {
  for (const row of rows) {
    it(row.rule, () => {
      const ranking = rank(row.loads, row.request, row.given);
      assert.deepEqual(ranking.choice, row.choice);
      assert.match(ranking.reason, row.because);
    });
  }

  it('uses the configured threshold', () => {
    const k = foldAll(givenSnapshot(), [loadsRead(now, { ...calm, VU: load(0.6) })]);
    const ranking = createThresholdStrategy({ loadThreshold: 0.5 }).rank(k, analyze(k, dataRequest()));
    assert.deepEqual(ranking.choice, { archetype: 'dataThroughTtp', ttp: 'SURF' });
    assert.match(ranking.reason, /VU cpu 60 % is at or over 50 %/);
  });

  it('rejects a threshold outside (0, 1]', () => {
    for (const loadThreshold of [0, 1.2, -0.1]) assert.equal(thresholdConfigSchema.safeParse({ loadThreshold }).success, false, `${loadThreshold}`);
  });
});

describe('threshold strategy: the explanation', () => {
  it('explains every candidate with stewardLoad and ttpLoad, the choice first', () => {
    const ranking = rank({ ...calm, VU: load(0.85), SURF: load(0.4), otherCompany: load(0.2) }, {}, bothTtps);
    assert.deepEqual(
      ranking.explainCandidates().map((c) => [c.archetype, c.ttp, c.rank, c.objectives.map((o) => [o.objective, Number(o.score.toFixed(2))])]),
      [
        ['dataThroughTtp', 'SURF', 1, [['stewardLoad', 0.15], ['ttpLoad', 0.6]]],
        ['computeToData', undefined, 2, [['stewardLoad', 0.15], ['ttpLoad', 1]]],
        ['dataThroughTtp', 'otherCompany', 3, [['stewardLoad', 0.15], ['ttpLoad', 0.8]]],
      ],
    );
    const surf = ranking.explainCandidates()[0];
    assert.match(surf?.objectives[0]?.reason ?? '', /VU cpu 85 %, memory 10 %; UVA cpu 20 %, memory 10 %: highest VU cpu 85 %, at or over 80 %/);
    assert.match(surf?.objectives[1]?.reason ?? '', /^SURF cpu 40 %, memory 10 %: highest SURF cpu 40 %, under 80 %$/);
    assert.match(ranking.explainCandidates()[1]?.reason ?? '', /^feasible, but dataThroughTtp at SURF was chosen$/);
  });

  it('lists an infeasible archetype last, unranked, with the analysis reason', () => {
    const ranking = rank(calm, {}, [relation('VU', { allowedArchetypes: ['computeToData'] })]);
    assert.deepEqual(ranking.explainCandidates().map((c) => [c.archetype, c.feasible, c.rank, c.reason]).at(-1), ['dataThroughTtp', false, undefined, 'not allowed by VU']);
  });

  it('says which TTP reading it could not see when a candidate’s TTP was never read', () => {
    const ranking = rank({ VU: load(0.3), UVA: load(0.2) });
    const ttpLoad = ranking.explainCandidates().find((c) => c.ttp === 'SURF')?.objectives.find((o) => o.objective === 'ttpLoad');
    assert.deepEqual(ttpLoad, { objective: 'ttpLoad', score: 0, reason: 'unknown: SURF cpu never read, SURF memory never read' });
  });
});
