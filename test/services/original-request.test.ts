import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { AnonymizationRules } from '../../knowledge/marketplace/marketplace-schema.js';
import type { TableSource } from '../../knowledge/ports/job-runner.js';
import { sqlAlgorithm } from '../../services/sql-algorithm/index.js';
import { sqlAnonymize } from '../../services/sql-anonymize/index.js';
import { sqlQuery } from '../../services/sql-query/index.js';
import { tableColumns } from '../../services/workspace/table-columns.js';
import { createEngine, openWorkspace } from '../../services/workspace/workspace.js';
import type { Workspace } from '../../services/workspace/workspace.js';
import { requireSharedDatasets } from '../support/fixtures.js';
import { jobSpec, serviceContext } from './job-spec.js';
import { rowsOf } from './workspace-fixture.js';

/** Rows of each file by a normalised parse (every line ending made `\n`, empty lines dropped). */
const expectedRows: Record<string, number> = {
  Personen_UVA: 18026,
  Aanstellingen_UVA: 18639,
  Personen_VU: 16217,
  Aanstellingen_VU: 16626,
};
const stewards = ['UVA', 'VU'] as const;
/** The example's rules: the join key pseudonymised, dates to the year, nationality removed. */
const originalRules: AnonymizationRules = {
  Personen: { Unieknr: 'pseudonymize', Gebdat: { generalize: 'year' }, Nationaliteit: 'remove' },
  Aanstellingen: { Unieknr: 'pseudonymize', Ingdatdv: { generalize: 'year' } },
};
const tableNames = ['Personen', 'Aanstellingen'] as const;

function tablesOf(dir: string, steward: string): TableSource[] {
  return tableNames.map((name) => ({ name, file: join(dir, `${name}_${steward}.csv`), format: 'csv', delimiter: ';' }));
}

/** The original request's averages computed straight from copies of the files with `\n` line ends. */
async function directAverages(db: DuckDBConnection, dir: string, steward: string): Promise<unknown[][]> {
  const read = (name: string) => `read_csv('${join(dir, `${name}_${steward}.csv`)}', delim = ';', header = true)`;
  return rowsOf(
    db,
    `SELECT p.Geslacht, avg(s.Salschal)::DOUBLE, count(s.Salschal) FROM ${read('Personen')} p JOIN ${read('Aanstellingen')} s ON p.Unieknr = s.Unieknr GROUP BY ALL ORDER BY ALL`,
  );
}

describe('the original DYNAMOS sample files', function () {
  let sharedDir: string;
  let normalisedDir: string;
  before(function () {
    sharedDir = requireSharedDatasets(this);
    normalisedDir = mkdtempSync(join(tmpdir(), 'dynamos-normalised-'));
    for (const file of Object.keys(expectedRows)) {
      const text = readFileSync(join(sharedDir, `${file}.csv`), 'latin1').replace(/\r\r\n|\r\n|\r/g, '\n');
      writeFileSync(join(normalisedDir, `${file}.csv`), text, 'latin1');
    }
  });
  after(() => {
    if (normalisedDir !== undefined) rmSync(normalisedDir, { recursive: true, force: true });
  });

  for (const steward of stewards) {
    describe(`of ${steward}`, () => {
      let ws: Workspace;
      before(async () => {
        ws = await openWorkspace(await createEngine(), tablesOf(sharedDir, steward), { anonymization: originalRules });
      });
      after(() => ws?.close());

      it('load with the row counts of a normalised parse and no line-end character in any name or value', async () => {
        for (const name of tableNames) {
          assert.deepEqual(await rowsOf(ws.db, `SELECT count(*) FROM ${name}`), [[BigInt(expectedRows[`${name}_${steward}`]!)]]);
          for (const column of await tableColumns(ws.db, name)) {
            assert.doesNotMatch(column.name, /[\r\n]/);
            const [[bad]] = (await rowsOf(ws.db, `SELECT count(*) FROM ${name} WHERE regexp_matches(CAST("${column.name}" AS VARCHAR), '[\\r\\n]')`)) as [[bigint]];
            assert.equal(bad, 0n, `${name}.${column.name} has values with \\r or \\n`);
          }
        }
      });

      it('answer the original request (anonymized at the source, query, average) as DuckDB does on raw normalised copies', async () => {
        const job = jobSpec({ party: steward, services: ['sql-query', 'sql-anonymize', 'sql-algorithm'], tables: tablesOf(sharedDir, steward), anonymization: originalRules });
        const ctx = serviceContext(ws.db, job);
        const queried = await sqlQuery.run(ctx, []);
        const anonymized = await sqlAnonymize.run(ctx, queried);
        const [averaged] = await sqlAlgorithm.run(ctx, anonymized);
        const rows = await rowsOf(ws.db, averaged!.table);
        assert.deepEqual(rows.map((r) => r[0]), ['M', 'V']);
        const plain = await (await DuckDBInstance.create(':memory:')).connect();
        try {
          assert.deepEqual(rows, await directAverages(plain, normalisedDir, steward));
        } finally {
          plain.closeSync();
        }
        assert.deepEqual(averaged!.providers, [steward]);
      });
    });
  }
});
