import assert from 'node:assert/strict';
import { DuckDBQueryInspector } from '../../adapters/duckdb/duckdb-query-inspector.js';

describe('tables a query reads (DuckDB parser, knowledge/query-tables)', () => {
  let inspector: DuckDBQueryInspector;
  before(async () => (inspector = await DuckDBQueryInspector.create()));
  after(() => inspector.close());

  const rows: [string, string, string[]][] = [
    ['a join', 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', ['Personen', 'Aanstellingen']],
    ['each table once, case-insensitively', 'SELECT * FROM personen a, PERSONEN b', ['personen']],
    ['a subquery in WHERE', 'SELECT * FROM Personen WHERE Unieknr IN (SELECT Unieknr FROM Aanstellingen)', ['Personen', 'Aanstellingen']],
    ['a set operation', 'SELECT Unieknr FROM Personen UNION SELECT Unieknr FROM Aanstellingen', ['Personen', 'Aanstellingen']],
    ['not a CTE name', 'WITH p AS (SELECT * FROM Personen) SELECT * FROM p', ['Personen']],
    ['a CTE shadowing a table', 'WITH Aanstellingen AS (SELECT 1 AS x) SELECT * FROM Aanstellingen', []],
    ['a schema-qualified table even when a CTE has its name', 'WITH Personen AS (SELECT 1) SELECT * FROM main.Personen', ['Personen']],
    ['FROM-first syntax', 'FROM Personen', ['Personen']],
    ['no table at all', 'SELECT 1', []],
    ['a table function is not a table', "SELECT * FROM read_csv('/etc/passwd')", []],
  ];
  for (const [what, sql, tables] of rows) {
    it(`finds ${JSON.stringify(tables)} in ${what}`, async () => {
      const parsed = await inspector.inspect(sql);
      assert.equal(parsed.kind, 'select');
      assert.deepEqual(parsed.kind === 'select' ? parsed.tables : undefined, tables);
    });
  }

  it('tells statements that are not a SELECT from SQL that does not parse', async () => {
    assert.equal((await inspector.inspect("COPY Personen TO '/tmp/x'")).kind, 'notSelect');
    assert.equal((await inspector.inspect('WITH t AS (SELECT 1) DELETE FROM Personen')).kind, 'notSelect');
    assert.equal((await inspector.inspect('SELEC 1')).kind, 'syntaxError');
    assert.deepEqual(await inspector.inspect('SELECT 1; SELECT 2'), { kind: 'select', statements: 2, tables: [] });
  });

  it('answers a text it has seen as it did the first time, each text on its own, past its memory size', async () => {
    const texts = Array.from({ length: DuckDBQueryInspector.rememberedQueries + 5 }, (_, i) => `SELECT * FROM t${i}`);
    for (const text of texts) await inspector.inspect(text);
    for (const i of [0, 3, texts.length - 1]) {
      assert.deepEqual(await inspector.inspect(texts[i] as string), { kind: 'select', statements: 1, tables: [`t${i}`] });
    }
    assert.equal((await inspector.inspect('SELEC 1')).kind, 'syntaxError');
    assert.equal((await inspector.inspect('SELEC 1')).kind, 'syntaxError');
  });
});
