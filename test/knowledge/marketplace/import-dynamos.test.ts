import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamosError } from '../../../knowledge/errors.js';
import type { DynamosImport } from '../../../knowledge/marketplace/import-dynamos.js';
import { importDynamos } from '../../../knowledge/marketplace/import-dynamos.js';
import { validateMarketplace } from '../../../knowledge/marketplace/load-marketplace.js';
import type { Problem } from '../../../knowledge/problems.js';
import { requireSharedDatasets } from '../../support/fixtures.js';

const requester = 'jorrit.stutterheim@cloudnation.nl';

describe('importing the original DYNAMOS configuration', () => {
  let dataDir: string;
  let imported: DynamosImport;
  before(async function () {
    dataDir = requireSharedDatasets(this);
    imported = await importDynamos(path.join(dataDir, 'etcd_launch_files'), { dataDir });
  });

  it('has the stewards VU, UVA and RUG, and RUG has no relations nor data', () => {
    const { dataStewards } = imported.config;
    assert.deepEqual(Object.keys(dataStewards), ['VU', 'UVA', 'RUG']);
    assert.deepEqual(dataStewards.RUG?.relations, {});
    assert.deepEqual(dataStewards.RUG?.datasets, {});
  });

  it('lets the relation of jorrit.stutterheim@cloudnation.nl allow SURF only, as the original', () => {
    for (const steward of ['VU', 'UVA']) {
      const relation = imported.config.dataStewards[steward]?.relations?.[requester];
      assert.deepEqual(relation?.allowedComputeProviders, ['SURF']);
      assert.deepEqual(relation?.datasets, ['wageGap']);
      assert.equal(relation?.id, 'GUID');
    }
    assert.deepEqual(Object.keys(imported.config.computeProviders ?? {}), ['SURF', 'otherCompany']);
  });

  it('mandates sql-anonymize on sqlDataRequest for UVA only', () => {
    assert.deepEqual(imported.config.dataStewards.UVA?.mandatedServices, { sqlDataRequest: ['sql-anonymize'] });
    assert.deepEqual(imported.config.dataStewards.VU?.mandatedServices, {});
  });

  it('leaves out reproducableScience, with a warning naming it and why', () => {
    assert.deepEqual(imported.config.dataStewards.VU?.archetypes, ['computeToData', 'dataThroughTtp']);
    const warned = imported.warnings.filter((w) => w.includes('"reproducableScience"'));
    assert.deepEqual(warned.map((w) => w.split(':')[0]), ['agreements.json[0].archetypes[2]', 'agreements.json[1].archetypes[2]']);
    for (const w of warned) assert.match(w, /left out \(never chosen by the original either/);
  });

  it('keeps what the original anonymised: the dates it cut to the year, found in the table files; the empty sensitive column name ([""]) dropped', () => {
    assert.deepEqual(imported.config.datasets?.wageGap?.anonymization, {
      Aanstellingen: { Ingdatdv: { generalize: 'year' } },
      Personen: { Gebdat: { generalize: 'year' } },
    });
    assert.ok(imported.warnings.some((w) => w.startsWith('datasets.json[0].sensitive_columns.Aanstellingen[0]: ')));
  });

  it('removes the sensitive columns the original named, and says what it could not read', async () => {
    const dir = await copyWith(path.join(dataDir, 'etcd_launch_files'), 'datasets.json', (text) => text.replace('"Aanstellingen": [\n                ""\n            ]', '"Personen": ["Nationaliteit"]'));
    try {
      const withSensitive = await importDynamos(dir, { dataDir });
      assert.deepEqual(withSensitive.config.datasets?.wageGap?.anonymization?.['Personen'], { Gebdat: { generalize: 'year' }, Nationaliteit: 'remove' });
      const unread = await importDynamos(dir, { dataDir: os.tmpdir() });
      assert.deepEqual(unread.config.datasets?.wageGap?.anonymization, { Personen: { Nationaliteit: 'remove' } });
      assert.ok(unread.warnings.some((w) => /table Aanstellingen: no table file could be read, so the original's date cut/.test(w)));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('gives a config that validates, with table files that exist in the data directory', () => {
    const result = validateMarketplace(imported.config, dataDir);
    assert.ok(result.ok);
    const files = Object.values(result.marketplace.dataStewards).flatMap((s) => Object.values(s.datasets).flatMap((d) => Object.values(d.tables)));
    assert.deepEqual(files.sort(), ['Aanstellingen_UVA.csv', 'Aanstellingen_VU.csv', 'Personen_UVA.csv', 'Personen_VU.csv']);
    for (const file of files) assert.ok(existsSync(path.join(dataDir, file)), file);
    assert.ok(!imported.warnings.some((w) => w.includes('does not exist')));
  });
});

/** A temp copy of the original files, one of them changed. */
async function copyWith(source: string, file: string, change: (text: string) => string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'dynamos-import-'));
  await cp(source, dir, { recursive: true });
  await writeFile(path.join(dir, file), change(await readFile(path.join(dir, file), 'utf8')));
  return dir;
}

async function importProblems(dir: string): Promise<Problem[]> {
  try {
    await importDynamos(dir);
  } catch (error) {
    assert.ok(error instanceof DynamosError && error.code === 'CONFIG_INVALID', String(error));
    return error.details?.problems as Problem[];
  }
  assert.fail('expected the import to fail');
}

const json = (change: (value: any) => void) => (text: string) => { // eslint-disable-line @typescript-eslint/no-explicit-any
  const value = JSON.parse(text);
  change(value);
  return JSON.stringify(value, null, 4);
};

describe('importing a broken original configuration', () => {
  let source: string;
  const copies: string[] = [];
  before(function () {
    source = path.join(requireSharedDatasets(this), 'etcd_launch_files');
  });
  after(async () => {
    await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const rows: { rule: string; file: string; change: (text: string) => string; problems: { path: string; message: string | RegExp }[] }[] = [
    {
      rule: 'a list given as a string is reported at its JSON path in its file',
      file: 'agreements.json',
      change: json((v) => (v[1].relations[requester].allowedArchetypes = 'computeToData')),
      problems: [{ path: `agreements.json[1].relations["${requester}"].allowedArchetypes`, message: 'Invalid input: expected array, received string' }],
    },
    {
      rule: 'an unknown key is reported, not silently ignored as Go did',
      file: 'archetype.json',
      change: json((v) => (v[0].weigth = 5)),
      problems: [{ path: 'archetype.json[0].weigth', message: 'unknown key' }],
    },
    {
      rule: 'text that is not JSON is reported with its line',
      file: 'requestType.json',
      change: (text) => text.replace('"sql-query",', '"sql-query",,'),
      problems: [{ path: 'requestType.json', message: /^not JSON: .* \(line 5, column 25\)$/ }],
    },
    {
      rule: 'a name given twice is reported at the second',
      file: 'microservices.json',
      change: json((v) => v.push(v[0])),
      problems: [{ path: 'microservices.json[5].name', message: 'duplicate name "sql-query" (first at [0])' }],
    },
    {
      rule: 'a requester named "__proto__" is reported, not silently dropped',
      file: 'agreements.json',
      change: (text) => text.replace(`"${requester}"`, '"__proto__"'),
      problems: [{ path: 'agreements.json[0].relations.__proto__', message: '"__proto__" is reserved and cannot be a name' }],
    },
    {
      rule: 'a steward named as a compute provider is reported where it is named',
      file: 'agreements.json',
      change: json((v) => v[0].computeProviders.push('RUG')),
      problems: [{ path: 'agreements.json[0].computeProviders[2]', message: '"RUG" is a data steward; a party cannot also be a compute provider' }],
    },
  ];

  for (const row of rows) {
    it(row.rule, async () => {
      const dir = await copyWith(source, row.file, row.change);
      copies.push(dir);
      const problems = await importProblems(dir);
      assert.deepEqual(problems.map((p) => p.path), row.problems.map((p) => p.path));
      row.problems.forEach(({ message }, i) => {
        if (typeof message === 'string') assert.equal(problems[i]?.message, message);
        else assert.match(problems[i]?.message ?? '', message);
      });
    });
  }

  it('reports a missing file by its name', async () => {
    const dir = await copyWith(source, 'datasets.json', (t) => t);
    copies.push(dir);
    await rm(path.join(dir, 'optional_microservices.json'));
    const problems = await importProblems(dir);
    assert.deepEqual(problems.map((p) => p.path), ['optional_microservices.json']);
    assert.match(problems[0]?.message ?? '', /^cannot read: ENOENT/);
  });
});

describe('importing what has no meaning here', () => {
  let source: string;
  const copies: string[] = [];
  before(function () {
    source = path.join(requireSharedDatasets(this), 'etcd_launch_files');
  });
  after(async () => {
    await Promise.all(copies.map((dir) => rm(dir, { recursive: true, force: true })));
  });

  const rows: { rule: string; file: string; change: (text: string) => string; warning: string; check: (i: DynamosImport) => void }[] = [
    {
      rule: "a mandated service of an older original (dynamos-anonymize) is left out",
      file: 'optional_microservices.json',
      change: (text) => text.replace('"sql-anonymize"', '"dynamos-anonymize"'),
      warning: 'optional_microservices.json[0].types.sqlDataRequest[0]: "dynamos-anonymize" is not a microservice this marketplace can run; left out',
      check: (i) => assert.deepEqual(i.config.dataStewards.UVA?.mandatedServices, { sqlDataRequest: [] }),
    },
    {
      rule: 'a request type needing a service without implementation is left out, and so are relations to it',
      file: 'requestType.json',
      change: json((v) => v[1].requiredServices.push('ml-train')),
      warning: 'requestType.json[1]: request type "genericRequest" left out: it requires ml-train, which this marketplace cannot run',
      check: (i) => assert.deepEqual(i.config.dataStewards.VU?.relations?.[requester]?.requestTypes, ['sqlDataRequest']),
    },
    {
      rule: 'a relation dataset that datasets.json does not define is left out',
      file: 'agreements.json',
      change: json((v) => v[0].relations[requester].dataSets.push('salaries')),
      warning: `agreements.json[0].relations["${requester}"].dataSets[1]: "salaries" is not a dataset in datasets.json; left out`,
      check: (i) => assert.deepEqual(Object.keys(i.config.dataStewards.VU?.datasets ?? {}), ['wageGap']),
    },
  ];

  for (const row of rows) {
    it(row.rule, async () => {
      const dir = await copyWith(source, row.file, row.change);
      copies.push(dir);
      const result = await importDynamos(dir);
      assert.ok(result.warnings.includes(row.warning), result.warnings.join('\n'));
      row.check(result);
      assert.ok(validateMarketplace(result.config, dir).ok);
    });
  }

  it('warns about every table file the data directory lacks', async () => {
    const emptyDir = await mkdtemp(path.join(os.tmpdir(), 'dynamos-empty-'));
    copies.push(emptyDir);
    const result = await importDynamos(source, { dataDir: emptyDir });
    const missing = result.warnings.filter((w) => w.includes('does not exist'));
    assert.equal(missing.length, 4);
    assert.ok(missing[0]?.startsWith('dataStewards.VU.datasets.wageGap.tables.Aanstellingen: table file '));
  });
});
