import assert from 'node:assert/strict';
import { leadingKeyword, uniqueColumnNames } from '../../../services/sql-query/index.js';

describe('sql-query column names and keywords', () => {
  const names: [string, string[], string[]][] = [
    ['unique names stay', ['a', 'b'], ['a', 'b']],
    ['the original join', ['Instcode', 'Unieknr', 'Peildat', 'Instcode', 'Unieknr', 'Peildat'], ['Instcode', 'Unieknr', 'Peildat', 'Instcode_1', 'Unieknr_1', 'Peildat_1']],
    ['a third copy counts on', ['a', 'a', 'a'], ['a', 'a_1', 'a_2']],
    ['a name the query already has is skipped', ['a', 'a', 'a_1'], ['a', 'a_2', 'a_1']],
    ['case does not make a name unique', ['Unieknr', 'unieknr'], ['Unieknr', 'unieknr_1']],
  ];
  for (const [rule, input, expected] of names) {
    it(`names: ${rule}`, () => assert.deepEqual(uniqueColumnNames(input), expected));
  }

  const keywords: [string, string][] = [
    ['select 1', 'SELECT'],
    ['  -- note\n /* block */ ((WITH x AS (SELECT 1) SELECT 1))', 'WITH'],
    ['COPY t TO \'x\'', 'COPY'],
    ['/* unterminated', ''],
  ];
  for (const [query, expected] of keywords) {
    it(`keyword of ${JSON.stringify(query)} is ${JSON.stringify(expected)}`, () => assert.equal(leadingKeyword(query), expected));
  }
});
