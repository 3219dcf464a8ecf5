import type { ErrorCode } from '../../knowledge/errors.js';
import { isErrorCode } from '../../knowledge/errors.js';
import type { JobReport, PartyResult } from '../../knowledge/ports/job-runner.js';
import type { RequestOutcome } from '../mape/request-outcome.js';
import { httpStatusByCode } from './error-status.js';

export interface HttpReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

/**
 * The answer to a requestApproval. 200 with the results when at least one result came back (a
 * failed party is listed under `failures`); 403 when policy denies; otherwise the status of the
 * first failure, which in deployment order is the root cause (stewards come before their TTP).
 */
export function replyTo(outcome: RequestOutcome): HttpReply {
  const { request, analysis } = outcome;
  const common = {
    jobId: request.id,
    requestType: request.type,
    authorisedProviders: analysis?.authorised.map((g) => g.steward) ?? [],
    deniedProviders: analysis?.denied ?? [],
  };
  if (outcome.kind === 'denied') {
    return {
      // Policy says no (403); or policy allows it but nothing can take it now (503, try later).
      status: outcome.plan.reason === 'NO_CAPACITY' ? 503 : 403,
      body: { code: outcome.plan.reason, message: outcome.plan.message, details: { ...common, decision: outcome.plan.explanation } },
    };
  }
  if (outcome.kind === 'cancelled') {
    const details = { ...common, archetype: outcome.plan.archetype, ttp: outcome.plan.ttp ?? null, decision: outcome.plan.explanation };
    return { status: httpStatusByCode[outcome.code], body: { code: outcome.code, message: outcome.reason, details } };
  }
  if (outcome.kind === 'failed') {
    const details = { ...common, ...(outcome.plan === undefined ? {} : { decision: outcome.plan.explanation }), ...outcome.error.details };
    return { status: httpStatusByCode[outcome.error.code], body: { code: outcome.error.code, message: outcome.error.message, details } };
  }
  const { plan, result, timings } = outcome;
  const failures = result.jobs
    .filter((j) => j.status !== 'succeeded')
    .map((j) => ({ party: j.party, status: j.status, code: j.error?.code ?? 'JOB_FAILED', message: j.error?.message ?? j.status, ...(j.error?.details === undefined ? {} : { details: j.error.details }) }));
  const body = {
    ...common,
    archetype: plan.archetype,
    ttp: plan.ttp ?? null,
    results: result.results.map(resultView),
    failures,
    decision: plan.explanation,
    jobs: result.jobs.map(jobView),
    timings: {
      decisionMs: round(timings.decisionMs),
      executeMs: round(timings.executeMs),
      totalMs: round(timings.totalMs),
      phases: Object.fromEntries(Object.entries(timings.phases).map(([phase, ms]) => [phase, round(ms)])),
    },
  };
  if (result.results.length > 0 || failures.length === 0) return { status: 200, body };
  const root = failures[0] as (typeof failures)[number];
  const code: ErrorCode = isErrorCode(root.code) ? root.code : 'JOB_FAILED';
  return { status: httpStatusByCode[code], body: { code, message: `${root.party}: ${root.message}`, details: { ...body, ...root.details } } };
}

function resultView(r: PartyResult) {
  const graph = r.artifacts.find((a) => a.mediaType === 'image/svg+xml');
  return {
    computedBy: r.computedBy,
    providers: r.providers,
    columns: r.table.columns,
    rows: r.table.rows,
    rowCount: r.table.rows.length,
    ...(graph === undefined ? {} : { graph: graph.content }),
  };
}

function jobView(j: JobReport) {
  return { ...j, startMs: round(j.startMs), durationMs: round(j.durationMs), cpuSeconds: Math.round(j.cpuSeconds * 1000) / 1000 };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
