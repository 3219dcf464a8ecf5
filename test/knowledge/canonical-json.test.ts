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
});
