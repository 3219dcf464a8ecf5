import assert from 'node:assert/strict';
import { DuckDBQueryInspector } from '../../../adapters/duckdb/duckdb-query-inspector.js';
import { parseRequestBody } from '../../../daemon/api/request-body.js';
import { answerRequest } from '../../../daemon/api/request-intake.js';
import type { RequestLimits } from '../../../daemon/api/request-limits.js';
import { pathPastDepth } from '../../../daemon/api/json-depth-scan.js';
import { defaultRequestLimits, requestLimitProblems } from '../../../daemon/api/request-limits.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { formatPath } from '../../../knowledge/problems.js';
import { marketplaceFrom } from '../../support/fixtures.js';
import { analyst, signToken, testKeys } from '../../support/tokens.js';
import { ApiWorld, requestBody, testIssuer } from '../../security/api-world.js';

/** `{ a: { a: … leaf } }`, `levels` objects deep, built without recursion. */
function nested(levels: number, leaf: unknown = 1): unknown {
  let value = leaf;
  for (let i = 0; i < levels; i++) value = { a: value };
  return value;
}

/** The example's request with `change` applied to a fresh copy of its data_request. */
function bodyWith(change: (dataRequest: Record<string, unknown>, body: Record<string, unknown>) => void): Record<string, unknown> {
  const body = requestBody(analyst) as unknown as Record<string, unknown>;
  const dataRequest = { ...(body['data_request'] as Record<string, unknown>) };
  const copy = { ...body, data_request: dataRequest };
  change(dataRequest, copy);
  return copy;
}

const paths = (body: unknown, limits: RequestLimits = defaultRequestLimits) => requestLimitProblems(body, limits).map((p) => p.path);
const metadataPath = (levels: number) => `data_request.requestMetadata${'.a'.repeat(levels)}`;

describe('request limits: how deep and long a body may be', () => {
  const rules: { rule: string; body: () => unknown; paths: string[]; message?: RegExp }[] = [
    { rule: 'the original request is within every limit', body: () => requestBody(analyst), paths: [] },
    { rule: 'metadata nested 8,000 deep is refused where it passes 8 levels', body: () => bodyWith((d) => (d['requestMetadata'] = nested(8_000))), paths: [metadataPath(8)], message: /nested 8 levels deep at most/ },
    { rule: 'metadata 8 levels deep is accepted', body: () => bodyWith((d) => (d['requestMetadata'] = nested(7))), paths: [] },
    { rule: 'a query of 100 KB is refused', body: () => bodyWith((d) => (d['query'] = `SELECT * FROM Personen WHERE a <> '${'x'.repeat(100_000)}'`)), paths: ['data_request.query'], message: /at most 65536/ },
    { rule: 'a query of 60 KB is accepted', body: () => bodyWith((d) => (d['query'] = `SELECT * FROM Personen WHERE a <> '${'x'.repeat(60_000)}'`)), paths: [] },
    { rule: 'a user name over 1 KiB is refused', body: () => bodyWith((_, b) => (b['user'] = { userName: 'u'.repeat(1025) })), paths: ['user.userName'] },
    { rule: 'a steward name over 1 KiB is refused by its index', body: () => bodyWith((_, b) => (b['dataProviders'] = ['VU', 'v'.repeat(2000)])), paths: ['dataProviders[1]'] },
    { rule: 'a key over 1 KiB is refused at its object, not echoed', body: () => bodyWith((d) => (d['options'] = { ['k'.repeat(5000)]: true })), paths: ['data_request.options'], message: /a key of 5000 characters/ },
    { rule: 'metadata over 16 KiB as JSON is refused', body: () => bodyWith((d) => (d['requestMetadata'] = { notes: Array.from({ length: 400 }, () => 'n'.repeat(50)) })), paths: ['data_request.requestMetadata'], message: /more than 16384 bytes/ },
    { rule: 'a metadata string over 1 KiB is accepted: metadata is bounded by its size', body: () => bodyWith((d) => (d['requestMetadata'] = { purpose: 'p'.repeat(10_000) })), paths: [] },
    { rule: 'metadata of multi-byte text counts its UTF-8 bytes', body: () => bodyWith((d) => (d['requestMetadata'] = { purpose: '€'.repeat(6_000) })), paths: ['data_request.requestMetadata'] },
    { rule: 'an unknown key nested deep is refused before zod reads it', body: () => bodyWith((_, b) => (b['extra'] = nested(100))), paths: [`extra${'.a'.repeat(31)}`], message: /deeper than 32 levels/ },
    { rule: 'a body refused a thousand times lists ten problems', body: () => bodyWith((_, b) => (b['dataProviders'] = Array.from({ length: 1000 }, (_, i) => `${i}`.padEnd(2000, 'x')))), paths: Array.from({ length: 10 }, (_, i) => `dataProviders[${i}]`) },
  ];
  for (const { rule, body, paths: expected, message } of rules) {
    it(rule, () => {
      const problems = requestLimitProblems(body(), defaultRequestLimits);
      assert.deepEqual(problems.map((p) => p.path), expected);
      if (message !== undefined) assert.match(problems[0]?.message ?? '', message);
    });
  }

  it('reads a 1 MiB array nested half a million deep (as V8 parses it) and refuses it at level 33', () => {
    const half = 512 * 1024;
    const body: unknown = JSON.parse('['.repeat(half) + ']'.repeat(half));
    assert.deepEqual(paths(body), ['[0]'.repeat(32)]);
  });

  it('applies configured limits, not only the defaults', () => {
    const strict = { ...defaultRequestLimits, maxQueryChars: 20, maxMetadataDepth: 1, maxStringChars: 64 };
    const body = bodyWith((d, b) => ((d['requestMetadata'] = { a: {} }), (b['user'] = { userName: 'u'.repeat(65) })));
    assert.deepEqual(paths(body, strict), ['user.userName', 'data_request.query', 'data_request.requestMetadata.a']);
  });
});

describe('the depth scan of a body text, before JSON.parse', () => {
  const rows: { rule: string; text: string; maxDepth: number; path: (string | number)[] | undefined }[] = [
    { rule: 'a flat object is within any depth', text: '{"a":1,"b":[1,2]}', maxDepth: 2, path: undefined },
    { rule: 'the container past the depth, by index', text: '[1,[2,3],[4,[5]]]', maxDepth: 2, path: [2, 1] },
    { rule: 'the container past the depth, by key', text: '{"a":1, "b" : {"c":{"d":{}}}}', maxDepth: 3, path: ['b', 'c', 'd'] },
    { rule: 'brackets inside strings are text', text: '{"a":"[[[[{{{{","b\\"[":"]]]"}', maxDepth: 1, path: undefined },
    { rule: 'a key with escapes as JSON reads it', text: '{"x\\"\\u0041":[[]]}', maxDepth: 2, path: ['x"A', 0] },
    { rule: 'an index after a nested container', text: '[[[]],[[]],[[[]]]]', maxDepth: 3, path: [2, 0, 0] },
  ];
  for (const { rule, text, maxDepth, path } of rows) {
    it(rule, () => assert.deepEqual(pathPastDepth(text, maxDepth), path));
  }

  it('finds the same path as the walk over the parsed value', () => {
    const values: unknown[] = [
      requestBody(analyst),
      bodyWith((_, b) => (b['extra'] = [1, { k: [nested(40)] }])),
      { a: [[1, 2], { 'b.c': nested(5) }], z: nested(50, ['x']) },
    ];
    for (const value of values) {
      const walked = requestLimitProblems(value, { ...defaultRequestLimits, maxDepth: 6, maxMetadataDepth: 1000 }).filter((p) => /deeper/.test(p.message))[0]?.path;
      const scanned = pathPastDepth(JSON.stringify(value), 6);
      assert.equal(scanned === undefined ? undefined : formatPath(scanned), walked);
    }
  });
});

describe('request limits at the intake', () => {
  let inspector: DuckDBQueryInspector;
  let world: ApiWorld;
  const keys = testKeys('EdDSA');
  before(async () => {
    inspector = await DuckDBQueryInspector.create();
    world = await ApiWorld.create();
  });
  after(async () => {
    await inspector.close();
    await world.close();
  });

  it('answers 8,000-deep metadata with REQUEST_INVALID at its path, before the shape is checked', async () => {
    const error = await parseRequestBody(bodyWith((d, b) => ((d['requestMetadata'] = nested(8_000)), (b['type'] = 42))), marketplaceFrom(), inspector).then(
      () => assert.fail('expected a refusal'),
      (e: unknown) => e as DynamosError,
    );
    assert.ok(error instanceof DynamosError);
    assert.equal(error.code, 'REQUEST_INVALID');
    assert.deepEqual((error.details?.['problems'] as { path: string }[]).map((p) => p.path), [metadataPath(8)]);
  });

  /** answerRequest as HTTP and AMQP call it, with a valid token for the analyst. */
  async function answer(text: string, limits?: RequestLimits) {
    const { intake } = world.api(world.authenticator([testIssuer(keys)]));
    const token = await signToken(keys, world.clock.now());
    return answerRequest({ ...intake, ...(limits === undefined ? {} : { limits }) }, text, { credentials: { authorization: `Bearer ${token}` } });
  }

  it('answers 400 with the path for a body of 1 MiB of nested brackets, and the daemon lives on', async () => {
    const half = 512 * 1024;
    const reply = await answer('['.repeat(half) + ']'.repeat(half));
    assert.equal(reply.status, 400);
    assert.equal(reply.body['code'], 'REQUEST_INVALID');
    assert.deepEqual((reply.body['details'] as { problems: { path: string }[] }).problems.map((p) => p.path), ['[0]'.repeat(32)]);
    assert.equal((await answer('['.repeat(half))).status, 400, 'an unclosed one too');
    assert.equal((await answer(JSON.stringify(requestBody(analyst)))).status, 200);
  });

  it("uses the intake's limits", async () => {
    const body = JSON.stringify(bodyWith((d) => (d['requestMetadata'] = { a: { b: 1 } })));
    assert.equal((await answer(body)).status, 200);
    const reply = await answer(body, { ...defaultRequestLimits, maxMetadataDepth: 1 });
    assert.equal(reply.status, 400);
    assert.deepEqual((reply.body['details'] as { problems: { path: string }[] }).problems.map((p) => p.path), ['data_request.requestMetadata.a']);
  });
});
