import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import {
  loadMarketplaceFile,
  missingTableFiles,
  parseMarketplace,
  validateMarketplace,
} from '../../../knowledge/marketplace/load-marketplace.js';
import type { MarketplaceInput } from '../../../knowledge/marketplace/marketplace-schema.js';
import { exampleConfig, exampleMarketplaceFile, marketplaceFrom } from '../../support/fixtures.js';

describe('loading a marketplace', () => {
  it('loads the bundled example with its stewards, TTPs and relations', async () => {
    const result = await loadMarketplaceFile(exampleMarketplaceFile);
    assert.ok(result.ok);
    assert.equal(result.marketplace.name, 'example');
    assert.deepEqual(Object.keys(result.marketplace.dataStewards), ['UVA', 'VU', 'RUG']);
    assert.deepEqual(Object.keys(result.marketplace.computeProviders), ['SURF', 'otherCompany']);
    assert.equal(result.marketplace.dataDir, path.dirname(exampleMarketplaceFile));
  });

  it('gives the same revision whatever the order of a section\'s fields (they mean the same)', () => {
    const example = exampleConfig();
    const reordered = Object.fromEntries(Object.entries(example).reverse()) as MarketplaceInput;
    assert.notDeepEqual(Object.keys(reordered), Object.keys(example));
    assert.equal(marketplaceFrom(reordered).revision, marketplaceFrom().revision);
  });

  // Order decides: the first compute provider every steward allows is the TTP, and so on.
  const reorderings: [string, (c: MarketplaceInput) => void][] = [
    ['the compute providers', (c) => (c.computeProviders = Object.fromEntries(Object.entries(c.computeProviders ?? {}).reverse()))],
    ["a steward's compute providers", (c) => c.dataStewards.UVA?.computeProviders?.reverse()],
    ['the microservices (ties in a chain go by catalog order)', (c) => (c.microservices = Object.fromEntries(Object.entries(c.microservices).reverse()))],
    ['the data stewards', (c) => (c.dataStewards = Object.fromEntries(Object.entries(c.dataStewards).reverse()))],
  ];
  for (const [what, reorder] of reorderings) {
    it(`gives another revision when only the order of ${what} changes`, () => {
      const config = exampleConfig();
      reorder(config);
      assert.notEqual(marketplaceFrom(config).revision, marketplaceFrom().revision);
    });
  }

  it('gives another revision when a relation changes', () => {
    const config = exampleConfig();
    const relation = config.dataStewards.VU?.relations?.['analyst@uva.example'];
    assert.ok(relation);
    relation.allowedArchetypes = ['computeToData'];
    assert.notEqual(marketplaceFrom(config).revision, marketplaceFrom().revision);
  });

  it('reports a YAML syntax error with its line, once, and nothing else', () => {
    const text = 'version: 1\nname: broken\narchetypes:\n  computeToData: [dataProvider\n  dataThroughTtp: {}\n';
    const result = parseMarketplace(text, '/data');
    assert.ok(!result.ok);
    assert.equal(result.problems.length, 1);
    assert.equal(result.problems[0]?.path, '(yaml)');
    assert.match(result.problems[0]?.message ?? '', /at line 5, column 3$/);
  });

  it('reports a key given twice as a YAML problem with its line', () => {
    const result = parseMarketplace(stringify(exampleConfig()).replace('name: example', 'name: example\nname: again'), '/data');
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => p.path), ['(yaml)']);
    assert.match(result.problems[0]?.message ?? '', /^Map keys must be unique at line 3, column 1$/);
  });

  it('reports an unreadable file as a problem, not an exception', async () => {
    const result = await loadMarketplaceFile('/nonexistent/marketplace.yaml');
    assert.ok(!result.ok);
    assert.equal(result.problems[0]?.path, '(file)');
    assert.match(result.problems[0]?.message ?? '', /cannot read \/nonexistent\/marketplace.yaml/);
  });
});

describe('reporting several problems at once', () => {
  it('reports every problem of a config with many, each at its path', () => {
    const config = exampleConfig() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    config.dataStewards.UVA.relations['analyst@uva.example'].allowedArchetypes = ['computeToData', 'quantum'];
    config.requestTypes.sqlDataRequest.requiredServices = ['sql-query', 'sql-fortune'];
    config.computeProviders.VU = {};
    delete config.dataStewards.RUG.datasets.wageGap.tables.Personen;
    const result = validateMarketplace(config, '/data');
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => p.path), [
      'computeProviders.VU',
      'dataStewards.UVA.relations["analyst@uva.example"].allowedArchetypes[1]',
      'dataStewards.RUG.datasets.wageGap.tables',
      'requestTypes.sqlDataRequest.requiredServices[1]',
    ]);
  });

  it('reports every structural problem at once, at any depth', () => {
    const config = exampleConfig() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    config.archetypes.computeToData.weight = -1;
    config.datasets.wageGap.delimiter = ';;';
    config.dataStewards.VU.relations['analyst@uva.example'].requestTypes = 'sqlDataRequest';
    config.microservices['sql-query'].lable = 'dataProvider';
    const result = validateMarketplace(config, '/data');
    assert.ok(!result.ok);
    assert.deepEqual(result.problems.map((p) => p.path), [
      'archetypes.computeToData.weight',
      'datasets.wageGap.delimiter',
      'dataStewards.VU.relations["analyst@uva.example"].requestTypes',
      'microservices["sql-query"].lable',
    ]);
  });
});

describe('missing table files', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'dynamos-tables-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('names every table whose file is absent from the data directory, and no other', async () => {
    for (const steward of ['UVA', 'VU', 'RUG']) {
      await mkdir(path.join(dataDir, steward), { recursive: true });
      await writeFile(path.join(dataDir, steward, 'Personen.csv'), 'Unieknr\n1\n');
      if (steward !== 'RUG') await writeFile(path.join(dataDir, steward, 'Aanstellingen.csv'), 'Unieknr\n1\n');
    }
    const problems = await missingTableFiles(marketplaceFrom(exampleConfig(), dataDir));
    assert.deepEqual(problems, [{
      path: 'dataStewards.RUG.datasets.wageGap.tables.Aanstellingen',
      message: `table file ${path.join(dataDir, 'RUG/Aanstellingen.csv')} does not exist`,
    }]);
  });
});
