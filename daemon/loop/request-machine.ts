import { assign, fromPromise, setup } from 'xstate';
import type { DataRequest } from '../../knowledge/data-request.js';
import type { ErrorCode } from '../../knowledge/errors.js';
import { DynamosError, toDynamosError } from '../../knowledge/errors.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { DeploymentResult } from '../../knowledge/ports/job-runner.js';
import type { Analysis } from '../mape/analyze.js';
import { analyze } from '../mape/analyze.js';
import type { Plan } from '../mape/plan.js';
import { plan } from '../mape/plan.js';
import type { Strategy } from '../mape/strategies/strategy.js';
import type { Phase, RequestOutcome, RequestTimings } from '../mape/request-outcome.js';

/** What the request machine needs from the world, swapped in tests with `machine.provide`. */
export interface RequestMachineDeps {
  readonly knowledge: () => KnowledgeSnapshot;
  readonly strategy: Strategy;
  /** Starts the jobs; rejects only when cancelled. */
  readonly execute: (request: DataRequest, decided: Extract<Plan, { kind: 'deploy' }>, signal: AbortSignal) => Promise<DeploymentResult>;
  /** Called when the plan is made, before any job starts (in-flight registration, hysteresis memory). */
  readonly planned: (request: DataRequest, k: KnowledgeSnapshot, analysis: Analysis, decided: Plan) => void;
  /** Keeps the decision and its outcome (audit log, telemetry, knowledge). */
  readonly record: (outcome: RequestOutcome, k: KnowledgeSnapshot) => Promise<void>;
}

interface Context {
  readonly request: DataRequest;
  readonly deps: RequestMachineDeps;
  readonly cancel: AbortController;
  readonly cancelled?: { readonly code: ErrorCode; readonly reason: string };
  readonly k?: KnowledgeSnapshot;
  readonly analysis?: Analysis;
  readonly plan?: Plan;
  readonly result?: DeploymentResult;
  readonly error?: DynamosError;
  readonly startedAt: number;
  readonly phaseStartedAt: number;
  readonly phases: Partial<Record<Phase, number>>;
  readonly outcome?: RequestOutcome;
}

type Event = { readonly type: 'CANCEL'; readonly code: ErrorCode; readonly reason: string };

/**
 * One request through the MAPE-K phases (docs/architecture.md#one-request): monitor → analyze → plan → execute → record.
 * The machine only orchestrates: the phases are pure functions, the world is reached through
 * `deps`. Every invoke has an onError. Its output is one RequestOutcome.
 */
export const requestMachine = setup({
  types: {
    context: {} as Context,
    events: {} as Event,
    input: {} as { request: DataRequest; deps: RequestMachineDeps },
    output: {} as RequestOutcome,
  },
  actors: {
    execute: fromPromise<DeploymentResult, { context: Context }>(({ input: { context }, signal }) => {
      const decided = context.plan as Extract<Plan, { kind: 'deploy' }>;
      // Not AbortSignal.any: on Node 20 it is costly per call and keeps its dependents alive.
      if (signal.aborted) context.cancel.abort(signal.reason);
      else signal.addEventListener('abort', () => context.cancel.abort(signal.reason), { once: true });
      return context.deps.execute(context.request, decided, context.cancel.signal);
    }),
    record: fromPromise<void, { outcome: RequestOutcome; k: KnowledgeSnapshot; deps: RequestMachineDeps }>(({ input }) => input.deps.record(input.outcome, input.k)),
  },
  actions: {
    endPhase: assign(({ context }, phase: Phase) => {
      const now = performance.now();
      return { phases: { ...context.phases, [phase]: now - context.phaseStartedAt }, phaseStartedAt: now };
    }),
  },
  guards: {
    denied: ({ context }) => context.plan?.kind === 'deny',
  },
}).createMachine({
  id: 'request',
  context: ({ input }) => ({
    request: input.request,
    deps: input.deps,
    cancel: new AbortController(),
    startedAt: performance.now(),
    phaseStartedAt: performance.now(),
    phases: {},
  }),
  initial: 'monitor',
  on: {
    CANCEL: {
      guard: ({ context }) => context.cancelled === undefined,
      actions: [
        assign({ cancelled: ({ event }) => ({ code: event.code, reason: event.reason }) }),
        ({ context }) => context.cancel.abort(),
      ],
    },
  },
  states: {
    monitor: {
      entry: [assign({ k: ({ context }) => context.deps.knowledge() }), { type: 'endPhase', params: 'monitor' }],
      always: 'analyze',
    },
    analyze: {
      entry: [assign({ analysis: ({ context }) => analyze(context.k as KnowledgeSnapshot, context.request) }), { type: 'endPhase', params: 'analyze' }],
      always: 'plan',
    },
    plan: {
      entry: [
        assign({ plan: ({ context }) => plan(context.k as KnowledgeSnapshot, context.analysis as Analysis, context.deps.strategy) }),
        ({ context }) => context.deps.planned(context.request, context.k as KnowledgeSnapshot, context.analysis as Analysis, context.plan as Plan),
        { type: 'endPhase', params: 'plan' },
      ],
      always: [{ guard: 'denied', target: 'record' }, { target: 'execute' }],
    },
    execute: {
      invoke: {
        src: 'execute',
        input: ({ context }) => ({ context }),
        onDone: { target: 'record', actions: [assign({ result: ({ event }) => event.output }), { type: 'endPhase', params: 'execute' }] },
        onError: { target: 'record', actions: [assign({ error: ({ event }) => toDynamosError(event.error) }), { type: 'endPhase', params: 'execute' }] },
      },
    },
    record: {
      entry: assign({ outcome: ({ context }) => outcomeOf(context) }),
      invoke: {
        src: 'record',
        input: ({ context }) => ({ outcome: context.outcome as RequestOutcome, k: context.k as KnowledgeSnapshot, deps: context.deps }),
        onDone: { target: 'done', actions: { type: 'endPhase', params: 'record' } },
        // The answer does not depend on the audit trail being written; the recorder logs and counts its own failures.
        onError: { target: 'done', actions: { type: 'endPhase', params: 'record' } },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => withTimings(context.outcome as RequestOutcome, context),
});

/** The outcome once the phases ran: exactly one kind, from what the context holds. */
function outcomeOf(c: Context): RequestOutcome {
  const timings = timingsOf(c);
  const request = c.request;
  const analysis = c.analysis as Analysis;
  const decided = c.plan as Plan;
  if (decided.kind === 'deny') return { kind: 'denied', request, analysis, plan: decided, timings };
  if (c.cancelled !== undefined) return { kind: 'cancelled', request, analysis, plan: decided, ...c.cancelled, timings };
  if (c.error !== undefined) {
    if (c.error.code === 'JOB_CANCELLED') return { kind: 'cancelled', request, analysis, plan: decided, code: 'JOB_CANCELLED', reason: c.error.message, timings };
    return { kind: 'failed', request, analysis, plan: decided, error: c.error, timings };
  }
  if (c.result === undefined) {
    return { kind: 'failed', request, analysis, plan: decided, error: new DynamosError('INTERNAL', 'execution ended without a result', { retryable: false }), timings };
  }
  return { kind: 'completed', request, analysis, plan: decided, result: c.result, timings };
}

function timingsOf(c: Context): RequestTimings {
  const p = c.phases;
  return {
    decisionMs: (p.analyze ?? 0) + (p.plan ?? 0),
    executeMs: p.execute ?? 0,
    totalMs: performance.now() - c.startedAt,
    phases: p,
  };
}

function withTimings(outcome: RequestOutcome, c: Context): RequestOutcome {
  return { ...outcome, timings: { ...timingsOf(c), totalMs: performance.now() - c.startedAt } };
}
