import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DynamosError } from '../../../knowledge/errors.js';
import { isColumnOrDuplicate, sqlAnonymize } from '../../../services/sql-anonymize/index.js';
import { dataSet, jobSpec, serviceContext } from '../job-spec.js';
import { memoryDb, rowsOf, schemaOf } from '../workspace-fixture.js';

describe('sql-anonymize', () => {
  let db: DuckDBConnection;
  before(async () => {
    db = await memoryDb(
      `CREATE TABLE joined AS SELECT * FROM (VALUES
         (1, 'M', 19900101, DATE '2015-03-01', '19850615', TIMESTAMP '2001-02-03 04:05:06', 10),
         (2, 'V', 123, DATE '1999-12-31', '198', NULL, 9),
         (NULL, NULL, NULL, NULL, NULL, NULL, NULL)
       ) t(Unieknr, Geslacht, Gebdat, Ingdatdv, gebdat_1, INGDATDV_2, Salschal)`,
      `CREATE TABLE other AS SELECT 'x' AS Naam, 19700101 AS Gebdat_x`,
    );
  });
  after(() => db.closeSync());

  async function anonymize(table: string, sensitiveColumns: string[] = []) {
    const [out] = await sqlAnonymize.run(serviceContext(db, jobSpec({ sensitiveColumns })), [dataSet(table)]);
    return out!;
  }

  it('cuts every date column to its year, by type, keeping the column order', async () => {
    const out = await anonymize('joined');
    assert.deepEqual(await schemaOf(db, out.table), [
      'Unieknr INTEGER', 'Geslacht VARCHAR', 'Gebdat BIGINT', 'Ingdatdv BIGINT', 'gebdat_1 VARCHAR', 'INGDATDV_2 BIGINT', 'Salschal INTEGER',
    ]);
    assert.deepEqual(await rowsOf(db, out.table), [
      [1, 'M', 1990n, 2015n, '1985', 2001n, 10],
      [2, 'V', 123n, 1999n, '198', null, 9],
      [null, null, null, null, null, null, null],
    ]);
  });

  it('removes the sensitive columns and their duplicates, case-insensitively', async () => {
    const out = await anonymize('joined', ['unieknr', 'Geslacht', 'INGDATDV']);
    assert.deepEqual(await schemaOf(db, out.table), ['Gebdat BIGINT', 'gebdat_1 VARCHAR', 'Salschal INTEGER']);
    assert.deepEqual(await rowsOf(db, out.table), [[1990n, '1985', 10], [123n, '198', 9], [null, null, null]]);
  });

  it('keeps the providers and leaves other names alone (Gebdat_x is no duplicate)', async () => {
    const out = await anonymize('other', ['Naam']);
    assert.deepEqual(out.providers, ['UVA']);
    assert.deepEqual(await rowsOf(db, out.table), [[19700101]]);
  });

  it('rejects a result whose every column is sensitive', async () => {
    const error = await anonymize('other', ['Naam', 'Gebdat_x']).then(
      () => assert.fail('expected a rejection'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'QUERY_REJECTED');
  });

  const duplicates: [string, string, boolean][] = [
    ['Gebdat', 'Gebdat', true],
    ['GEBDAT', 'Gebdat', true],
    ['Gebdat_1', 'Gebdat', true],
    ['gebdat_12', 'Gebdat', true],
    ['Gebdat_', 'Gebdat', false],
    ['Gebdat_x', 'Gebdat', false],
    ['Gebdatum', 'Gebdat', false],
  ];
  for (const [column, base, expected] of duplicates) {
    it(`${expected ? 'treats' : 'does not treat'} ${column} as ${base} or its duplicate`, () => {
      assert.equal(isColumnOrDuplicate(column, base), expected);
    });
  }
});
