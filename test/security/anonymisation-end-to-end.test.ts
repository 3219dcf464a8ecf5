import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { exampleData, expectedAverages } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { asRequester } from '../support/tokens.js';

interface Answer {
  code?: string;
  message?: string;
  archetype: string;
  jobId: string;
  results: { computedBy: string; providers: string[]; columns: { name: string }[]; rows: unknown[][] }[];
}

/** Every raw value UVA's anonymisation keeps back: its person ids, full birth and start dates, nationalities. */
function uvaSecrets(dir: string): Set<string> {
  const cells = (table: string, columns: number[]) =>
    readFileSync(path.join(dir, 'UVA', `${table}.csv`), 'utf8').trim().split('\n').slice(1).flatMap((line) => columns.map((c) => line.split(';')[c] as string));
  return new Set([...cells('Personen', [1, 3, 4]), ...cells('Aanstellingen', [4])]);
}

describe('what UVA mandates holds end to end, in both archetypes (test/security)', function () {
  let data: ExampleData;
  let daemon: RunningDaemon;
  before(async () => {
    data = await exampleData(40);
    daemon = await startDaemon(
      { port: 0, marketplaceFile: exampleMarketplaceFile, dataDir: data.dir, runner: { warmProcesses: 2 }, decisionLogFile: `${data.dir}/decisions.jsonl`, watchConfig: false },
      { logger: silentLogger },
    );
  });
  after(async () => {
    await daemon?.close();
    data?.remove();
  });

  async function ask(query: string, options: Record<string, boolean>, algorithm = 'none', providers = ['UVA']): Promise<{ status: number; json: Answer }> {
    const body = { type: 'sqlDataRequest', user: { userName: 'analyst@uva.example' }, dataProviders: providers, data_request: { type: 'sqlDataRequest', query, algorithm, options } };
    const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(body), headers: await asRequester(daemon, body) });
    return { status: response.status, json: (await response.json()) as Answer };
  }

  const rename = 'SELECT Gebdat AS x, Unieknr AS id, Gebdat + 0 AS y, CAST(Unieknr AS VARCHAR) AS z FROM Personen';
  for (const [archetype, options] of [['computeToData', { aggregate: false }], ['dataThroughTtp', { aggregate: true }]] as const) {
    it(`answers ${archetype} with years and pseudonyms under any name, never a raw value`, async () => {
      const { status, json } = await ask(rename, options);
      assert.equal(status, 200, JSON.stringify(json));
      assert.equal(json.archetype, archetype);
      const secrets = uvaSecrets(data.dir);
      const columns = json.results[0]?.columns.map((c) => c.name) ?? [];
      const rows = json.results.flatMap((r) => r.rows);
      assert.equal(rows.length, 40);
      for (const row of rows) {
        const cell = (name: string) => row[columns.indexOf(name)];
        assert.ok(Number(cell('x')) >= 1950 && Number(cell('x')) < 2000, `x = ${String(cell('x'))} is a year`);
        assert.match(String(cell('id')), /^[0-9a-f]{32}$/);
        for (const value of row) assert.ok(!secrets.has(String(value)), `${String(value)} is a raw value of UVA`);
      }
    });
  }

  it("keeps an alias to Geslacht, read by the TTP's average, to the year", async () => {
    const query = 'SELECT Gebdat AS Geslacht, Salschal FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr';
    const { status, json } = await ask(query, { aggregate: true }, 'average');
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.results[0]?.computedBy, 'SURF');
    const groups = json.results[0]?.rows.map(([group]) => String(group)) ?? [];
    assert.ok(groups.length > 1, `years to group by: ${JSON.stringify(groups)}`);
    for (const group of groups) assert.match(group, /^(19[5-9]\d)$/);
  });

  it('has no removed column to read, and says so without a value', async () => {
    const { status, json } = await ask('SELECT Nationaliteit FROM Personen', { aggregate: false });
    assert.equal(status, 422);
    assert.equal(json.code, 'QUERY_FAILED');
    assert.match(json.message ?? '', /Nationaliteit/);
    for (const secret of uvaSecrets(data.dir)) if (secret.length >= 4) assert.ok(!(json.message ?? '').includes(secret), `the message holds ${secret}`);
  });

  it("still answers the original request with the averages of the raw data (the join key is pseudonymised in both tables alike)", async () => {
    const { status, json } = await ask('SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', { aggregate: false }, 'average', ['UVA', 'VU']);
    assert.equal(status, 200, JSON.stringify(json));
    for (const steward of ['UVA', 'VU']) {
      assert.deepEqual(json.results.find((r) => r.computedBy === steward)?.rows, expectedAverages(data.dir, [steward]));
    }
  });

  it('records what was applied and why, in the decision a requester can read', async () => {
    const { json } = await ask(rename, { aggregate: false });
    const response = await fetch(`${daemon.url}/api/v1/decisions/${json.jobId}`, { headers: await asRequester(daemon, {}) });
    const record = (await response.json()) as { chains: { party: string; notes: string[] }[] };
    const notes = record.chains.find((c) => c.party === 'UVA')?.notes ?? [];
    assert.ok(notes.includes('sql-anonymize: mandated by UVA for sqlDataRequest'), JSON.stringify(notes));
    assert.ok(notes.some((n) => n.startsWith('sql-anonymize: at the source, before the query: Personen: Unieknr pseudonymized, Gebdat to its year, Nationaliteit removed')));
  });
});
