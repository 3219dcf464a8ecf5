import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { ArchetypeOption } from '../../../daemon/mape/analyze.js';
import { analyze } from '../../../daemon/mape/analyze.js';
import { fold } from '../../../knowledge/fold.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { dataRequest, snapshotOf } from '../../support/fixtures.js';
import type { ConfigEdit } from '../../support/marketplace-builder.js';
import { computeProvidersDeclaredIn, givenMarketplace, givenSnapshot, relation, service, steward } from '../../support/marketplace-builder.js';

const option = (options: readonly ArchetypeOption[], name: string) => {
  const found = options.find((o) => o.archetype === name);
  assert.ok(found, `no option ${name}`);
  return found;
};

describe('analyze: who is authorised', () => {
  it('authorises VU and UVA in request order and denies RUG (no relation) for the original request', () => {
    const a = analyze(givenSnapshot(), dataRequest());
    assert.deepEqual(a.authorised.map((g) => g.steward), ['VU', 'UVA']);
    assert.deepEqual(a.denied.map(({ provider, reason }) => ({ provider, reason })), [{ provider: 'RUG', reason: 'NO_RELATION' }]);
  });

  it('checks a provider named twice once', () => {
    const a = analyze(givenSnapshot(), dataRequest({ providers: ['VU', 'RUG', 'VU', 'RUG'] }));
    assert.deepEqual(a.authorised.map((g) => g.steward), ['VU']);
    assert.deepEqual(a.denied.map((d) => d.provider), ['RUG']);
  });

  it('leaves out an authorised steward that is offline, saying so', () => {
    const k = fold(givenSnapshot(), { kind: 'partyMarked', party: 'VU', offline: true, at: 0 });
    const a = analyze(k, dataRequest());
    assert.deepEqual(a.authorised.map((g) => g.steward), ['UVA']);
    assert.deepEqual(a.denied.map(({ provider, reason }) => ({ provider, reason })), [{ provider: 'VU', reason: 'STEWARD_OFFLINE' }, { provider: 'RUG', reason: 'NO_RELATION' }]);
  });

  it('treats a steward whose fresh `up` reading is 0 as offline, and a stale one as unknown (online)', () => {
    const down = (at: number) => fold(givenSnapshot(), { kind: 'metricsRead', reading: { at, samples: [{ party: 'VU', signal: 'up', value: 0, at: 0 }], failures: [] } });
    assert.deepEqual(analyze(down(1_000), dataRequest()).authorised.map((g) => g.steward), ['UVA']);
    assert.deepEqual(analyze(down(60_000), dataRequest()).authorised.map((g) => g.steward), ['VU', 'UVA']);
  });

  it('records the policy revision it decided under', () => {
    const k = givenSnapshot();
    assert.equal(analyze(k, dataRequest()).policyRevision, k.marketplace.revision);
  });
});

interface OptionRow {
  readonly rule: string;
  readonly given?: readonly ConfigEdit[];
  readonly request?: Partial<DataRequest>;
  readonly archetype: string;
  readonly feasible: boolean;
  readonly reason: RegExp;
  readonly ttps: readonly string[];
}

const options: readonly OptionRow[] = [
  {
    rule: 'computeToData is feasible when every authorised steward allows it',
    archetype: 'computeToData',
    feasible: true,
    reason: /allowed by VU, UVA/,
    ttps: [],
  },
  { rule: 'dataThroughTtp offers the TTPs every steward allows', archetype: 'dataThroughTtp', feasible: true, reason: /allowed by VU, UVA/, ttps: ['SURF'] },
  {
    rule: 'TTPs follow marketplace order, not steward or relation order',
    given: [
      computeProvidersDeclaredIn(['otherCompany', 'SURF']),
      relation('VU', { allowedComputeProviders: ['SURF', 'otherCompany'] }),
      relation('UVA', { allowedComputeProviders: ['SURF', 'otherCompany'] }),
    ],
    archetype: 'dataThroughTtp',
    feasible: true,
    reason: /allowed by/,
    ttps: ['otherCompany', 'SURF'],
  },
  {
    rule: 'an archetype one steward refuses is infeasible, naming the steward',
    given: [relation('VU', { allowedArchetypes: ['computeToData'] })],
    archetype: 'dataThroughTtp',
    feasible: false,
    reason: /^not allowed by VU$/,
    ttps: [],
  },
  {
    rule: 'dataThroughTtp without a TTP common to all stewards is infeasible',
    given: [steward('UVA', { computeProviders: ['otherCompany'] }), relation('UVA', { allowedComputeProviders: ['otherCompany'] })],
    archetype: 'dataThroughTtp',
    feasible: false,
    reason: /no trusted third party is allowed by all of VU, UVA/,
    ttps: [],
  },
  {
    rule: 'with nobody authorised nothing is feasible',
    request: { providers: ['RUG'] },
    archetype: 'computeToData',
    feasible: false,
    reason: /no provider is authorised/,
    ttps: [],
  },
  {
    rule: 'an archetype whose chain cannot be built is infeasible with the chain’s reason',
    given: [service('sql-anonymize', { invalidArchetypes: ['computeToData'] })],
    archetype: 'computeToData',
    feasible: false,
    reason: /sql-anonymize is mandated by UVA for sqlDataRequest but invalid under computeToData/,
    ttps: [],
  },
  {
    rule: 'genericRequest (no services) is infeasible',
    request: { type: 'genericRequest' },
    archetype: 'computeToData',
    feasible: false,
    reason: /no services to run/,
    ttps: [],
  },
];

describe('analyze: archetype options', () => {
  for (const row of options) {
    it(row.rule, () => {
      const a = analyze(givenSnapshot(...(row.given ?? [])), dataRequest(row.request));
      const o = option(a.archetypes, row.archetype);
      assert.deepEqual({ feasible: o.feasible, ttps: o.ttps }, { feasible: row.feasible, ttps: row.ttps });
      assert.match(o.reason, row.reason);
    });
  }

  it('offers only online TTPs, and none when every allowed TTP is offline', () => {
    const marked = (k: ReturnType<typeof givenSnapshot>, party: string) => fold(k, { kind: 'partyMarked', party, offline: true, at: 0 });
    const bothTrusted = givenSnapshot(relation('VU', { allowedComputeProviders: ['SURF', 'otherCompany'] }), relation('UVA', { allowedComputeProviders: ['SURF', 'otherCompany'] }));
    const throughTtp = (k: ReturnType<typeof givenSnapshot>) => option(analyze(k, dataRequest({ options: { aggregate: true } })).archetypes, 'dataThroughTtp');
    assert.deepEqual(throughTtp(bothTrusted).ttps, ['SURF', 'otherCompany']);
    assert.deepEqual(throughTtp(marked(bothTrusted, 'SURF')).ttps, ['otherCompany']);
    const none = throughTtp(marked(marked(bothTrusted, 'SURF'), 'otherCompany'));
    assert.equal(none.feasible, false);
    assert.match(none.reason, /is offline \(SURF, otherCompany\)/);
  });

  it('lists every archetype of the marketplace with its weight and where it computes', () => {
    const a = analyze(givenSnapshot(), dataRequest());
    assert.deepEqual(
      a.archetypes.map(({ archetype, weight, computeAt }) => ({ archetype, weight, computeAt })),
      [
        { archetype: 'computeToData', weight: 100, computeAt: 'dataProvider' },
        { archetype: 'dataThroughTtp', weight: 200, computeAt: 'other' },
      ],
    );
  });

  it('is pure: a frozen snapshot gives the same analysis twice', () => {
    const k = snapshotOf(deepFreeze(givenMarketplace()));
    const request = deepFreeze(dataRequest({ options: { aggregate: true, anonymize: true } }));
    assert.deepEqual(analyze(k, request), analyze(k, request));
  });
});

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

describe('analyze: answers kept per marketplace', () => {
  /** The same question asked of a copy of the marketplace, which has no memory yet. */
  const afresh = (k: KnowledgeSnapshot, req: DataRequest) => analyze({ ...k, marketplace: { ...k.marketplace } }, req);

  it('gives what a fresh analysis gives, for the request asked, as parties go offline and requests differ', () => {
    const base = givenSnapshot();
    const states: [string, KnowledgeSnapshot][] = [
      ['all online', base],
      ['VU offline', fold(base, { kind: 'partyMarked', party: 'VU', offline: true, at: 0 })],
      ['SURF offline', fold(base, { kind: 'partyMarked', party: 'SURF', offline: true, at: 0 })],
      ['SURF reads up 0', fold(base, { kind: 'metricsRead', reading: { at: 1_000, samples: [{ party: 'SURF', signal: 'up', value: 0, at: 1_000 }], failures: [] } })],
      ['all online again', base],
    ];
    const requests: DataRequest[] = [
      dataRequest(),
      dataRequest({ options: { aggregate: true } }),
      dataRequest({ providers: ['UVA', 'VU'] }),
      dataRequest({ requester: 'someone@else.example' }),
      dataRequest({ tables: ['Personen'] }),
      dataRequest({ type: 'genericRequest' }),
    ];
    let n = 0;
    for (const [state, k] of states) {
      for (const req of requests) {
        const asked = { ...req, id: `req-${n++}` };
        const a = analyze(k, asked);
        assert.equal(a.request, asked, `${state}: the analysis is of the request asked`);
        assert.deepEqual(a, afresh(k, asked), `${state}, ${JSON.stringify(req.options)} ${req.providers.join()} ${req.requester} ${req.tables.join()} ${req.type}`);
      }
    }
    assert.deepEqual(option(analyze(states[2]?.[1] as KnowledgeSnapshot, dataRequest({ options: { aggregate: true } })).archetypes, 'dataThroughTtp').ttps, [], 'SURF offline is not served from memory');
  });
});
