import assert from 'node:assert/strict';
import { checkpointSignatureValid, keyIdOf, parseLogLine, signCheckpoint, signedHeadValid, signHead } from '../../../knowledge/audit/checkpoint.js';
import { genesisHash, sealRecord } from '../../../knowledge/audit/decision-log.js';
import { decision, testSigner } from '../../support/audit-records.js';

describe('checkpoints and signed heads', () => {
  const signer = testSigner();
  const other = testSigner();
  const body = { n: 1, records: 0, head: genesisHash, at: 1_700_000_000_000, reason: 'open' as const, every: 100 };

  it('signs a checkpoint that verifies with the key and fails with any change or another key', () => {
    const c = signCheckpoint(body, signer);
    assert.equal(c.checkpoint.keyId, keyIdOf(signer.publicKey));
    assert.equal(checkpointSignatureValid(c, signer.publicKey), true);
    assert.equal(checkpointSignatureValid({ ...c, checkpoint: { ...c.checkpoint, records: 1 } }, signer.publicKey), false);
    assert.equal(checkpointSignatureValid(c, other.publicKey), false);
    assert.equal(checkpointSignatureValid({ ...c, signature: 'not base64 at all' }, signer.publicKey), false);
  });

  it('signs a head an auditor can check, which cannot pass for a checkpoint', () => {
    const head = signHead({ seq: 3, hash: 'b'.repeat(64) }, 1_700_000_000_000, signer);
    assert.deepEqual([head.seq, head.keyId, signedHeadValid(head, signer.publicKey)], [3, signer.keyId, true]);
    assert.equal(signedHeadValid({ ...head, seq: 4 }, signer.publicKey), false);
    const asCheckpoint = { checkpoint: { ...body, records: 3, head: head.hash, keyId: head.keyId }, signature: head.signature };
    assert.equal(checkpointSignatureValid(asCheckpoint, signer.publicKey), false);
  });

  const lines: [string, string, RegExp | 'record' | 'checkpoint'][] = [
    ['a decision record', JSON.stringify(sealRecord(decision('r1'), 1, genesisHash)), 'record'],
    ['a checkpoint', JSON.stringify(signCheckpoint(body, signer)), 'checkpoint'],
    ['a line cut short', '{"seq":1,"hash', /not JSON/],
    ['an empty object', '{}', /neither a decision record .* nor a checkpoint/],
    ['an array', '[1]', /not a JSON object/],
    ['a checkpoint without its count', JSON.stringify({ checkpoint: { ...body, records: undefined, keyId: 'k' }, signature: 'x' }), /checkpoint of the wrong shape \(checkpoint\.records/],
  ];
  for (const [what, line, expected] of lines) {
    it(`reads ${what} as ${typeof expected === 'string' ? expected : 'malformed'}`, () => {
      const parsed = parseLogLine(line);
      if (typeof expected === 'string') assert.equal(parsed.kind, expected);
      else assert.ok(parsed.kind === 'malformed' && expected.test(parsed.why), JSON.stringify(parsed));
    });
  }
});
