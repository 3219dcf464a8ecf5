import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamosError } from '../../../knowledge/errors.js';
import { sqlAlgorithm } from '../../../services/sql-algorithm/index.js';
import { sqlQuery } from '../../../services/sql-query/index.js';
import { jobSpec, serviceContext } from '../job-spec.js';
import { csvWorkspace, memoryDb, rowsOf, schemaOf } from '../workspace-fixture.js';
import type { CsvWorkspace } from '../workspace-fixture.js';

const personen = 'Instcode;Unieknr;Geslacht;Gebdat\nAAA;1;M;19900101\nAAA;2;V;19850615\nAAA;3;M;19700101\n';
const aanstellingen = 'Instcode;Unieknr;Salschal\nAAA;1;10\nAAA;2;9\nAAA;3;12\n';

async function runQuery(ws: CsvWorkspace, query: string) {
  const ctx = serviceContext(ws.db, jobSpec({ tables: ws.tables, request: { query } }));
  return { ctx, outputs: await sqlQuery.run(ctx, []) };
}

async function rejection(ws: CsvWorkspace, query: string): Promise<DynamosError> {
  const error = await runQuery(ws, query).then(
    () => assert.fail(`expected ${JSON.stringify(query)} to fail`),
    (e: unknown) => e,
  );
  assert.ok(error instanceof DynamosError, String(error));
  return error;
}

describe('sql-query', () => {
  let ws: CsvWorkspace;
  before(async () => {
    ws = await csvWorkspace({ Personen: personen, Aanstellingen: aanstellingen });
  });
  after(() => ws.close());

  it('runs a SELECT into a new table of the steward', async () => {
    const { outputs } = await runQuery(ws, 'select Unieknr, Geslacht from personen order by Unieknr');
    assert.deepEqual(outputs, [{ table: 'query_1', providers: ['UVA'], artifacts: [] }]);
    assert.deepEqual(await rowsOf(ws.db, 'query_1'), [[1n, 'M'], [2n, 'V'], [3n, 'M']]);
  });

  it('names the duplicate columns of SELECT * over a join Instcode_1, Unieknr_1', async () => {
    const { outputs } = await runQuery(ws, 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr');
    assert.deepEqual(await schemaOf(ws.db, outputs[0]!.table), [
      'Instcode VARCHAR', 'Unieknr BIGINT', 'Geslacht VARCHAR', 'Gebdat BIGINT', 'Instcode_1 VARCHAR', 'Unieknr_1 BIGINT', 'Salschal BIGINT',
    ]);
    assert.equal((await rowsOf(ws.db, outputs[0]!.table)).length, 3);
  });

  const accepted: [string, string, unknown[][]][] = [
    ['a trailing semicolon', 'SELECT count(*) AS n FROM Personen;', [[3n]]],
    ['a trailing -- comment', 'SELECT count(*) AS n FROM Personen -- all of them', [[3n]]],
    ['a semicolon and a comment', 'SELECT count(*) AS n FROM Personen; -- done', [[3n]]],
    ['a WITH query', 'WITH m AS (SELECT * FROM Personen WHERE Geslacht = \'M\') SELECT count(*) AS n FROM m', [[2n]]],
    ['a FROM-first query', 'FROM Personen SELECT count(*) AS n', [[3n]]],
    ['a PIVOT', "PIVOT (SELECT Geslacht FROM Personen) ON Geslacht IN ('M', 'V') USING count(*)", [[2n, 1n]]],
    ['a SUMMARIZE', 'SELECT column_name FROM (SUMMARIZE Personen) LIMIT 1', [['Instcode']]],
    ['a bracketed query with a leading comment', '/* mine */ (SELECT 7 AS n)', [[7]]],
    ['a quote that looks like a closing bracket', "SELECT ') ; DROP TABLE Personen; --' AS n", [[') ; DROP TABLE Personen; --']]],
  ];
  for (const [name, query, rows] of accepted) {
    it(`accepts ${name}`, async () => {
      const { outputs } = await runQuery(ws, query);
      assert.deepEqual(await rowsOf(ws.db, outputs[0]!.table), rows);
    });
  }

  it('fails with DuckDB\'s first line when the query does not parse or bind', async () => {
    const parse = await rejection(ws, 'SELEC 1');
    assert.equal(parse.code, 'QUERY_FAILED');
    assert.match(parse.message, /^Parser Error: syntax error at or near "SELEC"/);
    const bind = await rejection(ws, 'SELECT nope FROM Personen');
    assert.equal(bind.code, 'QUERY_FAILED');
    assert.match(bind.message, /^Binder Error: Referenced column "nope" not found/);
    const missing = await rejection(ws, 'SELECT * FROM Cijfers');
    assert.equal(missing.code, 'QUERY_REJECTED');
    assert.match(missing.message, /table Cijfers is not one of this job's tables/);
  });

  it('fails as QUERY_FAILED when the data is computed, since the query stage is a lazy view', async () => {
    const { outputs } = await runQuery(ws, 'SELECT CAST(Geslacht AS INTEGER) AS Geslacht, 1 AS Salschal FROM Personen');
    const error = await sqlAlgorithm
      .run(serviceContext(ws.db, jobSpec({ request: { algorithm: 'average' } })), outputs)
      .then(() => assert.fail('expected the average to fail'), (e: unknown) => e as DynamosError);
    assert.equal(error.code, 'QUERY_FAILED');
    assert.match(error.message, /^Conversion Error/);
  });

  it('refuses to run in a workspace that was not locked', async () => {
    const db = await memoryDb('CREATE TABLE Personen AS SELECT 1 AS Unieknr');
    const error = await sqlQuery.run(serviceContext(db, jobSpec({ tables: ws.tables, request: { query: 'SELECT * FROM Personen' } })), []).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'INTERNAL');
    db.closeSync();
  });
});

describe('sql-query in a locked workspace', () => {
  let ws: CsvWorkspace;
  let target: string;
  before(async () => {
    ws = await csvWorkspace({ Personen: personen, Aanstellingen: aanstellingen });
    target = join(ws.dir, 'out');
  });
  after(() => ws.close());

  // Each row: the rule, the query, the words the message must hold.
  const refused: [string, () => string, RegExp][] = [
    ['no file is readable', () => "SELECT * FROM read_csv('/etc/passwd')", /read_csv is a table function/],
    ['no file is readable as text', () => "SELECT * FROM read_text('/etc/passwd')", /read_text is a table function/],
    ['no directory is listable', () => "SELECT * FROM glob('/etc/*')", /glob is a table function/],
    ['no table but the job\'s', () => 'SELECT * FROM duckdb_tables', /table duckdb_tables is not one of this job's tables \(Personen, Aanstellingen\)/],
    ['no COPY out', () => `COPY (SELECT * FROM Personen) TO '${target}.csv'`, /found a COPY statement/],
    ['no COPY of a table', () => `COPY Personen TO '${target}.csv'`, /found a COPY statement/],
    ['no EXPORT', () => `EXPORT DATABASE '${target}'`, /found an EXPORT statement/],
    ['no ATTACH', () => `ATTACH '${target}.duckdb' AS other`, /found an ATTACH statement/],
    ['no INSTALL', () => 'INSTALL httpfs', /found an INSTALL statement/],
    ['no LOAD', () => 'LOAD httpfs', /found a LOAD statement/],
    ['no SET', () => "SET enable_external_access = true", /found a SET statement/],
    ['no PRAGMA setting', () => 'PRAGMA threads = 1', /found a PRAGMA statement/],
    ['no PRAGMA call typed as SELECT', () => 'PRAGMA version', /found a PRAGMA statement/],
    ['no CREATE TABLE', () => `CREATE TABLE stolen AS SELECT * FROM Personen`, /found a CREATE statement/],
    ['no CALL', () => 'CALL pragma_version()', /found a CALL statement/],
    ['no INSERT behind a WITH', () => 'WITH t AS (SELECT * FROM Personen) INSERT INTO Personen SELECT * FROM t', /not a SELECT behind WITH/],
    ['no DELETE behind a WITH', () => 'WITH t AS (SELECT 1) DELETE FROM Personen', /not a SELECT behind WITH/],
    ['no second statement', () => 'SELECT 1; DROP TABLE Personen', /found 2 statements/],
    ['no statement hidden behind a SELECT', () => `SELECT 1; COPY Personen TO '${target}.csv'`, /found 2 statements/],
    ['no empty query', () => '  -- nothing ', /holds no statement/],
  ];
  for (const [rule, query, message] of refused) {
    it(`rejects: ${rule}`, async () => {
      const error = await rejection(ws, query());
      assert.equal(error.code, 'QUERY_REJECTED', error.message);
      assert.match(error.message, message);
      assert.deepEqual(readdirSync(ws.dir).sort(), ['Aanstellingen.csv', 'Personen.csv']);
      assert.equal(existsSync(`${target}.csv`), false);
    });
  }

  it('leaves the steward\'s tables and the lock as they were', async () => {
    assert.deepEqual(await rowsOf(ws.db, 'SELECT count(*) FROM Personen'), [[3n]]);
    assert.deepEqual(await rowsOf(ws.db, "SELECT current_setting('enable_external_access')"), [[false]]);
    assert.deepEqual(await rowsOf(ws.db, 'SELECT table_name FROM information_schema.tables ORDER BY table_name'), [['Aanstellingen'], ['Personen']]);
  });
});
