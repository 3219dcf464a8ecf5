import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { allowedFunctions, introspectionKeywords, isAllowedFunction } from '../../knowledge/sql-functions.js';

describe('the allowlist of functions a requester may call', () => {
  /** Each function name and every kind DuckDB has under it (`repeat` is a scalar and a table function). */
  let known: Map<string, Set<string>>;
  before(async () => {
    const engine = await DuckDBInstance.create(':memory:', { autoload_known_extensions: 'false', autoinstall_known_extensions: 'false' });
    const db = await engine.connect();
    const reader = await db.runAndReadAll('SELECT DISTINCT lower(function_name), function_type FROM duckdb_functions()');
    known = new Map();
    for (const [name, type] of reader.getRowsJS()) known.set(String(name), (known.get(String(name)) ?? new Set()).add(String(type)));
    db.closeSync();
    engine.closeSync();
  });

  it('names only functions this DuckDB has (unnest is the parser\'s own), none of them a table function', () => {
    const unknown = [...allowedFunctions].filter((name) => name !== 'unnest' && !known.has(name));
    assert.deepEqual(unknown, []);
    // A name that is only a table or pragma function; one that is also a scalar is called as the scalar (the surface refuses table functions).
    const tables = [...allowedFunctions].filter((name) => name !== 'unnest' && [...(known.get(name) ?? [])].every((type) => /table|pragma/.test(type)));
    assert.deepEqual(tables, []);
  });

  const refused = ['current_setting', 'getvariable', 'version', 'read_csv', 'glob', 'query', 'json_serialize_plan', 'list_aggregate', 'error', 'sleep_ms', 'write_log', 'setseed', 'nextval', 'stats', 'current_database', 'pg_typeof', 'has_table_privilege', '__internal_compress_string_ubigint'];
  for (const name of refused) {
    it(`refuses ${name}`, () => assert.equal(isAllowedFunction(name), false));
  }

  it('allows ordinary functions by any case, operators included', () => {
    for (const name of ['SUM', 'avg', 'strftime', 'Row_Number', '+', '~~', 'date_part', 'struct_pack', 'list_value']) assert.ok(isAllowedFunction(name), name);
  });

  it('knows keywords DuckDB answers as functions when no column has the name', async () => {
    const engine = await DuckDBInstance.create(':memory:');
    const db = await engine.connect();
    try {
      for (const keyword of introspectionKeywords) {
        const reader = await db.runAndReadAll(`SELECT ${keyword}`);
        assert.equal(typeof reader.getRowsJS()[0]?.[0], 'string', `${keyword} describes the database`);
      }
    } finally {
      db.closeSync();
      engine.closeSync();
    }
  });
});
