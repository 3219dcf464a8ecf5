import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamosError } from '../../../knowledge/errors.js';
import { createEngine, openWorkspace } from '../../../services/workspace/workspace.js';
import { rowsOf, schemaOf } from '../workspace-fixture.js';

const lines = ['Instcode;Unieknr;Geslacht;Gebdat', 'AAA;1;M;19900101', 'AAA;2;V;19850615'];

describe('workspace', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'dynamos-ws-test-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const endings: [string, string][] = [
    ['\\n', '\n'],
    ['\\r\\n', '\r\n'],
    ['\\r\\r\\n (the original\'s Personen files)', '\r\r\n'],
    ['a bare \\r (the original\'s Aanstellingen files)', '\r'],
  ];
  for (const [name, eol] of endings) {
    for (const trailing of [true, false]) {
      it(`loads a CSV whose lines end in ${name}, ${trailing ? 'with' : 'without'} a final line end`, async () => {
        const file = join(dir, `t-${endings.findIndex(([n]) => n === name)}-${trailing}.csv`);
        writeFileSync(file, lines.join(eol) + (trailing ? eol : ''));
        const ws = await openWorkspace(await createEngine(), [{ name: 'Personen', file, format: 'csv', delimiter: ';' }]);
        try {
          assert.deepEqual(await schemaOf(ws.db, 'Personen'), ['Instcode VARCHAR', 'Unieknr BIGINT', 'Geslacht VARCHAR', 'Gebdat BIGINT']);
          assert.deepEqual(await rowsOf(ws.db, 'Personen'), [['AAA', 1n, 'M', 19900101n], ['AAA', 2n, 'V', 19850615n]]);
        } finally {
          ws.close();
        }
      });
    }
  }

  it('reports a missing file as DATA_UNAVAILABLE', async () => {
    const error = await openWorkspace(await createEngine(), [{ name: 'Personen', file: join(dir, 'absent.csv'), format: 'csv', delimiter: ';' }]).then(
      () => assert.fail('expected DATA_UNAVAILABLE'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'DATA_UNAVAILABLE');
  });

  it('locks the database: no file, no setting', async () => {
    const ws = await openWorkspace(await createEngine(), []);
    try {
      await assert.rejects(ws.db.run("SELECT * FROM read_csv('/etc/passwd')"), /Permission Error/);
      await assert.rejects(ws.db.run('SET enable_external_access = true'), /configuration has been locked/);
    } finally {
      ws.close();
    }
  });

  it('refuses a second workspace on an engine, whose lock is engine-wide, with a clear message', async () => {
    const engine = await createEngine();
    const first = await openWorkspace(engine, []);
    first.close();
    const error = await openWorkspace(engine, []).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e as DynamosError,
    );
    assert.equal(error.code, 'INTERNAL');
    assert.match(error.message, /fresh engine/);
  });
});
