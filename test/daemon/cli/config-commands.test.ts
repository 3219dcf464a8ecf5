import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateWageGapData } from '../../../daemon/example-data/generate-wage-gap.js';
import { exampleMarketplaceFile, repoRoot, requireSharedDatasets } from '../../support/fixtures.js';

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly out: string[];
  readonly err: string[];
}

/** Runs `dynamos ...args` as a user would, from the repository root. */
function dynamos(...args: string[]): Run {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'daemon/main.ts', ...args], { cwd: repoRoot, encoding: 'utf8' });
  const lines = (text: string) => text.split('\n').filter((line) => line !== '');
  return { status: run.status, stdout: run.stdout, out: lines(run.stdout), err: lines(run.stderr) };
}

describe('dynamos check-config', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-cli-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('summarises the example and exits 0', () => {
    const run = dynamos('check-config', exampleMarketplaceFile);
    assert.equal(run.status, 0, run.err.join('\n'));
    assert.match(run.out[0] ?? '', /^marketplace example, revision [0-9a-f]{12}: valid$/);
    assert.equal(run.out[1], '3 data stewards, 2 compute providers (TTPs), 2 relations');
    assert.deepEqual(run.err, []);
  });

  it('prints every problem as "path: message" on stderr and exits 2', async () => {
    const text = (await readFile(exampleMarketplaceFile, 'utf8'))
      .replace('weight: 100', 'weight: heavy')
      .replace('requiredServices: [sql-query, sql-algorithm]', 'requiredServices: [sql-query, sql-algorithm]\n    extra: true');
    const file = path.join(tmp, 'broken.yaml');
    await writeFile(file, text);
    const run = dynamos('check-config', file);
    assert.equal(run.status, 2);
    assert.deepEqual(run.out, []);
    assert.deepEqual(run.err, [
      'archetypes.computeToData.weight: Invalid input: expected number, received string',
      'requestTypes.sqlDataRequest.extra: unknown key',
    ]);
  });

  it('checks that every table file exists when given a data directory', () => {
    const run = dynamos('check-config', exampleMarketplaceFile, '--data-dir', tmp);
    assert.equal(run.status, 2);
    assert.equal(run.err.length, 6);
    assert.equal(run.err[0], `dataStewards.UVA.datasets.wageGap.tables.Personen: table file ${path.join(tmp, 'UVA/Personen.csv')} does not exist`);
  });

  it('checks that every column an anonymization rule names is in the table files', async () => {
    const data = path.join(tmp, 'data');
    await generateWageGapData(data, ['UVA', 'VU', 'RUG'], { rows: 3 });
    const file = path.join(tmp, 'typo.yaml');
    await writeFile(file, (await readFile(exampleMarketplaceFile, 'utf8')).replace('Gebdat: { generalize: year }', 'Gebdatt: { generalize: year }'));
    const run = dynamos('check-config', file, '--data-dir', data);
    assert.equal(run.status, 2);
    assert.equal(run.err.length, 3, 'one problem for each steward holding the table');
    assert.match(run.err[0] ?? '', /^datasets\.wageGap\.anonymization\.Personen\.Gebdatt: UVA's file for table Personen has no column "Gebdatt" \(its columns: Instcode, Unieknr, Geslacht, Gebdat, /);
    assert.equal(dynamos('check-config', exampleMarketplaceFile, '--data-dir', data).status, 0);
  });

  it('exits 2 on a YAML syntax error, naming the line', async () => {
    const file = path.join(tmp, 'syntax.yaml');
    await writeFile(file, 'version: 1\narchetypes: [computeToData\n');
    const run = dynamos('check-config', file);
    assert.equal(run.status, 2);
    assert.equal(run.err.length, 1);
    assert.match(run.err[0] ?? '', /^\(yaml\): .* at line 3, column 1$/);
  });
});

describe('dynamos import-dynamos', () => {
  let shared: string;
  let tmp: string;
  before(async function () {
    shared = requireSharedDatasets(this);
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-cli-'));
  });
  after(async () => {
    if (tmp !== undefined) await rm(tmp, { recursive: true, force: true });
  });

  it('prints YAML that check-config accepts, with the original table files on disk', async () => {
    const imported = dynamos('import-dynamos', path.join(shared, 'etcd_launch_files'), '--data-dir', shared);
    assert.equal(imported.status, 0, imported.err.join('\n'));
    assert.match(imported.out[0] ?? '', /^# Imported by `dynamos import-dynamos` from the original DYNAMOS configuration/);
    assert.equal(imported.err.filter((line) => line.includes('"reproducableScience"')).length, 2);
    const file = path.join(tmp, 'imported.yaml');
    await writeFile(file, imported.stdout);
    const checked = dynamos('check-config', file, '--data-dir', shared);
    assert.equal(checked.status, 0, checked.err.join('\n'));
    assert.deepEqual(checked.out.slice(1), ['3 data stewards, 2 compute providers (TTPs), 2 relations', `every table file is present in ${path.resolve(shared)}, with every column its anonymization names`]);
  });

  it('writes the YAML to --out, warnings still on stderr', async () => {
    const file = path.join(tmp, 'out.yaml');
    const run = dynamos('import-dynamos', path.join(shared, 'etcd_launch_files'), '--out', file);
    assert.equal(run.status, 0);
    assert.deepEqual(run.out, []);
    assert.equal(run.err.at(-1), `wrote ${file}`);
    assert.ok(run.err.every((line, i, all) => i === all.length - 1 || line.startsWith('warning: ')));
    assert.match(await readFile(file, 'utf8'), /^# Imported by/);
  });

  it('exits 2 with the file and JSON path when the original JSON is broken', async () => {
    const dir = path.join(tmp, 'broken');
    await cp(path.join(shared, 'etcd_launch_files'), dir, { recursive: true });
    const archetypes = JSON.parse(await readFile(path.join(dir, 'archetype.json'), 'utf8'));
    archetypes[1].computeProvider = 'thirdParty';
    await writeFile(path.join(dir, 'archetype.json'), JSON.stringify(archetypes));
    const run = dynamos('import-dynamos', dir);
    assert.equal(run.status, 2);
    assert.deepEqual(run.out, []);
    assert.deepEqual(run.err, ['archetype.json[1].computeProvider: Invalid option: expected one of "dataProvider"|"other"']);
  });
});

describe('dynamos generate-trace', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-trace-cli-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('writes the same trace twice for the same seed, and refuses a bad rate or marketplace with exit 2', async () => {
    const a = path.join(tmp, 'a.jsonl');
    const b = path.join(tmp, 'b.jsonl');
    for (const out of [a, b]) assert.equal(dynamos('generate-trace', '--scenario', 'noisy-threshold', '--seed', '5', '--duration', '2m', '--out', out).status, 0);
    assert.equal(await readFile(a, 'utf8'), await readFile(b, 'utf8'));
    assert.equal(dynamos('generate-trace', '--scenario', 'steady', '--rate', '0', '--out', path.join(tmp, 'c.jsonl')).status, 2);
    const bad = path.join(tmp, 'bad.yaml');
    await writeFile(bad, 'version: 1\n');
    const run = dynamos('generate-trace', '--scenario', 'steady', '--config', bad, '--out', path.join(tmp, 'd.jsonl'));
    assert.equal(run.status, 2);
    assert.ok(run.err.some((l) => l.startsWith('dataStewards: ')), run.err.join('\n'));
  });
});

describe('dynamos replay', () => {
  let tmp: string;
  before(async () => {
    tmp = await mkdtemp(path.join(os.tmpdir(), 'dynamos-replay-cli-'));
  });
  after(async () => {
    await rm(tmp, { recursive: true, force: true });
  });

  it('prints the comparison and writes the report; refuses a missing trace, a bad line or an unknown strategy with exit 2', async () => {
    const trace = path.join(tmp, 't.jsonl');
    assert.equal(dynamos('generate-trace', '--scenario', 'ttp-overload', '--duration', '2m', '--out', trace).status, 0);
    const run = dynamos('replay', trace, '--strategy', 'threshold,utility', '--out', path.join(tmp, 'out'));
    assert.equal(run.status, 0, run.err.join('\n'));
    assert.match(run.out[0] ?? '', /^strategy\s+threshold\s+utility$/);
    assert.ok(run.out.some((l) => /^policy_violations\s+0\s+0$/.test(l)), run.out.join('\n'));
    const report = JSON.parse(await readFile(path.join(tmp, 'out', 'report.json'), 'utf8')) as { strategies: { strategy: string }[] };
    assert.deepEqual(report.strategies.map((s) => s.strategy), ['threshold', 'utility']);

    const missing = dynamos('replay', path.join(tmp, 'none.jsonl'));
    assert.equal(missing.status, 2);
    assert.match(missing.err.join('\n'), /cannot read .*none\.jsonl/);
    const bad = path.join(tmp, 'bad.jsonl');
    await writeFile(bad, `${(await readFile(trace, 'utf8')).split('\n')[0]}\n{"kind":"request","at":5}\n`);
    const badRun = dynamos('replay', bad);
    assert.equal(badRun.status, 2);
    assert.match(badRun.err.join('\n'), /line 2: /);
    assert.equal(dynamos('replay', trace, '--strategy', 'fastest').status, 2);
  });
});
