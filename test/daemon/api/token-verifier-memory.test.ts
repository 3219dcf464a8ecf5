import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { TokenVerifier } from '../../../daemon/api/token-verifier.js';
import { signToken, testKeys } from '../../support/tokens.js';
import { testIssuer, worldStart } from '../../security/api-world.js';

describe('the token verifier remembers verified tokens within a bound in bytes', () => {
  const keys = testKeys('EdDSA');
  const clock = new SimulatedClock();
  clock.set(worldStart);
  const bound = 64 * 1024;

  it('holds no more than its bound for many long tokens, and a remembered token still proves its user', async () => {
    const verifier = new TokenVerifier([testIssuer(keys)], { clock, clockToleranceSeconds: 30, rememberBytes: bound });
    // 100 users with tokens of about 4 KB: a count of 1,024 would keep them all.
    const tokens = await Promise.all(Array.from({ length: 100 }, (_, i) => signToken(keys, worldStart, { sub: `user-${i}`, extra: { note: 'n'.repeat(3000) } })));
    for (const token of tokens) {
      await verifier.verify(token);
      assert.ok(verifier.rememberedBytes <= bound, `holds ${verifier.rememberedBytes} bytes`);
    }
    assert.ok(verifier.rememberedBytes > bound / 2, 'it does remember, up to its bound');
    assert.equal((await verifier.verify(tokens[99] as string)).name, 'user-99', 'remembered');
    assert.equal((await verifier.verify(tokens[0] as string)).name, 'user-0', 'forgotten, verified again');
  });
});
