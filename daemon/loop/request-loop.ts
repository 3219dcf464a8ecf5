import { createActor, toPromise } from 'xstate';
import type { OutcomeKind } from '../../knowledge/audit/decision-record.js';
import type { DecisionRecord } from '../../knowledge/audit/decision-record.js';
import type { UnsealedRecord } from '../../knowledge/audit/decision-log.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import type { ErrorCode } from '../../knowledge/errors.js';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { DeploymentResult, JobReport, JobRunner, ResultLimit } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { TelemetrySink } from '../../knowledge/ports/telemetry-sink.js';
import type { Analysis } from '../mape/analyze.js';
import type { Plan } from '../mape/plan.js';
import type { Strategy } from '../mape/strategies/strategy.js';
import type { Admission } from './admission.js';
import { choiceKeyOf, finishedEvents, outcomeSummary, plannedEvents, recordFor, startedRecordFor } from './decision-recorder.js';
import { requestMachine } from './request-machine.js';
import type { Phase, RequestOutcome } from '../mape/request-outcome.js';
import { phases } from '../mape/request-outcome.js';

export type LoopName = 'request' | 'background' | 'intake';

/** The daemon's own metrics the loops feed (daemon/telemetry's DaemonMetrics). */
export interface LoopMetrics {
  /** A request was answered, `seconds` after it entered the loop (its answer sent, or given up on). */
  requestFinished(archetype: string, outcome: OutcomeKind, seconds: number): void;
  phase(phase: Phase, seconds: number): void;
  decisionChanged(): void;
  jobFinished(report: JobReport, energyJoules: number): void;
  loopError(loop: LoopName): void;
  iteration(loop: LoopName): void;
}

export interface RequestLoopDeps {
  readonly knowledge: KnowledgeBase;
  /** Read per request, so a strategy change applies to the next request. */
  readonly strategy: () => Strategy;
  readonly runner: JobRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Every job of a request is killed this long after it starts, unless its request type has its own. */
  readonly deadlineMs: number;
  /** Deadlines per request type, in ms, over `deadlineMs`. */
  readonly deadlineMsByRequestType?: Readonly<Record<string, number>>;
  /** The most a requester may receive per request; unlimited when absent. */
  readonly resultLimit?: ResultLimit;
  /** Room for jobs: requests wait for it, or are refused OVERLOADED; unbounded when absent. */
  readonly admission?: Admission;
  /** Energy of a job: measured where the party reports it, else estimated from its CPU-seconds. */
  readonly energyOf: (report: JobReport) => number;
  readonly decisionLog?: { append(record: UnsealedRecord): Promise<DecisionRecord> };
  readonly telemetry?: TelemetrySink;
  readonly metrics?: LoopMetrics;
  /** Hears each request arrive and end, e.g. to record a trace (`serve --record`). */
  readonly observer?: RequestObserver;
}

/** Hands an outcome's answer to the requester; resolves once it was sent, rejects saying why it was not. */
export type Deliver = (outcome: RequestOutcome) => Promise<void>;

/**
 * Called synchronously on the request path, so it must be quick and must not throw: it sees the
 * request before it is decided and the outcome before the decision log is written.
 */
export interface RequestObserver {
  received(request: DataRequest, at: number): void;
  finished(outcome: RequestOutcome, k: KnowledgeSnapshot, at: number): void;
}

/**
 * Runs each request through the request machine and keeps track of the ones in flight, so the
 * background loop can cancel a request whose agreement was revoked.
 */
export class RequestLoop {
  private readonly running = new Map<string, ReturnType<typeof createActor<typeof requestMachine>>>();

  constructor(private readonly deps: RequestLoopDeps) {}

  /**
   * Decides and runs one request. `signal` aborting (the requester went away) cancels its jobs.
   * With `deliver`, the outcome is handed to it and the final record is written once it settles,
   * so a record says `completed` only for an answer that was sent; without, the record is written
   * at once.
   */
  async handle(request: DataRequest, signal?: AbortSignal, deliver?: Deliver): Promise<RequestOutcome> {
    const { deps } = this;
    const log = deps.logger.child({ requestId: request.id });
    deps.observer?.received(request, deps.clock.now());
    const actor = createActor(requestMachine, {
      input: {
        request,
        deps: {
          knowledge: () => deps.knowledge.at(deps.clock.now()),
          strategy: deps.strategy(),
          execute: (req, decided, abort) => this.execute(req, decided, abort),
          planned: (req, k, analysis, decided) => this.planned(req, k, analysis, decided, log),
          record: (outcome, k) => this.record(outcome, k, log, deliver),
        },
      },
    });
    this.running.set(request.id, actor);
    const onAbort = () => actor.send({ type: 'CANCEL', code: 'JOB_CANCELLED', reason: 'the requester went away' });
    signal?.addEventListener('abort', onAbort);
    try {
      actor.start();
      if (signal?.aborted) onAbort();
      const outcome = await toPromise(actor);
      for (const phase of phases) {
        const ms = outcome.timings.phases[phase];
        if (ms !== undefined) deps.metrics?.phase(phase, ms / 1000);
      }
      return outcome;
    } catch (error) {
      deps.metrics?.loopError('request');
      throw error;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.running.delete(request.id);
      deps.metrics?.iteration('request');
    }
  }

  /** Cancels a request in flight; false when it is not running (any more). */
  cancel(requestId: string, code: ErrorCode, reason: string): boolean {
    const actor = this.running.get(requestId);
    if (actor === undefined) return false;
    actor.send({ type: 'CANCEL', code, reason });
    return true;
  }

  get inFlight(): readonly string[] {
    return [...this.running.keys()];
  }

  /** Waits for room for the jobs, then runs them; the room is freed as soon as they ended. */
  private async execute(request: DataRequest, decided: Extract<Plan, { kind: 'deploy' }>, abort: AbortSignal): Promise<DeploymentResult> {
    const { deps } = this;
    const release = await deps.admission?.acquire(decided.jobs.map((j) => j.party), abort);
    try {
      const deadlineMs = deps.deadlineMsByRequestType?.[request.type] ?? deps.deadlineMs;
      return await deps.runner.run({ requestId: request.id, jobs: decided.jobs, deadlineMs, ...(deps.resultLimit === undefined ? {} : { resultLimit: deps.resultLimit }) }, abort);
    } finally {
      release?.();
    }
  }

  private planned(request: DataRequest, k: KnowledgeSnapshot, analysis: Analysis, decided: Plan, log: Logger): void {
    if (decided.kind !== 'deploy') return;
    // Write-ahead: if the daemon dies while this request runs, the next start finds this record
    // without its end and writes the request's `interrupted` record.
    this.deps.decisionLog?.append(startedRecordFor(request, analysis, decided, k, this.deps.clock.now())).catch((error: unknown) => {
      this.deps.metrics?.loopError('request');
      log.error('writing the started record failed', { error: (error as Error).message });
    });
    const key = choiceKeyOf({ request, analysis });
    const previous = k.choices[key];
    if (previous !== undefined && (previous.archetype !== decided.archetype || previous.ttp !== decided.ttp)) {
      this.deps.metrics?.decisionChanged();
      log.info('decision changed', { key, from: `${previous.archetype}${previous.ttp ? `@${previous.ttp}` : ''}`, to: `${decided.archetype}${decided.ttp ? `@${decided.ttp}` : ''}` });
    }
    for (const event of plannedEvents(request, analysis, decided, this.deps.clock.now())) this.deps.knowledge.apply(event);
  }

  private async record(outcome: RequestOutcome, k: KnowledgeSnapshot, log: Logger, deliver: Deliver | undefined): Promise<void> {
    const { deps } = this;
    let undelivered: string | undefined;
    const delivering = performance.now();
    await deliver?.(outcome).catch((error: unknown) => (undelivered = error instanceof Error ? error.message : String(error)));
    // End to end: the machine's time to the outcome, then the time the answer took to go out.
    const seconds = (outcome.timings.totalMs + performance.now() - delivering) / 1000;
    const at = deps.clock.now();
    try {
      deps.observer?.finished(outcome, k, at);
      const summary = outcomeSummary(outcome, deps.energyOf);
      const archetype = outcome.plan?.kind === 'deploy' ? outcome.plan.archetype : 'none';
      deps.metrics?.requestFinished(archetype, summary.kind, seconds);
      if (outcome.kind === 'completed') for (const job of outcome.result.jobs) deps.metrics?.jobFinished(job, deps.energyOf(job));
      const [learned] = finishedEvents(outcome, k, deps.energyOf, at);
      if (learned?.kind === 'jobsFinished') deps.knowledge.apply(learned);
      const unsealed = recordFor(outcome, k, deps.energyOf, at, undelivered);
      const sealed = deps.decisionLog === undefined ? undefined : await deps.decisionLog.append(unsealed);
      deps.telemetry?.recordDecision(sealed ?? { ...unsealed, seq: 0, prevHash: '', hash: '' });
      log.info('request recorded', { outcome: summary.kind, archetype, latencyMs: summary.latencyMs, seq: sealed?.seq });
    } catch (error) {
      deps.metrics?.loopError('request');
      log.error('recording the decision failed; the requester still gets the answer', { error: (error as Error).message });
    } finally {
      if (outcome.plan?.kind === 'deploy') deps.knowledge.apply({ kind: 'requestEnded', requestId: outcome.request.id, at });
    }
  }
}
