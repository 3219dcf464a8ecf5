import assert from 'node:assert/strict';
import { memoKey } from '../../knowledge/memo-key.js';

describe('memoKey', () => {
  it('gives equal keys for equal parts only, whatever the names hold', () => {
    const cases: (string | string[])[][] = [
      ['a', 'b'],
      ['a\u0000b'],
      ['ab'],
      ['a', ['b']],
      [['a', 'b']],
      [['a'], 'b'],
      [['a,1:b']],
      [[], '5:hello'],
      [['5:hello']],
      ['', ''],
      [''],
      [[]],
      [[''], []],
      [[], ['']],
      ['1:a'],
      ['1', 'a'],
    ];
    const keys = cases.map(memoKey);
    assert.equal(new Set(keys).size, cases.length, keys.join(' | '));
    assert.equal(memoKey(['analyst', ['UVA', 'VU']]), memoKey(['analyst', ['UVA', 'VU']]));
  });
});
