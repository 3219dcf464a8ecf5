import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { DataRequest } from '../../../knowledge/data-request.js';
import type { DenialReason } from '../../../daemon/mape/policy.js';
import { checkProvider, denialReasons, isDenial } from '../../../daemon/mape/policy.js';
import { dataRequest } from '../../support/fixtures.js';
import type { ConfigEdit } from '../../support/marketplace-builder.js';
import { givenMarketplace, gradesDataset, relation, steward } from '../../support/marketplace-builder.js';

interface DenialRow {
  readonly rule: string;
  readonly given?: readonly ConfigEdit[];
  readonly request?: Partial<DataRequest>;
  readonly provider: string;
  readonly reason: DenialReason;
}

const denials: readonly DenialRow[] = [
  { rule: 'a provider that is not a steward of the marketplace', provider: 'TUD', reason: 'UNKNOWN_STEWARD' },
  { rule: 'a provider named like an object property (fail closed)', provider: '__proto__', reason: 'UNKNOWN_STEWARD' },
  { rule: 'a request type the marketplace does not define', request: { type: 'mlRequest' }, provider: 'VU', reason: 'UNKNOWN_REQUEST_TYPE' },
  { rule: 'a steward with no relation at all (RUG)', provider: 'RUG', reason: 'NO_RELATION' },
  { rule: 'a requester the steward has no relation with', request: { requester: 'mallory@example.org' }, provider: 'VU', reason: 'NO_RELATION' },
  { rule: 'a requester named like an object property (fail closed)', request: { requester: 'constructor' }, provider: 'VU', reason: 'NO_RELATION' },
  {
    rule: 'a relation that does not list the request type',
    given: [relation('VU', { requestTypes: ['genericRequest'] })],
    provider: 'VU',
    reason: 'REQUEST_TYPE_NOT_ALLOWED',
  },
  { rule: 'a query reading a table the steward does not hold', request: { tables: ['Personen', 'Studenten'] }, provider: 'VU', reason: 'DATASET_NOT_HELD' },
  {
    rule: 'a query reading a dataset the relation does not allow',
    given: [gradesDataset(['VU'], false)],
    request: { tables: ['Personen', 'Cijfers'] },
    provider: 'VU',
    reason: 'DATASET_NOT_ALLOWED',
  },
  {
    rule: "no archetype both in the steward's list and allowed by the relation",
    given: [steward('VU', { archetypes: ['computeToData'] }), relation('VU', { allowedArchetypes: ['dataThroughTtp'] })],
    provider: 'VU',
    reason: 'NO_COMMON_ARCHETYPE',
  },
];

describe('policy: checkProvider', () => {
  for (const row of denials) {
    it(`denies ${row.reason} for ${row.rule}`, () => {
      const verdict = checkProvider(givenMarketplace(...(row.given ?? [])), dataRequest(row.request), row.provider);
      assert.ok(isDenial(verdict), `expected a denial, got ${JSON.stringify(verdict)}`);
      assert.deepEqual({ provider: verdict.provider, reason: verdict.reason }, { provider: row.provider, reason: row.reason });
      assert.match(verdict.message, /^\S.*\.$/, 'the reason is a sentence');
    });
  }

  it('has a denial row for every reason code', () => {
    assert.deepEqual(new Set(denials.map((r) => r.reason)), new Set(denialReasons));
  });

  it('checks in a fixed order: the first failing rule is the reason', () => {
    const m = givenMarketplace(relation('VU', { requestTypes: ['genericRequest'], datasets: [] }));
    const verdict = checkProvider(m, dataRequest({ tables: ['Studenten'] }), 'VU');
    assert.ok(isDenial(verdict));
    assert.equal(verdict.reason, 'REQUEST_TYPE_NOT_ALLOWED');
  });
});

interface GrantRow {
  readonly rule: string;
  readonly given?: readonly ConfigEdit[];
  readonly request?: Partial<DataRequest>;
  readonly archetypes: readonly string[];
  readonly computeProviders: readonly string[];
  readonly datasets?: readonly string[];
}

const grants: readonly GrantRow[] = [
  {
    rule: 'the example: both archetypes, TTPs = steward [SURF, otherCompany] ∩ relation [SURF]',
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: ['SURF'],
  },
  {
    rule: 'archetypes are the relation ∩ the steward, in the steward’s order',
    given: [steward('VU', { archetypes: ['dataThroughTtp', 'computeToData'] })],
    archetypes: ['dataThroughTtp', 'computeToData'],
    computeProviders: ['SURF'],
  },
  {
    rule: 'a relation allowing one archetype grants only that one',
    given: [relation('VU', { allowedArchetypes: ['computeToData'] })],
    archetypes: ['computeToData'],
    computeProviders: ['SURF'],
  },
  {
    rule: 'TTPs are the steward ∩ the relation, in the steward’s order',
    given: [relation('VU', { allowedComputeProviders: ['otherCompany', 'SURF'] })],
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: ['SURF', 'otherCompany'],
  },
  {
    rule: 'a TTP the relation allows but the steward does not trust is dropped',
    given: [steward('VU', { computeProviders: ['SURF'] }), relation('VU', { allowedComputeProviders: ['SURF', 'otherCompany'] })],
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: ['SURF'],
  },
  {
    rule: 'no common TTP still grants (TTP choice fails later)',
    given: [relation('VU', { allowedComputeProviders: [] })],
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: [],
  },
  {
    rule: 'table names compare case-insensitively, as in SQL',
    request: { tables: ['personen'] },
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: ['SURF'],
    datasets: ['wageGap'],
  },
  {
    rule: 'datasets are those the query reads',
    given: [gradesDataset(['VU'])],
    request: { tables: ['Cijfers'] },
    archetypes: ['computeToData', 'dataThroughTtp'],
    computeProviders: ['SURF'],
    datasets: ['grades'],
  },
];

describe('policy: grants', () => {
  for (const row of grants) {
    it(`grants VU: ${row.rule}`, () => {
      const verdict = checkProvider(givenMarketplace(...(row.given ?? [])), dataRequest(row.request), 'VU');
      assert.ok(!isDenial(verdict), `expected a grant, got ${JSON.stringify(verdict)}`);
      assert.deepEqual(verdict, {
        steward: 'VU',
        datasets: row.datasets ?? ['wageGap'],
        archetypes: row.archetypes,
        computeProviders: row.computeProviders,
      });
    });
  }
});
