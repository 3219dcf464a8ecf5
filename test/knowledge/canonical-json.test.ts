import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { canonicalJson, digestOf, digestOfImmutable } from '../../knowledge/canonical-json.js';

describe('canonical JSON', () => {
  it('serialises equal values equally whatever their key order, at every depth', () => {
    const a = { b: 1, a: { d: [1, { z: true, y: null }], c: 'x' } };
    const b = { a: { c: 'x', d: [1, { y: null, z: true }] }, b: 1 };
    assert.equal(canonicalJson(a), canonicalJson(b));
    assert.equal(canonicalJson(a), '{"a":{"c":"x","d":[1,{"y":null,"z":true}]},"b":1}');
  });

  it('leaves undefined properties out and writes undefined array items as null, as JSON does', () => {
    assert.equal(canonicalJson({ a: undefined, b: [undefined, 2] }), '{"b":[null,2]}');
    assert.equal(canonicalJson({ a: undefined }), '{}');
    assert.deepEqual(JSON.parse(canonicalJson({ s: 'quote " and \\ and \n', n: -0.5, e: [] })), { s: 'quote " and \\ and \n', n: -0.5, e: [] });
  });

  it('hashes the canonical text with sha256, and an immutable value only once', () => {
    const value = { y: 2, x: [1, 2] };
    assert.equal(digestOf(value), createHash('sha256').update('{"x":[1,2],"y":2}').digest('hex'));
    assert.equal(digestOfImmutable(value), digestOf(value));
    assert.notEqual(digestOf({ ...value, y: 3 }), digestOf(value));
  });

  it('writes what JSON.stringify writes for values whose keys are already in order', () => {
    const values: unknown[] = [
      [],
      {},
      [1, 'two', null, true, [[]], { a: [{}] }],
      { a: { b: { c: [1, [2, [3, { d: 'e' }]]] } }, f: -1.5e-7, g: '\u2028 \ud800 "' },
      Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? { i, j: [i, { k: String(i) }] } : i % 3 === 1 ? [i, [i]] : `s${i}`)),
    ];
    for (const value of values) assert.equal(canonicalJson(value), JSON.stringify(value));
  });

  it('hashes a value nested 100,000 deep (request metadata) instead of overflowing the stack', () => {
    let value: unknown = 'leaf';
    let expected = '"leaf"';
    for (let i = 0; i < 100_000; i++) {
      value = i % 2 === 0 ? { z: value, a: i } : [value];
      expected = i % 2 === 0 ? `{"a":${i},"z":${expected}}` : `[${expected}]`;
    }
    assert.equal(canonicalJson(value), expected);
    assert.match(digestOf({ request: { metadata: value } }), /^[0-9a-f]{64}$/);
  });

  it('refuses a value that contains itself, as JSON.stringify does', () => {
    const looped: Record<string, unknown> = { a: 1 };
    looped['self'] = { back: [looped] };
    assert.throws(() => canonicalJson(looped), TypeError);
    const shared = { x: 1 };
    assert.equal(canonicalJson({ a: shared, b: [shared] }), '{"a":{"x":1},"b":[{"x":1}]}', 'a value met twice is not a loop');
  });
});
