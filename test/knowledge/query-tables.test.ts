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
    ['a later CTE reading an earlier one', 'WITH a AS (SELECT * FROM Personen), b AS (SELECT * FROM a) SELECT * FROM b', ['Personen']],
    ['a CTE body naming itself reads the table of that name (DuckDB binds it so)', 'WITH Personen AS (SELECT * FROM Personen) SELECT * FROM Personen', ['Personen']],
    ['an earlier CTE naming a later one reads a table', 'WITH a AS (SELECT * FROM b), b AS (SELECT 1) SELECT * FROM a', ['b']],
    ['a CTE is out of scope outside its query', 'SELECT * FROM (WITH c AS (SELECT 1) SELECT * FROM c), c', ['c']],
    ['a recursive CTE sees itself in its recursive part only', 'WITH RECURSIVE r AS (SELECT * FROM r UNION ALL SELECT n FROM r) SELECT * FROM r', ['r']],
    ['a recursive CTE', 'WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r', []],
    ['FROM-first syntax', 'FROM Personen', ['Personen']],
    ['no table at all', 'SELECT 1', []],
    ['a table function is not a table (it is refused)', "SELECT * FROM read_csv('/etc/passwd')", []],
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
    assert.deepEqual(await inspector.inspect('SELECT 1; SELECT 2'), { kind: 'select', statements: 2, tables: [], refused: [] });
  });

  it('answers a text it has seen as it did the first time, each text on its own, past its memory size', async () => {
    const small = await DuckDBQueryInspector.create({ rememberBytes: 256 * 1024 });
    try {
      // 200 distinct texts of about 8 KiB: ten times what the memory may hold.
      const texts = Array.from({ length: 200 }, (_, i) => `SELECT * FROM t${i} WHERE note <> '${'x'.repeat(8 * 1024)}'`);
      for (const text of texts) {
        await small.inspect(text);
        assert.ok(small.rememberedBytes <= 256 * 1024, `holds ${small.rememberedBytes} bytes`);
      }
      assert.ok(small.rememberedBytes > 128 * 1024, 'it does remember, up to its bound');
      for (const i of [0, 3, texts.length - 1]) {
        assert.deepEqual(await small.inspect(texts[i] as string), { kind: 'select', statements: 1, tables: [`t${i}`], refused: [] });
      }
      assert.equal((await small.inspect('SELEC 1')).kind, 'syntaxError');
      assert.equal((await small.inspect('SELEC 1')).kind, 'syntaxError');
    } finally {
      await small.close();
    }
  });

  it('keeps no text larger than its whole memory', async () => {
    const small = await DuckDBQueryInspector.create({ rememberBytes: 64 * 1024 });
    try {
      const huge = `SELECT * FROM Personen WHERE note <> '${'x'.repeat(64 * 1024)}'`;
      assert.deepEqual(await small.inspect(huge), { kind: 'select', statements: 1, tables: ['Personen'], refused: [] });
      assert.equal(small.rememberedBytes, 0);
    } finally {
      await small.close();
    }
  });
});
