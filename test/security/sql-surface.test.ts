import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBQueryInspector } from '../../adapters/duckdb/duckdb-query-inspector.js';
import { parseRequestBody } from '../../daemon/api/request-body.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { sqlQuery } from '../../services/sql-query/index.js';
import { jobSpec, serviceContext } from '../services/job-spec.js';
import type { CsvWorkspace } from '../services/workspace-fixture.js';
import { csvWorkspace } from '../services/workspace-fixture.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleConfig, marketplaceFrom } from '../support/fixtures.js';
import { hostileSql } from './sql-cases.js';

/** What no refusal may say: where the data lives, where jobs spill, who the process is, what its environment holds. */
function assertNothingOfTheHost(message: string, data: ExampleData): void {
  const secrets = [data.dir, os.tmpdir(), process.cwd(), os.homedir(), process.env['PATH'] ?? '/nonexistent']
    .filter((s) => s.length > 4);
  for (const secret of secrets) assert.ok(!message.includes(secret), `"${message}" reveals ${secret}`);
  assert.doesNotMatch(message, new RegExp(`\\b${process.pid}\\b`), `"${message}" reveals the process id`);
}

function body(query: string) {
  return {
    type: 'sqlDataRequest',
    user: { userName: 'analyst@uva.example' },
    dataProviders: ['UVA'],
    data_request: { type: 'sqlDataRequest', query, algorithm: 'none' },
  };
}

async function refusal(promise: Promise<unknown>): Promise<DynamosError> {
  return promise.then(
    () => assert.fail('expected a refusal'),
    (error: unknown) => {
      assert.ok(error instanceof DynamosError, String(error));
      return error;
    },
  );
}

describe('the closed SQL surface refuses every way out (test/security)', function () {
  let inspector: DuckDBQueryInspector;
  let marketplace: Marketplace;
  let data: ExampleData;
  let ws: CsvWorkspace;
  before(async () => {
    inspector = await DuckDBQueryInspector.create();
    data = await exampleData(20, ['UVA']);
    marketplace = marketplaceFrom(exampleConfig(), data.dir);
    const csv = (table: string) => readFileSync(path.join(data.dir, 'UVA', `${table}.csv`), 'utf8');
    ws = await csvWorkspace({ Personen: csv('Personen'), Aanstellingen: csv('Aanstellingen') }, ';', marketplace.datasets['wageGap']?.anonymization);
  });
  after(async () => {
    await inspector?.close();
    ws?.close();
    data?.remove();
  });

  const total = Object.values(hostileSql).reduce((n, cases) => n + cases.length, 0);
  it(`tries at least 60 cases (${total}), in every class`, () => {
    assert.ok(total >= 60);
    for (const cases of Object.values(hostileSql)) assert.ok(cases.length >= 4);
  });

  for (const [kind, cases] of Object.entries(hostileSql)) {
    describe(kind, () => {
      for (const { sql, names } of cases) {
        it(`refuses ${JSON.stringify(sql)}, naming ${names}, at the daemon and in the job`, async () => {
          const atIntake = await refusal(parseRequestBody(body(sql), marketplace, inspector));
          assert.equal(atIntake.code, 'QUERY_REJECTED', atIntake.message);
          const named = (atIntake.details?.['refused'] as { name: string }[]).map((r) => r.name.toLowerCase());
          assert.ok(named.includes(names.toLowerCase()), `${JSON.stringify(named)} should name ${names}`);
          assertNothingOfTheHost(atIntake.message, data);

          const ctx = serviceContext(ws.db, jobSpec({ tables: ws.tables, request: { query: sql } }));
          const inJob = await refusal(sqlQuery.run(ctx, []));
          assert.equal(inJob.code, 'QUERY_REJECTED', inJob.message);
          assertNothingOfTheHost(inJob.message, data);
        });
      }
    });
  }

  it('refuses a NUL character, after which DuckDB would read no more of the text than it checked', async () => {
    const error = await refusal(parseRequestBody(body("SELECT count(*) FROM Personen\0; SELECT * FROM read_text('/etc/passwd')"), marketplace, inspector));
    assert.equal(error.code, 'REQUEST_INVALID');
    assert.match(error.message, /data_request\.query: must not contain a NUL character/);
  });

  const ordinary = [
    'SELECT CAST(Salschal AS DECIMAL(10, 2)), CAST([Salschal] AS INTEGER[]), CAST({\'a\': 1} AS STRUCT(a INT)) FROM Aanstellingen',
    'SUMMARIZE SELECT Geslacht, Gebdat FROM Personen',
    'WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) SELECT * FROM n, Personen LIMIT 1',
  ];
  for (const sql of ordinary) {
    it(`accepts ${JSON.stringify(sql)}`, async () => {
      await parseRequestBody(body(sql), marketplace, inspector);
      const [out] = await sqlQuery.run(serviceContext(ws.db, jobSpec({ tables: ws.tables, request: { query: sql } })), []);
      assert.ok(out !== undefined);
    });
  }

  it('still runs ordinary analysis over the anonymised tables', async () => {
    const sql = "SELECT Geslacht, year(current_date) - Gebdat AS age, count(*) OVER (PARTITION BY Geslacht) AS n FROM Personen p JOIN Aanstellingen s USING (Unieknr) WHERE Salschal > 3 ORDER BY ALL LIMIT 3";
    const request = await parseRequestBody(body(sql), marketplace, inspector);
    assert.deepEqual(request.tables, ['Personen', 'Aanstellingen']);
    const [out] = await sqlQuery.run(serviceContext(ws.db, jobSpec({ tables: ws.tables, request: { query: sql } })), []);
    assert.ok(out !== undefined);
  });
});
