import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { ChainResult, PartyChain } from '../../../daemon/mape/chain.js';
import { buildChains } from '../../../daemon/mape/chain.js';
import type { Marketplace } from '../../../knowledge/marketplace/load-marketplace.js';
import { dataRequest } from '../../support/fixtures.js';
import type { ConfigEdit } from '../../support/marketplace-builder.js';
import { givenMarketplace, service, servicesDeclaredIn, withOutputsUnchecked } from '../../support/marketplace-builder.js';

type Options = Record<string, boolean>;
const chainsOf = (m: Marketplace, archetype: string, stewards: readonly string[], options: Options = {}): ChainResult =>
  buildChains(m, dataRequest({ options }), archetype, stewards, archetype === 'dataThroughTtp' ? 'SURF' : undefined);

function okChains(result: ChainResult): readonly PartyChain[] {
  assert.ok(result.ok, `expected chains, got: ${result.ok ? '' : result.reason}`);
  return result.chains;
}
const servicesAt = (result: ChainResult) => Object.fromEntries(okChains(result).map((c) => [c.party, c.services]));

interface ServiceRow {
  readonly rule: string;
  readonly archetype: 'computeToData' | 'dataThroughTtp';
  readonly stewards: readonly string[];
  readonly options: Options;
  readonly services: Record<string, readonly string[]>;
}

const q = 'sql-query';
const anon = 'sql-anonymize';
const agg = 'sql-aggregate';
const alg = 'sql-algorithm';
const graph = 'sql-graph';

const selections: readonly ServiceRow[] = [
  { rule: 'the required services only, when no option is on', archetype: 'computeToData', stewards: ['VU'], options: {}, services: { VU: [q, alg] } },
  {
    rule: 'an option that is off adds nothing',
    archetype: 'computeToData',
    stewards: ['VU'],
    options: { anonymize: false, graph: false },
    services: { VU: [q, alg] },
  },
  { rule: 'option anonymize adds sql-anonymize', archetype: 'computeToData', stewards: ['VU'], options: { anonymize: true }, services: { VU: [q, anon, alg] } },
  { rule: 'option graph adds sql-graph', archetype: 'computeToData', stewards: ['VU'], options: { graph: true }, services: { VU: [q, alg, graph] } },
  {
    rule: 'option aggregate adds sql-aggregate (at the TTP)',
    archetype: 'dataThroughTtp',
    stewards: ['VU'],
    options: { aggregate: true },
    services: { VU: [q], SURF: [agg, alg] },
  },
  {
    rule: 'UVA mandates sql-anonymize under computeToData',
    archetype: 'computeToData',
    stewards: ['VU', 'UVA'],
    options: {},
    services: { VU: [q, alg], UVA: [q, anon, alg] },
  },
  {
    rule: 'UVA mandates sql-anonymize under dataThroughTtp',
    archetype: 'dataThroughTtp',
    stewards: ['VU', 'UVA'],
    options: {},
    services: { VU: [q], UVA: [q, anon], SURF: [alg] },
  },
  {
    rule: 'through a TTP, dataProvider services run at stewards and computeProvider services at the TTP',
    archetype: 'dataThroughTtp',
    stewards: ['VU', 'UVA'],
    options: { anonymize: true, aggregate: true, graph: true },
    services: { VU: [q, anon], UVA: [q, anon], SURF: [agg, alg, graph] },
  },
];

describe('chain: services per party', () => {
  for (const row of selections) {
    it(`${row.archetype}: ${row.rule}`, () => {
      assert.deepEqual(servicesAt(chainsOf(givenMarketplace(), row.archetype, row.stewards, row.options)), row.services);
    });
  }

  it('gives computeToData stewards role all, and dataThroughTtp stewards dataProvider and the TTP computeProvider', () => {
    const m = givenMarketplace();
    const roles = (archetype: string) => okChains(chainsOf(m, archetype, ['VU'])).map(({ party, partyKind, role }) => ({ party, partyKind, role }));
    assert.deepEqual(roles('computeToData'), [{ party: 'VU', partyKind: 'dataSteward', role: 'all' }]);
    assert.deepEqual(roles('dataThroughTtp'), [
      { party: 'VU', partyKind: 'dataSteward', role: 'dataProvider' },
      { party: 'SURF', partyKind: 'computeProvider', role: 'computeProvider' },
    ]);
  });

  it('notes why every service is in the chain', () => {
    const [uva] = okChains(chainsOf(givenMarketplace(), 'computeToData', ['UVA'], { graph: true }));
    assert.deepEqual(uva?.notes, [
      'sql-query: required by sqlDataRequest',
      'sql-algorithm: required by sqlDataRequest',
      'sql-graph: option "graph" is on',
      'sql-anonymize: mandated by UVA for sqlDataRequest',
    ]);
  });
});

describe('chain: notes go with the party that runs the service', () => {
  it('puts the notes of services run at the TTP on the TTP, once, and keeps local ones local', () => {
    const [vu, uva, surf] = okChains(chainsOf(givenMarketplace(), 'dataThroughTtp', ['VU', 'UVA'], { aggregate: true }));
    assert.deepEqual(vu?.notes, ['sql-query: required by sqlDataRequest']);
    assert.deepEqual(uva?.notes, ['sql-query: required by sqlDataRequest', 'sql-anonymize: mandated by UVA for sqlDataRequest']);
    assert.deepEqual(surf?.notes, ['combines the data of VU, UVA', 'sql-algorithm: required by sqlDataRequest', 'sql-aggregate: option "aggregate" is on']);
  });
});

describe('chain: archetype-invalid services', () => {
  it('leaves optional sql-aggregate out under computeToData, with a note', () => {
    const [vu] = okChains(chainsOf(givenMarketplace(), 'computeToData', ['VU'], { aggregate: true }));
    assert.deepEqual(vu?.services, [q, alg]);
    assert.ok(vu?.notes.includes('sql-aggregate: left out, invalid under computeToData (option "aggregate" is on)'));
  });

  const infeasible: readonly { rule: string; given: ConfigEdit; archetype: string; reason: RegExp }[] = [
    {
      rule: "a steward's mandated service",
      given: service(anon, { invalidArchetypes: ['dataThroughTtp'] }),
      archetype: 'dataThroughTtp',
      reason: /sql-anonymize is mandated by UVA .* invalid under dataThroughTtp/,
    },
    {
      rule: 'a required service',
      given: service(alg, { invalidArchetypes: ['computeToData'] }),
      archetype: 'computeToData',
      reason: /sql-algorithm is required by sqlDataRequest but invalid under computeToData/,
    },
  ];
  for (const row of infeasible) {
    it(`makes ${row.archetype} infeasible when ${row.rule} is invalid under it`, () => {
      const result = chainsOf(givenMarketplace(row.given), row.archetype, ['VU', 'UVA']);
      assert.ok(!result.ok);
      assert.match(result.reason, row.reason);
    });
  }
});

describe('chain: order', () => {
  const everything = { anonymize: true, aggregate: true, graph: true };
  const declarations: readonly (readonly string[])[] = [
    [q, anon, alg, graph, agg],
    [graph, alg, agg, anon, q],
    [alg, q, graph, anon, agg],
  ];
  for (const order of declarations) {
    it(`runs query → anonymize → aggregate → algorithm → graph when declared as ${order.join(', ')}`, () => {
      const m = givenMarketplace(servicesDeclaredIn(order), service(agg, { invalidArchetypes: [] }));
      assert.deepEqual(servicesAt(chainsOf(m, 'computeToData', ['VU'], everything)), { VU: [q, anon, agg, alg, graph] });
    });
  }

  it('reports a cycle among the selected services as infeasible', () => {
    const m = withOutputsUnchecked(givenMarketplace(), graph, [q]);
    const result = chainsOf(m, 'computeToData', ['VU'], { graph: true });
    assert.ok(!result.ok);
    assert.match(result.reason, /^allowedOutputs form a cycle: /);
  });

  const broken: readonly { rule: string; archetype: string; reason: string }[] = [
    { rule: 'inside one party', archetype: 'computeToData', reason: 'sql-anonymize cannot feed sql-algorithm (not in its allowedOutputs)' },
    { rule: 'from a steward to the TTP', archetype: 'dataThroughTtp', reason: 'sql-anonymize cannot feed sql-algorithm (not in its allowedOutputs)' },
  ];
  for (const row of broken) {
    it(`reports a service that cannot feed the next ${row.rule}`, () => {
      const m = givenMarketplace(service(anon, { allowedOutputs: [agg] }));
      const result = chainsOf(m, row.archetype, ['UVA']);
      assert.deepEqual(result, { ok: false, reason: row.reason });
    });
  }
});

describe('chain: nothing to run', () => {
  it('makes genericRequest (no services) infeasible', () => {
    const result = buildChains(givenMarketplace(), dataRequest({ type: 'genericRequest' }), 'computeToData', ['VU']);
    assert.deepEqual(result, { ok: false, reason: 'request type "genericRequest" has no services to run' });
  });

  it('makes dataThroughTtp infeasible without a TTP', () => {
    const result = buildChains(givenMarketplace(), dataRequest(), 'dataThroughTtp', ['VU']);
    assert.ok(!result.ok);
    assert.match(result.reason, /needs a trusted third party/);
  });
});
