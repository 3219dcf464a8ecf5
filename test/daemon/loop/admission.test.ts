import assert from 'node:assert/strict';
import { SimulatedClock } from 'xstate';
import { Admission } from '../../../daemon/loop/admission.js';
import type { AdmissionLimits } from '../../../daemon/loop/admission.js';
import type { DynamosError } from '../../../knowledge/errors.js';

const limits: AdmissionLimits = { maxJobs: 4, maxJobsPerParty: 2, maxQueued: 2, maxWaitMs: 10_000 };

/** A request's admission as the test watches it: granted (with its release), refused, or waiting. */
function ask(admission: Admission, parties: string[], signal?: AbortSignal) {
  const seen: { release?: () => void; error?: DynamosError } = {};
  admission.acquire(parties, signal).then(
    (release) => (seen.release = release),
    (error: unknown) => (seen.error = error as DynamosError),
  );
  return seen;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('admission (job slots and a bounded queue)', () => {
  let clock: SimulatedClock;
  let admission: Admission;

  beforeEach(() => {
    clock = new SimulatedClock();
    clock.set(0);
    admission = new Admission(limits, clock);
  });

  it('runs at once what fits, queues what does not, and admits it when room frees', async () => {
    const first = ask(admission, ['UVA', 'VU', 'SURF']);
    const second = ask(admission, ['UVA', 'VU']);
    await settle();
    assert.ok(first.release);
    assert.equal(second.release, undefined);
    assert.deepEqual(admission.state, { runningJobs: 3, queuedRequests: 1 });
    first.release();
    await settle();
    assert.ok(second.release);
    assert.deepEqual(admission.state, { runningJobs: 2, queuedRequests: 0 });
  });

  it('holds each party to its own limit while other parties still run', async () => {
    const a = ask(admission, ['UVA']);
    const b = ask(admission, ['UVA']);
    const c = ask(admission, ['UVA']);
    const d = ask(admission, ['VU']);
    await settle();
    assert.ok(a.release && b.release && d.release);
    assert.equal(c.release, undefined, 'a third UVA job waits: two per party');
    a.release();
    await settle();
    assert.ok(c.release);
  });

  it('refuses with OVERLOADED and a retry hint when the queue is full', async () => {
    ask(admission, ['UVA', 'VU', 'SURF', 'RUG']);
    ask(admission, ['UVA']);
    ask(admission, ['VU']);
    const refused = ask(admission, ['RUG']);
    await settle();
    assert.equal(refused.error?.code, 'OVERLOADED');
    assert.ok(Number(refused.error?.details?.['retryAfterSeconds']) >= 1);
    assert.deepEqual(admission.state, { runningJobs: 4, queuedRequests: 2 });
  });

  it('refuses a request that waited past maxWaitMs, and it leaves the queue', async () => {
    ask(admission, ['UVA', 'VU', 'SURF', 'RUG']);
    const waiting = ask(admission, ['UVA']);
    clock.increment(limits.maxWaitMs);
    await settle();
    assert.equal(waiting.error?.code, 'OVERLOADED');
    assert.equal(admission.state.queuedRequests, 0);
  });

  it('a cancelled waiter leaves the queue and takes no room', async () => {
    const running = ask(admission, ['UVA', 'VU', 'SURF', 'RUG']);
    const controller = new AbortController();
    const waiting = ask(admission, ['UVA'], controller.signal);
    controller.abort();
    await settle();
    assert.equal(waiting.error?.code, 'JOB_CANCELLED');
    running.release?.();
    await settle();
    assert.deepEqual(admission.state, { runningJobs: 0, queuedRequests: 0 });
  });

  it('nobody passes a head that waits for global room, but may pass one blocked at its party', async () => {
    const big = ask(admission, ['UVA', 'VU', 'SURF']);
    await settle();
    const head = ask(admission, ['UVA', 'VU']);
    const small = ask(admission, ['RUG']);
    await settle();
    assert.equal(small.release, undefined, 'the one-job request waits behind the two-job head');
    big.release?.();
    await settle();
    assert.ok(head.release && small.release);

    const again = new Admission(limits, clock);
    const twoAtUva = [ask(again, ['UVA']), ask(again, ['UVA'])];
    const blockedAtParty = ask(again, ['UVA']);
    const other = ask(again, ['VU']);
    await settle();
    assert.equal(blockedAtParty.release, undefined);
    assert.ok(other.release, 'a VU job passes the UVA job that waits for UVA room');
    twoAtUva[0]?.release?.();
    await settle();
    assert.ok(blockedAtParty.release);
  });

  it('refuses at once a request with more jobs than the daemon ever runs', async () => {
    const refused = ask(admission, ['A', 'B', 'C', 'D', 'E']);
    await settle();
    assert.equal(refused.error?.code, 'OVERLOADED');
    assert.equal(refused.error?.retryable, false);
  });

  it('a release called twice frees the room once', async () => {
    const a = ask(admission, ['UVA']);
    await settle();
    a.release?.();
    a.release?.();
    assert.equal(admission.state.runningJobs, 0);
    const uva = [ask(admission, ['UVA']), ask(admission, ['UVA']), ask(admission, ['UVA'])];
    await settle();
    assert.deepEqual(uva.map((r) => r.release !== undefined), [true, true, false], 'the per-party count did not go below zero');
  });
});
