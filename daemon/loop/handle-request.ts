import type { DataRequest } from '../../knowledge/data-request.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { DeploymentResult, JobRunner } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { Analysis } from '../mape/analyze.js';
import { analyze } from '../mape/analyze.js';
import type { Plan } from '../mape/plan.js';
import { plan } from '../mape/plan.js';
import type { Strategy } from '../mape/strategies/strategy.js';

export interface RequestPipeline {
  /** The knowledge the request is decided on, read once per request. */
  readonly knowledge: () => KnowledgeSnapshot;
  readonly strategy: Strategy;
  readonly runner: JobRunner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** @default 600000, the original's job deadline */
  readonly deadlineMs: number;
}

export interface RequestTimings {
  /** Analyze + plan, in ms. */
  readonly decisionMs: number;
  readonly executeMs: number;
  readonly totalMs: number;
}

/** What became of one request: one value, never two flags that could disagree. */
export type RequestOutcome =
  | {
      readonly kind: 'denied';
      readonly request: DataRequest;
      readonly analysis: Analysis;
      readonly plan: Extract<Plan, { kind: 'deny' }>;
      readonly timings: RequestTimings;
    }
  | {
      readonly kind: 'completed';
      readonly request: DataRequest;
      readonly analysis: Analysis;
      readonly plan: Extract<Plan, { kind: 'deploy' }>;
      readonly result: DeploymentResult;
      readonly timings: RequestTimings;
    };

/**
 * One request through the MAPE-K phases: Monitor (read the knowledge), Analyze (policy),
 * Plan (archetype, chains, jobs), Execute (single-use jobs). A failed job is part of the outcome;
 * only cancellation rejects.
 */
export async function handleRequest(pipeline: RequestPipeline, request: DataRequest, signal?: AbortSignal): Promise<RequestOutcome> {
  const log = pipeline.logger.child({ requestId: request.id });
  const started = performance.now();
  const k = pipeline.knowledge();
  const analysis = analyze(k, request);
  const decided = plan(k, analysis, pipeline.strategy);
  const decisionMs = performance.now() - started;
  if (decided.kind === 'deny') {
    log.info('request denied', { reason: decided.reason, denied: analysis.denied.map((d) => `${d.provider}: ${d.reason}`) });
    return { kind: 'denied', request, analysis, plan: decided, timings: { decisionMs, executeMs: 0, totalMs: decisionMs } };
  }
  log.info('request planned', { archetype: decided.archetype, ttp: decided.ttp, jobs: decided.jobs.map((j) => j.name) });
  const executeStarted = performance.now();
  const result = await pipeline.runner.run({ requestId: request.id, jobs: decided.jobs, deadlineMs: pipeline.deadlineMs }, signal);
  const executeMs = performance.now() - executeStarted;
  const failed = result.jobs.filter((j) => j.status !== 'succeeded');
  if (failed.length > 0) log.warn('request finished with failed jobs', { failed: failed.map((j) => `${j.party}: ${j.error?.message ?? j.status}`) });
  else log.info('request completed', { executeMs: Math.round(executeMs) });
  return { kind: 'completed', request, analysis, plan: decided, result, timings: { decisionMs, executeMs, totalMs: performance.now() - started } };
}
