import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import { sqlAggregate } from '../../../services/sql-aggregate/index.js';
import { dataSet, jobSpec, serviceContext } from '../job-spec.js';
import { memoryDb, rowsOf, schemaOf } from '../workspace-fixture.js';

describe('sql-aggregate', () => {
  let db: DuckDBConnection;
  const ttpJob = jobSpec({ party: 'SURF', partyKind: 'computeProvider', services: ['sql-aggregate', 'sql-algorithm'], inputs: ['UVA', 'VU'] });
  before(async () => {
    db = await memoryDb(
      `CREATE TABLE uva AS SELECT * FROM (VALUES ('M', 10), ('V', 9), ('M', 12)) t(Geslacht, Salschal)`,
      `CREATE TABLE vu AS SELECT * FROM (VALUES (14, 'V', 'x'), (8, 'M', 'y')) t(salschal, Geslacht, Extra)`,
      `CREATE TABLE dated AS SELECT DATE '2020-01-01' AS Salschal, 'M' AS Geslacht, 'steward data' AS provider`,
    );
  });
  after(() => db.closeSync());

  it('combines every input exactly once, with a leading provider column, matching columns by name', async () => {
    const outputs = await sqlAggregate.run(serviceContext(db, ttpJob), [dataSet('uva', 'UVA'), dataSet('vu', 'VU')]);
    assert.equal(outputs.length, 1);
    assert.deepEqual(outputs[0]!.providers, ['UVA', 'VU']);
    assert.deepEqual(await schemaOf(db, outputs[0]!.table), ['provider VARCHAR', 'Geslacht VARCHAR', 'Salschal INTEGER', 'Extra VARCHAR']);
    assert.deepEqual(await rowsOf(db, `SELECT * FROM "${outputs[0]!.table}" ORDER BY provider, Salschal`), [
      ['UVA', 'V', 9, null],
      ['UVA', 'M', 10, null],
      ['UVA', 'M', 12, null],
      ['VU', 'M', 8, 'y'],
      ['VU', 'V', 14, 'x'],
    ]);
  });

  it('labels a single input too', async () => {
    const [out] = await sqlAggregate.run(serviceContext(db, ttpJob), [dataSet('uva', 'UVA')]);
    assert.deepEqual(await rowsOf(db, `SELECT provider, count(*) FROM "${out!.table}" GROUP BY ALL`), [['UVA', 3n]]);
  });

  it('turns a column typed differently by the stewards into text and keeps a steward\'s own provider column', async () => {
    const [out] = await sqlAggregate.run(serviceContext(db, ttpJob), [dataSet('uva', 'UVA'), dataSet('dated', 'VU')]);
    assert.deepEqual(await schemaOf(db, out!.table), ['provider VARCHAR', 'Geslacht VARCHAR', 'Salschal VARCHAR', 'provider_1 VARCHAR']);
    assert.deepEqual(await rowsOf(db, `SELECT * FROM "${out!.table}" WHERE provider = 'VU'`), [['VU', 'M', '2020-01-01', 'steward data']]);
  });

  it('gives nothing for no input', async () => {
    assert.deepEqual(await sqlAggregate.run(serviceContext(db, ttpJob), []), []);
  });
});
