import assert from 'node:assert/strict';
import { DuckDBQueryInspector } from '../../adapters/duckdb/duckdb-query-inspector.js';
import { parseRequestBody } from '../../daemon/api/request-body.js';
import { algorithmNames, algorithms } from '../../knowledge/catalog.js';
import type { AlgorithmName } from '../../knowledge/catalog.js';
import type { DynamosError } from '../../knowledge/errors.js';
import type { AnonymizationRules } from '../../knowledge/marketplace/marketplace-schema.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { JobSpec } from '../../knowledge/ports/job-runner.js';
import type { DataSet, ServiceContext } from '../../services/microservice.js';
import { serviceNamed } from '../../services/registry.js';
import { sqlIdentifier } from '../../services/workspace/sql-text.js';
import { seededRandom } from '../../knowledge/seeded-random.js';
import { jobSpec } from '../services/job-spec.js';
import type { CsvWorkspace } from '../services/workspace-fixture.js';
import { csvWorkspace, rowsOf } from '../services/workspace-fixture.js';
import { exampleConfig, marketplaceFrom } from '../support/fixtures.js';
import { hostileData, leaked, leavesOf } from './hostile-data.js';
import { queryGenerator } from './query-generator.js';

const queries = Number(process.env["PROPERTY_QUERIES"] ?? 2000);
const data = hostileData(60);

let tablesMade = 0;
function newTable(prefix: string, made: string[]): string {
  const name = `${prefix}_${++tablesMade}`;
  made.push(name);
  return name;
}

/** Runs the job's services in order over the workspace, as one party would; `made` collects what it created. */
async function runChain(ws: CsvWorkspace, job: JobSpec, inputs: DataSet[], made: string[]): Promise<DataSet[]> {
  const ctx: ServiceContext = { job, db: ws.db, anonymizedAtSource: ws.anonymizedAtSource, newTableName: (prefix) => newTable(prefix, made) };
  let sets = inputs;
  for (const name of job.services) sets = await serviceNamed(name).run(ctx, sets);
  return sets;
}

/** Result cells as text, or the error's message: what a requester would see. */
async function seen(run: () => Promise<DataSet[]>, ws: CsvWorkspace): Promise<string[]> {
  try {
    const results = await run();
    return (await Promise.all(results.map((r) => rowsOf(ws.db, r.table)))).flat().flatMap(leavesOf);
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return [error.message];
  }
}

/**
 * What the requester sees of one query computed at the steward (query, anonymize, algorithm) and
 * through a TTP (the steward's query and anonymize, the stream's columns, then aggregate and
 * algorithm at the TTP), from one run of the steward's part.
 */
async function bothArchetypes(ws: CsvWorkspace, query: string, algorithm: AlgorithmName): Promise<{ atSteward: string[]; atTtp: string[] }> {
  const made: string[] = [];
  const request = { query, algorithm };
  try {
    const steward = jobSpec({ tables: ws.tables, anonymization: rules(), request, services: ['sql-query', 'sql-anonymize'] });
    let queried: DataSet[];
    try {
      queried = await runChain(ws, steward, [], made);
    } catch (error) {
      const message = [(error as Error).message];
      return { atSteward: message, atTtp: message };
    }
    const atSteward = await seen(() => runChain(ws, { ...steward, services: ['sql-algorithm'] }, queried, made), ws);
    const atTtp = await seen(async () => {
      // What the stream carries: the minimised columns when the TTP's algorithm names them, else all.
      const wanted = algorithms[algorithm].requiredColumns;
      const table = newTable('input', made);
      await ws.db.run(`CREATE TABLE ${table} AS SELECT ${wanted === undefined ? '*' : wanted.map(sqlIdentifier).join(', ')} FROM ${sqlIdentifier(queried[0]?.table ?? '')}`);
      const ttp = jobSpec({ party: 'SURF', partyKind: 'computeProvider', inputs: ['UVA'], request, services: ['sql-aggregate', 'sql-algorithm'] });
      return runChain(ws, ttp, [{ table, providers: ['UVA'], artifacts: [] }], made);
    }, ws);
    return { atSteward, atTtp };
  } finally {
    for (const name of made.reverse()) {
      await ws.db.run(`DROP VIEW IF EXISTS ${name}`).catch(() => ws.db.run(`DROP TABLE IF EXISTS ${name}`)).catch(() => undefined);
    }
  }
}

let exampleRules: AnonymizationRules | undefined;
function rules(): AnonymizationRules {
  exampleRules ??= marketplaceFrom(exampleConfig()).datasets['wageGap']?.anonymization ?? {};
  return exampleRules;
}

describe('anonymisation at the source holds for any query (test/security, property)', function () {
  this.timeout(300_000);
  let inspector: DuckDBQueryInspector;
  let marketplace: Marketplace;
  before(async () => {
    inspector = await DuckDBQueryInspector.create();
    marketplace = marketplaceFrom(exampleConfig(), '/data');
  });
  after(() => inspector?.close());

  it('the leak detector finds the raw values when the tables are not anonymised (it can fail)', async () => {
    const raw = await csvWorkspace({ Personen: data.personen, Aanstellingen: data.aanstellingen });
    try {
      const cells = (await rowsOf(raw.db, 'SELECT Gebdat AS x, Unieknr AS id, Nationaliteit FROM Personen')).flat().flatMap(leavesOf);
      assert.equal(leaked(cells, data.secrets).length, 3 * 60);
    } finally {
      raw.close();
    }
  });

  it(`no raw sensitive value or ungeneralised date in the answer to ${queries} generated queries, computed at the steward or at a TTP`, async () => {
    const next = queryGenerator(seededRandom(2026));
    const random = seededRandom(12);
    const leaks: string[] = [];
    let answered = 0;
    let refused = 0;
    let ws = await csvWorkspace({ Personen: data.personen, Aanstellingen: data.aanstellingen }, ';', rules());
    try {
      for (let i = 0; i < queries; i++) {
        if (i % 250 === 249) {
          ws.close();
          ws = await csvWorkspace({ Personen: data.personen, Aanstellingen: data.aanstellingen }, ';', rules());
        }
        const query = next();
        const body = { type: 'sqlDataRequest', user: { userName: 'analyst@uva.example' }, dataProviders: ['UVA'], data_request: { type: 'sqlDataRequest', query } };
        const intake = await parseRequestBody(body, marketplace, inspector).then(() => undefined, (e: unknown) => e as DynamosError);
        if (intake !== undefined) {
          refused++;
          leaks.push(...leaked([intake.message], data.secrets).map((s) => `${s} in the refusal of ${query}`));
          continue;
        }
        const algorithm = algorithmNames[Math.floor(random() * algorithmNames.length)] as AlgorithmName;
        const { atSteward, atTtp } = await bothArchetypes(ws, query, algorithm);
        for (const [where, cells] of [['the steward', atSteward], ['the TTP', atTtp]] as const) {
          if (!cells.some((c) => /Error|refuse/.test(c))) answered++;
          leaks.push(...leaked(cells, data.secrets).map((s) => `${s} via ${where} (${algorithm}) for ${query}`));
        }
      }
    } finally {
      ws.close();
    }
    console.log(`      (${queries} queries, ${refused} refused at intake, ${answered} answers)`);
    assert.deepEqual(leaks.slice(0, 10), [], `${leaks.length} leaks`);
    assert.ok(answered > queries / 2, `only ${answered} of ${2 * queries} runs gave an answer: the queries test too little`);
    assert.ok(refused < queries / 10, `${refused} generated queries were refused at intake`);
  });
});
