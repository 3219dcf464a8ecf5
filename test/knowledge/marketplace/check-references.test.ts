import assert from 'node:assert/strict';
import type { MarketplaceInput } from '../../../knowledge/marketplace/marketplace-schema.js';
import { validateMarketplace } from '../../../knowledge/marketplace/load-marketplace.js';
import type { Problem } from '../../../knowledge/problems.js';
import { exampleConfig } from '../../support/fixtures.js';

/** The example config with one change; `c` is loosely typed so a row can write what the schema forbids. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Change = (c: any) => void;

function problemsAfter(change: Change): readonly Problem[] {
  const config: MarketplaceInput = exampleConfig();
  change(config);
  const result = validateMarketplace(config, '/data');
  return result.ok ? [] : result.problems;
}

const analyst = 'analyst@uva.example';

describe('marketplace problems', () => {
  const rows: { rule: string; change: Change; path: string; message: RegExp }[] = [
    {
      rule: 'an unknown key deep inside a relation is rejected at its own path',
      change: (c) => (c.dataStewards.UVA.relations[analyst].allowedArchetype = ['computeToData']),
      path: 'dataStewards.UVA.relations["analyst@uva.example"].allowedArchetype',
      message: /^unknown key$/,
    },
    {
      rule: 'a value of the wrong type names the expected type',
      change: (c) => (c.archetypes.computeToData.weight = 'heavy'),
      path: 'archetypes.computeToData.weight',
      message: /expected number, received string/,
    },
    {
      rule: 'a relation may only allow archetypes the marketplace defines',
      change: (c) => (c.dataStewards.VU.relations[analyst].allowedArchetypes = ['computeToData', 'dataThroughTTP']),
      path: 'dataStewards.VU.relations["analyst@uva.example"].allowedArchetypes[1]',
      message: /^unknown archetype "dataThroughTTP" \(known: computeToData, dataThroughTtp\)$/,
    },
    {
      rule: 'a request type may only require microservices of the catalog',
      change: (c) => (c.requestTypes.sqlDataRequest.requiredServices = ['sql-query', 'sql-algoritm']),
      path: 'requestTypes.sqlDataRequest.requiredServices[1]',
      message: /^unknown microservice "sql-algoritm"/,
    },
    {
      rule: 'a steward holding a dataset names a file for every table',
      change: (c) => delete c.dataStewards.VU.datasets.wageGap.tables.Aanstellingen,
      path: 'dataStewards.VU.datasets.wageGap.tables',
      message: /^missing a file for table "Aanstellingen"$/,
    },
    {
      rule: "a steward's anonymization names tables of the dataset",
      change: (c) => (c.dataStewards.UVA.datasets.wageGap.anonymization = { Salaris: { Bedrag: 'remove' } }),
      path: 'dataStewards.UVA.datasets.wageGap.anonymization.Salaris',
      message: /^"Salaris" is not a table of dataset wageGap$/,
    },
    {
      rule: "a dataset's anonymization names its own tables",
      change: (c) => (c.datasets.wageGap.anonymization = { Cijfers: { Studentnr: 'pseudonymize' } }),
      path: 'datasets.wageGap.anonymization.Cijfers',
      message: /^"Cijfers" is not a table of dataset wageGap$/,
    },
    {
      rule: 'sql-anonymize runs at the data steward, never at a TTP',
      change: (c) => (c.microservices['sql-anonymize'].label = 'computeProvider'),
      path: 'microservices["sql-anonymize"].label',
      message: /^sql-anonymize runs at the data steward, before the query/,
    },
    {
      rule: 'two datasets of one steward may not share a table name, whatever its case',
      change: (c) => {
        c.datasets.staff = { tables: ['personen'] };
        c.dataStewards.UVA.datasets.staff = { tables: { personen: 'UVA/staff.csv' } };
      },
      path: 'dataStewards.UVA.datasets.staff',
      message: /^table "personen" is also in dataset wageGap \(as "Personen"\); a job holding both could not tell them apart$/,
    },
    {
      rule: 'one dataset may not list a table twice, whatever its case',
      change: (c) => c.datasets.wageGap.tables.push('PERSONEN'),
      path: 'datasets.wageGap.tables[2]',
      message: /^table "PERSONEN" repeats "Personen"/,
    },
    {
      rule: 'allowedOutputs may not form a cycle, and the problem names it',
      change: (c) => (c.microservices['sql-graph'].allowedOutputs = ['sql-query']),
      path: 'microservices["sql-algorithm"]',
      message: /^allowedOutputs form a cycle: sql-algorithm → sql-graph → sql-query → sql-algorithm$/,
    },
    {
      rule: 'every microservice needs an implementation in this build',
      change: (c) => (c.microservices['sql-magic'] = { label: 'computeProvider' }),
      path: 'microservices["sql-magic"]',
      message: /^microservice "sql-magic" has no implementation in this build$/,
    },
    {
      rule: 'a party is either a data steward or a compute provider',
      change: (c) => (c.computeProviders.RUG = {}),
      path: 'computeProviders.RUG',
      message: /^"RUG" is both a data steward and a compute provider/,
    },
    {
      rule: 'party names stay distinct once made job names (lower case, punctuation as "-")',
      change: (c) => (c.computeProviders['surf!'] = {}),
      path: 'computeProviders["surf!"]',
      message: /^"surf!" and "SURF" differ only in case or punctuation/,
    },
    {
      rule: 'a dataset named like an Object property is unknown, not a crash',
      change: (c) => (c.dataStewards.VU.datasets.constructor = { tables: { A: 'VU/a.csv' } }),
      path: 'dataStewards.VU.datasets.constructor',
      message: /^unknown dataset "constructor"/,
    },
    {
      rule: 'a key "__proto__" is reported, not silently dropped with its anonymization',
      change: (c) => (c.dataStewards.UVA.datasets.wageGap.anonymization = JSON.parse('{"__proto__": {"Unieknr": "remove"}}')),
      path: 'dataStewards.UVA.datasets.wageGap.anonymization.__proto__',
      message: /^"__proto__" is reserved and cannot be a name$/,
    },
  ];

  for (const row of rows) {
    it(row.rule, () => {
      const at = problemsAfter(row.change).filter((p) => p.path === row.path);
      assert.equal(at.length, 1, `expected one problem at ${row.path}`);
      assert.match(at[0]?.message ?? '', row.message);
    });
  }

  it('the example itself has no problem', () => {
    assert.deepEqual(problemsAfter(() => {}), []);
  });
});
