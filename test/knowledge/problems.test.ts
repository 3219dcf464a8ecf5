import assert from 'node:assert/strict';
import { z } from 'zod';
import { DynamosError } from '../../knowledge/errors.js';
import { parseSettings } from '../../knowledge/problems.js';

const schema = z.strictObject({
  port: z.number().int().max(65535).default(8080),
  amqp: z.strictObject({ url: z.url({ error: 'must be a URL' }) }).optional(),
  weights: z.array(z.number().nonnegative()).default([]),
});

/** The error parseSettings throws for `value`, or a failed assertion when it throws none. */
function refusal(value: unknown): DynamosError {
  try {
    parseSettings(schema, value, 'the test settings');
  } catch (error) {
    assert.ok(error instanceof DynamosError, String(error));
    return error;
  }
  assert.fail('expected the settings to be refused');
}

describe('parseSettings: settings refused one way', () => {
  it('returns the parsed value, defaults filled in, when the settings are valid', () => {
    assert.deepEqual(parseSettings(schema, { amqp: { url: 'amqp://broker' } }, 'the test settings'), { port: 8080, amqp: { url: 'amqp://broker' }, weights: [] });
  });

  it('throws CONFIG_INVALID naming the settings and every problem with its path, one a line', () => {
    const error = refusal({ port: 70000, amqp: { url: 'notaurl' }, weights: [1, -2], extra: true });
    assert.equal(error.code, 'CONFIG_INVALID');
    const [head, ...lines] = error.message.split('\n');
    assert.equal(head, 'the test settings is invalid:');
    assert.deepEqual(lines.map((line) => line.split(':')[0]).sort(), ['amqp.url', 'extra', 'port', 'weights[1]']);
    assert.ok(lines.includes('amqp.url: must be a URL'), error.message);
    assert.ok(lines.includes('extra: unknown key'), error.message);
  });

  it('carries the problems as data and no ZodError text in its message', () => {
    const error = refusal({ port: 'high' });
    assert.deepEqual((error.details?.['problems'] as { path: string }[]).map((p) => p.path), ['port']);
    assert.doesNotMatch(error.message, /ZodError|"code":|^\s+at /m);
    assert.equal(error.retryable, false);
  });
});
