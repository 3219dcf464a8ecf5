import assert from 'node:assert/strict';
import type { DuckDBConnection } from '@duckdb/node-api';
import type { DynamosError } from '../../../knowledge/errors.js';
import type { DataSet } from '../../../services/microservice.js';
import { sqlGraph } from '../../../services/sql-graph/index.js';
import { dataSet, jobSpec, serviceContext } from '../job-spec.js';
import { memoryDb } from '../workspace-fixture.js';

const bars = (svg: string) => svg.match(/aria-roledescription="bar"/g)?.length ?? 0;

describe('sql-graph', () => {
  let db: DuckDBConnection;
  const graphJob = jobSpec({ request: { options: { graph: true } } });
  before(async () => {
    db = await memoryDb(
      `CREATE TABLE average AS SELECT * FROM (VALUES ('M', 11.0, 2), ('V', 9.0, 1)) t(Geslacht, average_salary_scale, employees)`,
      `CREATE TABLE many AS SELECT 'c' || i AS label, i AS n FROM range(60) r(i) ORDER BY i`,
      `CREATE TABLE counted AS SELECT 42::BIGINT AS "rows"`,
      `CREATE TABLE words AS SELECT 'a' AS w`,
    );
  });
  after(() => db.closeSync());

  async function graph(input: DataSet): Promise<DataSet> {
    const outputs = await sqlGraph.run(serviceContext(db, graphJob), [input]);
    assert.equal(outputs.length, 1);
    return outputs[0]!;
  }

  it('adds an SVG bar chart of the first numeric column by the first text column, passing the table through', async () => {
    const out = await graph(dataSet('average'));
    assert.equal(out.table, 'average');
    assert.deepEqual(out.providers, ['UVA']);
    assert.deepEqual(out.artifacts.map((a) => [a.name, a.mediaType]), [['graph.svg', 'image/svg+xml']]);
    const svg = out.artifacts[0]!.content;
    assert.match(svg, /^<svg /);
    assert.match(svg, />average_salary_scale by Geslacht</);
    assert.equal(bars(svg), 2);
    assert.match(svg, /aria-label="Geslacht: M; average_salary_scale: 11"/);
  });

  it('draws the same bytes for the same table', async () => {
    const [a, b] = [await graph(dataSet('average')), await graph(dataSet('average'))];
    assert.equal(a.artifacts[0]!.content, b.artifacts[0]!.content);
  });

  it('draws at most 50 bars and says so in the title', async () => {
    const svg = (await graph(dataSet('many'))).artifacts[0]!.content;
    assert.equal(bars(svg), 50);
    assert.match(svg, />n by label \(first 50 of 60 rows\)</);
    assert.match(svg, /label: c49;/);
    assert.doesNotMatch(svg, /label: c50;/);
  });

  it('numbers the rows when there is no text column', async () => {
    const svg = (await graph(dataSet('counted'))).artifacts[0]!.content;
    assert.match(svg, />rows by row</);
    assert.match(svg, /aria-label="row: 1; rows: 42"/);
  });

  it('keeps the artifacts the data set already had', async () => {
    const out = await graph({ ...dataSet('average'), artifacts: [{ name: 'notes.txt', mediaType: 'text/plain', content: 'x' }] });
    assert.deepEqual(out.artifacts.map((a) => a.name), ['notes.txt', 'graph.svg']);
  });

  it('refuses a table without a numeric column', async () => {
    const error = await graph(dataSet('words')).then(
      () => assert.fail('expected an invalid input'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'ALGORITHM_INPUT_INVALID');
    assert.match(error.message, /the table has w VARCHAR/);
  });
});
