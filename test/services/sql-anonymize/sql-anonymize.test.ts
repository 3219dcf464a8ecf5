import assert from 'node:assert/strict';
import { DynamosError } from '../../../knowledge/errors.js';
import type { AnonymizationRules } from '../../../knowledge/marketplace/marketplace-schema.js';
import { sqlAnonymize } from '../../../services/sql-anonymize/index.js';
import { dataSet, jobSpec, serviceContext } from '../job-spec.js';
import type { CsvWorkspace } from '../workspace-fixture.js';
import { csvWorkspace, rowsOf, schemaOf } from '../workspace-fixture.js';

const people = [
  'Unieknr;Geslacht;Gebdat;Startdatum;Tekstdatum;Postcode;Salaris;Nationaliteit',
  '2104;V;19900101;2015-03-01;1985-06-15;1012AB;3456.5;0001',
  '2739;M;123;1999-12-31;85;10;999;0002',
  ';;;;;;;',
].join('\n');
const jobs = ['Unieknr;Salschal', '2104;10', '2739;12', '2739;13'].join('\n');

const rules: AnonymizationRules = {
  Personen: {
    Unieknr: 'pseudonymize',
    Gebdat: { generalize: 'year' },
    startdatum: { generalize: 'year' },
    Tekstdatum: { generalize: 'year' },
    Postcode: { generalize: 'prefix', length: 2 },
    Salaris: { generalize: 'bucket', width: 1000 },
    Nationaliteit: 'remove',
  },
  Aanstellingen: { UNIEKNR: 'pseudonymize' },
};

async function failure(promise: Promise<unknown>): Promise<DynamosError> {
  return promise.then(
    () => assert.fail('expected a failure'),
    (e: unknown) => {
      assert.ok(e instanceof DynamosError, String(e));
      return e;
    },
  );
}

describe('sql-anonymize at the source (the steward tables a query can see)', () => {
  let ws: CsvWorkspace;
  before(async () => (ws = await csvWorkspace({ Personen: people, Aanstellingen: jobs }, ';', rules)));
  after(() => ws?.close());

  it('removes, pseudonymises and generalises by rule, by type, keeping the file order of the rest', async () => {
    assert.deepEqual(await schemaOf(ws.db, 'Personen'), [
      'Unieknr VARCHAR', 'Geslacht VARCHAR', 'Gebdat INTEGER', 'Startdatum INTEGER', 'Tekstdatum INTEGER', 'Postcode VARCHAR', 'Salaris DOUBLE',
    ]);
    const rows = await rowsOf(ws.db, 'SELECT * EXCLUDE (Unieknr) FROM Personen ORDER BY Geslacht NULLS LAST');
    assert.deepEqual(rows, [
      ['M', null, 1999, null, null, 0],
      ['V', 1990, 2015, 1985, '10', 3000],
      [null, null, null, null, null, null],
    ]);
  });

  it('pseudonymises the same id the same way in every table of the job, so joins still work', async () => {
    const joined = await rowsOf(ws.db, 'SELECT p.Geslacht, s.Salschal FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr ORDER BY 2');
    assert.deepEqual(joined, [['V', 10n], ['M', 12n], ['M', 13n]]);
    const ids = (await rowsOf(ws.db, 'SELECT Unieknr FROM Personen WHERE Unieknr IS NOT NULL')).map((r) => r[0] as string);
    for (const id of ids) assert.match(id, /^[0-9a-f]{32}$/);
    assert.equal((await rowsOf(ws.db, "SELECT count(*) FROM Personen WHERE Unieknr IN ('2104', '2739')"))[0]?.[0], 0n);
  });

  it('gives the same id another pseudonym in another job (nothing links two requests)', async () => {
    const other = await csvWorkspace({ Personen: people, Aanstellingen: jobs }, ';', rules);
    try {
      const mine = await rowsOf(ws.db, 'SELECT Unieknr FROM Personen WHERE Geslacht = \'V\'');
      const theirs = await rowsOf(other.db, 'SELECT Unieknr FROM Personen WHERE Geslacht = \'V\'');
      assert.notDeepEqual(mine, theirs);
    } finally {
      other.close();
    }
  });

  it('refuses rules that name a column the table lacks, so a typo cannot leave the real column raw', async () => {
    const error = await failure(csvWorkspace({ Personen: people }, ';', { Personen: { Gebdatt: { generalize: 'year' } } }));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /names Gebdatt, which the table does not have/);
  });

  it('refuses rules that remove every column', async () => {
    const error = await failure(csvWorkspace({ Aanstellingen: jobs }, ';', { Aanstellingen: { Unieknr: 'remove', Salschal: 'remove' } }));
    assert.equal(error.code, 'CONFIG_INVALID');
    assert.match(error.message, /removes every column/);
  });

  const years: [string, string, (number | null)[]][] = [
    ['keeps a year, and yyyymmdd and yyyy-mm-dd to their year', '1990;19900115;1990-01-15 10:00', [1990, 1990, 1990]],
    ['does not cut a day-first date, whose first digits are a day and a month', '15011990;13011990;15-01-1990', [null, null, null]],
    ['does not cut a short date or an id generalised by mistake', '900113;40001047;85', [null, null, null]],
  ];
  for (const [rule, row, expected] of years) {
    it(`${rule}, as integer or text`, async () => {
      const yearly = await csvWorkspace({ T: `a;b;c\n${row}\n` }, ';', { T: { a: { generalize: 'year' }, b: { generalize: 'year' }, c: { generalize: 'year' } } });
      try {
        assert.deepEqual((await rowsOf(yearly.db, 'SELECT * FROM T'))[0], expected);
      } finally {
        yearly.close();
      }
    });
  }

  it('applies a column\'s rule to its copies when the header repeats its name', async () => {
    const repeated = await csvWorkspace({ T: 'Id;Gebdat;Gebdat;gebdat\n7;19870314;19870314;19870314\n' }, ';', { T: { Gebdat: { generalize: 'year' } } });
    try {
      assert.deepEqual(await schemaOf(repeated.db, 'T'), ['Id BIGINT', 'Gebdat INTEGER', 'Gebdat_1 INTEGER', 'gebdat_2 INTEGER']);
      assert.deepEqual(await rowsOf(repeated.db, 'SELECT * FROM T'), [[7n, 1987, 1987, 1987]]);
    } finally {
      repeated.close();
    }
  });

  it('reads a generalised or removed column as text, so a value its sniffed type does not fit is NULL, not an error', async () => {
    const lines = ['Id;Gebdat;Nationaliteit', ...Array.from({ length: 30_000 }, (_, i) => `${i};19700101;${i}`)];
    lines[25_000] = '25000;1987-03-14;not a number';
    const drifting = await csvWorkspace({ T: `${lines.join('\n')}\n` }, ';', { T: { Gebdat: { generalize: 'year' }, Nationaliteit: 'remove' } });
    try {
      assert.deepEqual(await rowsOf(drifting.db, 'SELECT count(*), min(Gebdat), max(Gebdat) FROM T'), [[30_000n, 1970, 1987]]);
    } finally {
      drifting.close();
    }
  });

  it('passes its inputs on when the workspace anonymised the source', async () => {
    const ctx = serviceContext(ws.db, jobSpec({ anonymization: rules }));
    assert.deepEqual(await sqlAnonymize.run(ctx, [dataSet('Personen')]), [dataSet('Personen')]);
  });

  it('refuses to pass data on from a workspace that did not anonymise the source', async () => {
    const unanonymised = serviceContext(ws.db, jobSpec({ anonymization: rules }), false);
    assert.equal((await failure(sqlAnonymize.run(unanonymised, [dataSet('Personen')]))).code, 'INTERNAL');
    const noRules = serviceContext(ws.db, jobSpec({}), true);
    assert.equal((await failure(sqlAnonymize.run(noRules, [dataSet('Personen')]))).code, 'INTERNAL');
  });
});
