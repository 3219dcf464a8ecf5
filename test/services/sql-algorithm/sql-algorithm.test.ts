import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AlgorithmName } from '../../../knowledge/catalog.js';
import type { DynamosError } from '../../../knowledge/errors.js';
import type { DataSet } from '../../../services/microservice.js';
import { sqlAlgorithm } from '../../../services/sql-algorithm/index.js';
import { dataSet, jobSpec, serviceContext } from '../job-spec.js';
import { memoryDb, rowsOf, schemaOf } from '../workspace-fixture.js';

describe('sql-algorithm', () => {
  let db: DuckDBConnection;
  before(async () => {
    db = await memoryDb(
      `CREATE TABLE staff AS SELECT * FROM (VALUES ('M', 10), ('V', 9), ('M', 12)) t(Geslacht, Salschal)`,
      `CREATE TABLE messy AS SELECT * FROM (VALUES
         ('V', '7'), ('V', 'n/a'), ('V', 'nan'), ('V', ''), ('M', 'inf'), ('M', NULL), ('X', '3.5'), (NULL, '4')
       ) t(geslacht, SALSCHAL)`,
      `CREATE TABLE combined AS SELECT * FROM (VALUES ('VU', 'M', 1), ('UVA', 'V', 2), ('VU', 'V', 3)) t(provider, Geslacht, Salschal)`,
      `CREATE TABLE persons AS SELECT 'M' AS Geslacht, 19900101 AS Gebdat`,
    );
  });
  after(() => db.closeSync());

  async function run(algorithm: AlgorithmName, input: DataSet): Promise<DataSet> {
    const outputs = await sqlAlgorithm.run(serviceContext(db, jobSpec({ request: { algorithm } })), [input]);
    assert.equal(outputs.length, 1);
    return outputs[0]!;
  }

  it('average: mean salary scale and employees per Geslacht (M: 10, 12 → 11; V: 9 → 9)', async () => {
    const out = await run('average', dataSet('staff'));
    assert.deepEqual(await schemaOf(db, out.table), ['Geslacht VARCHAR', 'average_salary_scale DOUBLE', 'employees BIGINT']);
    assert.deepEqual(await rowsOf(db, out.table), [['M', 11, 2n], ['V', 9, 1n]]);
    assert.deepEqual(out.providers, ['UVA']);
  });

  it('average: ignores text, NaN and infinite salaries; keeps every Geslacht, NULL last', async () => {
    const out = await run('average', dataSet('messy'));
    assert.deepEqual(await rowsOf(db, out.table), [['M', null, 0n], ['V', 7, 1n], ['X', 3.5, 1n], [null, 4, 1n]]);
  });

  it('average: names the missing columns and the columns present', async () => {
    const error = await run('average', dataSet('persons')).then(
      () => assert.fail('expected an invalid input'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'ALGORITHM_INPUT_INVALID');
    assert.equal(error.message, 'algorithm average needs the column Salschal; the input has Geslacht, Gebdat');
  });

  it('count: one row of rows without a provider column', async () => {
    const out = await run('count', dataSet('staff'));
    assert.deepEqual(await schemaOf(db, out.table), ['rows BIGINT']);
    assert.deepEqual(await rowsOf(db, out.table), [[3n]]);
  });

  it('count: rows per provider after sql-aggregate', async () => {
    const out = await run('count', { table: 'combined', providers: ['UVA', 'VU'], artifacts: [] });
    assert.deepEqual(await rowsOf(db, out.table), [['UVA', 1n], ['VU', 2n]]);
    assert.deepEqual(out.providers, ['UVA', 'VU']);
  });

  it('describe: a SUMMARIZE row per column', async () => {
    const out = await run('describe', dataSet('staff'));
    assert.deepEqual(await rowsOf(db, `SELECT column_name, column_type, min, max, count FROM "${out.table}"`), [
      ['Geslacht', 'VARCHAR', 'M', 'V', 3n],
      ['Salschal', 'INTEGER', '9', '12', 3n],
    ]);
  });

  it('none: the input unchanged', async () => {
    const input = dataSet('staff');
    assert.equal(await run('none', input), input);
  });

  it('runs on each input on its own', async () => {
    const outputs = await sqlAlgorithm.run(serviceContext(db, jobSpec({ request: { algorithm: 'count' } })), [
      dataSet('staff', 'UVA'),
      dataSet('persons', 'VU'),
    ]);
    assert.deepEqual(await Promise.all(outputs.map((o) => rowsOf(db, o.table))), [[[3n]], [[1n]]]);
    assert.deepEqual(outputs.map((o) => o.providers), [['UVA'], ['VU']]);
  });
});
