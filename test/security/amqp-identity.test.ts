import assert from 'node:assert/strict';
import { FakeRequestBroker, FakeRequestQueue } from '../../adapters/fake/fake-request-queue.js';
import { startAmqpIntake } from '../../daemon/api/amqp-intake.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { waitFor } from '../contract/request-queue.contract.js';
import { analyst, signToken, testKeys } from '../support/tokens.js';
import type { TestKeys } from '../support/tokens.js';
import { ApiWorld, requestBody, testIssuer } from './api-world.js';

describe('verified requesters over AMQP: the token in the message\'s authorization header', () => {
  let world: ApiWorld;
  let keys: TestKeys;
  let broker: FakeRequestBroker;
  let queue: FakeRequestQueue;
  let sent = 0;

  before(async () => {
    world = await ApiWorld.create();
    keys = testKeys('ES256');
    broker = new FakeRequestBroker();
    queue = new FakeRequestQueue(broker);
    await startAmqpIntake(queue, world.api(world.authenticator([testIssuer(keys)])).intake, { logger: silentLogger, clock: world.clock });
  });
  after(async () => {
    await queue?.close();
    await world?.close();
  });

  /** Publishes a request with `authorization` as its header and waits for its answer. */
  async function ask(body: unknown, authorization?: string): Promise<{ status: number; body: { code?: string; message?: string; jobId?: string } }> {
    const replyTo = `replies-${++sent}`;
    broker.publishRequest(JSON.stringify(body), { messageId: `m-${sent}`, correlationId: `c-${sent}`, replyTo, ...(authorization === undefined ? {} : { headers: { authorization } }) });
    await waitFor('the answer', () => broker.replies(replyTo).length === 1);
    const [reply] = broker.replies(replyTo);
    return reply as { status: number; body: { code?: string; message?: string; jobId?: string } };
  }

  it('runs a request whose token is valid, as the token\'s user', async () => {
    const answer = await ask(requestBody(analyst), `Bearer ${await signToken(keys, world.clock.now())}`);
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    // The final record follows the broker's confirm of the answer.
    await waitFor('the record', () => world.decisions.get(answer.body.jobId as string)?.outcome.kind === 'completed');
    assert.equal(world.decisions.get(answer.body.jobId as string)?.requester, analyst);
  });

  const refusals: { rule: string; authorization: () => Promise<string | undefined>; body?: unknown; status: number; code: string; message: RegExp }[] = [
    { rule: 'no header', authorization: async () => undefined, status: 401, code: 'UNAUTHENTICATED', message: /no credential/ },
    { rule: 'an expired token', authorization: async () => `Bearer ${await signToken(keys, world.clock.now() - 3_600_000)}`, status: 401, code: 'UNAUTHENTICATED', message: /expired/ },
    { rule: 'a token from an issuer not trusted', authorization: async () => `Bearer ${await signToken(keys, world.clock.now(), { iss: 'https://evil.test' })}`, status: 401, code: 'UNAUTHENTICATED', message: /not trusted/ },
    { rule: 'a body naming someone else', authorization: async () => `Bearer ${await signToken(keys, world.clock.now())}`, body: requestBody('mallory@evil.example'), status: 403, code: 'FORBIDDEN', message: /^user\.userName: "mallory@evil\.example" is not the verified requester/ },
  ];
  for (const r of refusals) {
    it(`answers ${r.status} to ${r.rule}, on the replyTo, without running a job`, async () => {
      const jobsBefore = world.runner.jobs.length;
      const answer = await ask(r.body ?? requestBody(analyst), await r.authorization());
      assert.equal(answer.status, r.status);
      assert.equal(answer.body.code, r.code);
      assert.match(answer.body.message ?? '', r.message);
      assert.equal(world.runner.jobs.length, jobsBefore);
    });
  }
});
