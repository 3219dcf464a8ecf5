import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TableCatalog } from '../../../adapters/local/table-catalog.js';
import type { TableSource } from '../../../knowledge/ports/job-runner.js';

describe('the table catalog remembers sniffed files within a bound in bytes', () => {
  let dir: string;
  let catalog: TableCatalog;
  const bound = 16 * 1024;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-table-catalog-'));
    catalog = new TableCatalog({ rememberBytes: bound });
  });
  afterEach(async () => {
    await catalog.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('holds no more than its bound as a file changes version after version, and answers the same for the same version', async () => {
    const table: TableSource = { name: 'Personen', file: path.join(dir, 'Personen.csv'), format: 'csv', delimiter: ';' };
    // Forty columns, so each remembered read_csv(...) is some KiB.
    const columns = Array.from({ length: 40 }, (_, i) => `column_with_a_long_name_${i}`);
    writeFileSync(table.file, `${columns.join(';')}\n${columns.map((_, i) => i).join(';')}\n`);
    const first = (await catalog.readsFor([table]))['Personen'];
    assert.match(first ?? '', /^read_csv\(/);
    assert.deepEqual(await catalog.readsFor([table]), { Personen: first }, 'the same version, the same answer');
    for (let version = 1; version <= 20; version++) {
      appendFileSync(table.file, `${columns.map(() => version).join(';')}\n`);
      assert.match((await catalog.readsFor([table]))['Personen'] ?? '', /^read_csv\(/);
      assert.ok(catalog.rememberedBytes <= bound, `holds ${catalog.rememberedBytes} bytes`);
    }
    assert.ok(catalog.rememberedBytes > bound / 4, 'it does remember, up to its bound');
  });
});
