import assert from 'node:assert/strict';
import { DuckDBInstance } from '@duckdb/node-api';
import { allowedFunctions, introspectionKeywords, isAllowedFunction } from '../../knowledge/sql-functions.js';

describe('the allowlist of functions a requester may call', () => {
  let known: Map<string, string>;
  before(async () => {
    const engine = await DuckDBInstance.create(':memory:', { autoload_known_extensions: 'false', autoinstall_known_extensions: 'false' });
    const db = await engine.connect();
    const reader = await db.runAndReadAll('SELECT DISTINCT lower(function_name), function_type FROM duckdb_functions()');
    known = new Map(reader.getRowsJS().map(([name, type]) => [String(name), String(type)]));
    db.closeSync();
    engine.closeSync();
  });

  it('names only functions this DuckDB has (unnest is the parser\'s own), none of them a table function', () => {
    const unknown = [...allowedFunctions].filter((name) => name !== 'unnest' && !known.has(name));
    assert.deepEqual(unknown, []);
    const tables = [...allowedFunctions].filter((name) => name !== 'unnest' && /table|pragma/.test(known.get(name) ?? ''));
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
