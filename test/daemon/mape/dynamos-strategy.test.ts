import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { analyze } from '../../../daemon/mape/analyze.js';
import { plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import { dataRequest } from '../../support/fixtures.js';
import type { ConfigEdit } from '../../support/marketplace-builder.js';
import { archetypeWeight, computeProvidersDeclaredIn, givenSnapshot, relation, steward } from '../../support/marketplace-builder.js';

const rank = (edits: readonly ConfigEdit[], request: Partial<DataRequest>) => {
  const k = givenSnapshot(...edits);
  return dynamosStrategy.rank(k, analyze(k, dataRequest(request)));
};
const onlyThroughTtp = (s: string) => relation(s, { allowedArchetypes: ['dataThroughTtp'] });
const noThroughTtp = (s: string) => relation(s, { allowedArchetypes: ['computeToData'] });

interface ChoiceRow {
  readonly rule: string;
  readonly given?: readonly ConfigEdit[];
  readonly request: Partial<DataRequest>;
  readonly choice: { archetype: string; ttp?: string };
  readonly because: RegExp;
}

const two = ['VU', 'UVA'];
const choices: readonly ChoiceRow[] = [
  {
    rule: 'aggregate with 2 providers that allow it → dataThroughTtp at SURF',
    request: { providers: two, options: { aggregate: true } },
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /^dataThroughTtp at SURF .*rule 1/,
  },
  {
    rule: 'aggregate, but VU disallows dataThroughTtp → computeToData',
    given: [noThroughTtp('VU')],
    request: { providers: two, options: { aggregate: true } },
    choice: { archetype: 'computeToData' },
    because: /rule 3/,
  },
  {
    rule: 'no aggregate with 2 providers → computeToData',
    request: { providers: two, options: { aggregate: false } },
    choice: { archetype: 'computeToData' },
    because: /rule 2/,
  },
  {
    rule: 'no aggregate with 2 providers → computeToData even when dataThroughTtp weighs less',
    given: [archetypeWeight('dataThroughTtp', 50)],
    request: { providers: two, options: { aggregate: false } },
    choice: { archetype: 'computeToData' },
    because: /rule 2/,
  },
  {
    rule: 'no aggregate with 1 provider → lowest weight (computeToData)',
    request: { providers: ['VU'], options: { aggregate: false } },
    choice: { archetype: 'computeToData' },
    because: /rule 3: lowest weight \(100\)/,
  },
  {
    rule: 'no aggregate with 1 provider → lowest weight, whichever it is',
    given: [archetypeWeight('dataThroughTtp', 50)],
    request: { providers: ['VU'] },
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /rule 3: lowest weight \(50\)/,
  },
  {
    rule: 'no aggregate, 1 provider that only allows dataThroughTtp → dataThroughTtp',
    given: [onlyThroughTtp('VU')],
    request: { providers: ['VU'] },
    choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
    because: /rule 3/,
  },
  {
    rule: 'aggregate without a TTP common to all → dataThroughTtp infeasible, computeToData',
    given: [relation('UVA', { allowedComputeProviders: ['otherCompany'] })],
    request: { providers: two, options: { aggregate: true } },
    choice: { archetype: 'computeToData' },
    because: /rule 3/,
  },
  {
    rule: 'the TTP is the first common one in marketplace order',
    given: [computeProvidersDeclaredIn(['otherCompany', 'SURF']), ...two.map((s) => relation(s, { allowedComputeProviders: ['SURF', 'otherCompany'] }))],
    request: { providers: two, options: { aggregate: true } },
    choice: { archetype: 'dataThroughTtp', ttp: 'otherCompany' },
    because: /at otherCompany/,
  },
];

describe('dynamos strategy: the choice', () => {
  for (const row of choices) {
    it(row.rule, () => {
      const ranking = rank(row.given ?? [], row.request);
      assert.deepEqual(ranking.choice, row.choice);
      assert.match(ranking.reason, row.because);
    });
  }

  it('chooses nothing when no archetype is feasible, giving every archetype’s reason', () => {
    const ranking = rank([steward('VU', { computeProviders: [] })], { providers: ['VU'], type: 'genericRequest' });
    assert.equal(ranking.choice, null);
    assert.match(ranking.reason, /^no archetype is feasible \(computeToData: .*; dataThroughTtp: .*\)$/);
  });

  it('leaves sql-aggregate out, with a note, when aggregation falls back to computeToData', () => {
    const k = givenSnapshot(noThroughTtp('VU'));
    const p = plan(k, analyze(k, dataRequest({ providers: two, options: { aggregate: true } })), dynamosStrategy);
    assert.equal(p.kind === 'deploy' && p.archetype, 'computeToData');
    for (const chain of p.explanation.chains) {
      assert.ok(!chain.services.includes('sql-aggregate'), `${chain.party} runs sql-aggregate`);
      assert.ok(chain.notes.some((n) => n.startsWith('sql-aggregate: left out, invalid under computeToData')));
    }
  });
});

describe('dynamos strategy: the explanation', () => {
  it('ranks every feasible candidate, chosen first, and says why the others lost', () => {
    const ranking = rank([], { providers: two, options: { aggregate: true } });
    assert.deepEqual(
      ranking.explainCandidates().map(({ archetype, ttp, feasible, rank }) => ({ archetype, ttp, feasible, rank })),
      [
        { archetype: 'dataThroughTtp', ttp: 'SURF', feasible: true, rank: 1 },
        { archetype: 'computeToData', ttp: undefined, feasible: true, rank: 2 },
      ],
    );
    assert.match(ranking.explainCandidates()[0]?.reason ?? '', /^chosen by rule 1/);
    assert.match(ranking.explainCandidates()[1]?.reason ?? '', /^feasible, but dataThroughTtp was chosen by rule 1/);
  });

  it('lists infeasible candidates last, unranked, with the analysis reason', () => {
    const ranking = rank([noThroughTtp('VU')], { providers: two });
    const last = ranking.explainCandidates().at(-1);
    assert.equal(ranking.explainCandidates().length, 2);
    assert.deepEqual({ archetype: last?.archetype, feasible: last?.feasible, rank: last?.rank, reason: last?.reason }, {
      archetype: 'dataThroughTtp',
      feasible: false,
      rank: undefined,
      reason: 'not allowed by VU',
    });
  });

  it('scores policy preference by weight: the lightest archetype 1, the heaviest 0', () => {
    const ranking = rank([], { providers: two });
    const score = (a: string) => ranking.explainCandidates().find((c) => c.archetype === a)?.objectives[0]?.score;
    assert.deepEqual([score('computeToData'), score('dataThroughTtp')], [1, 0]);
  });
});
