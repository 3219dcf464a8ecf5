import type { DecisionOutcome, OutcomeKind } from '../../knowledge/audit/decision-record.js';
import type { UnsealedRecord } from '../../knowledge/audit/decision-log.js';
import { digestOf, digestOfImmutable } from '../../knowledge/canonical-json.js';
import type { JobLesson, KnowledgeEvent } from '../../knowledge/fold.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import { choiceKey, dataKey } from '../../knowledge/knowledge-snapshot.js';
import type { JobReport } from '../../knowledge/ports/job-runner.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import type { Analysis } from '../mape/analyze.js';
import type { Plan } from '../mape/plan.js';
import type { RequestOutcome } from '../mape/request-outcome.js';

/** How a request this daemon answered ended (`interrupted` is written only for a daemon that died). */
type AnsweredKind = Exclude<OutcomeKind, 'interrupted'>;

/** The hysteresis key of a request: its requester and the stewards authorised for it. */
export function choiceKeyOf(outcome: Pick<RequestOutcome, 'request' | 'analysis'>): string {
  const { request } = outcome;
  return outcome.analysis?.choiceKey ?? choiceKey(request.requester, request.providers, request.type, request.options);
}

/**
 * The audit record of a decided request: what it was decided on (a digest of the request and the
 * knowledge read), every candidate, the choice and how it ended. Pure.
 */
export function recordFor(outcome: RequestOutcome, k: KnowledgeSnapshot, energyOf: (report: JobReport) => number, at: number, undelivered?: string): UnsealedRecord {
  return { ...decisionOf(outcome, k, at), outcome: deliveredOutcome(outcomeSummary(outcome, energyOf), undelivered) };
}

/**
 * The write-ahead record of a request whose jobs are about to start: what was decided on, the
 * choice and where the jobs run, with outcome `started`. Its final record follows under the same
 * request id with the candidates and chains; the started one leaves them out, which halves what it
 * costs the request (an `interrupted` record, copied from it, has the choice but not the scores).
 */
export function startedRecordFor(request: DataRequest, analysis: Analysis, decided: Extract<Plan, { kind: 'deploy' }>, k: KnowledgeSnapshot, at: number): UnsealedRecord {
  const started: DecisionOutcome = { kind: 'started', latencyMs: 0, bytes: 0, cpuSeconds: 0, energyJoules: 0 };
  const decision = decisionOf({ request, analysis, plan: decided }, k, at);
  const where = decided.jobs.map((j) => j.party).join(', ');
  return { ...decision, candidates: [], chains: [], reason: `started: jobs at ${where}; ${decision.reason}`, outcome: started };
}

/** The inputs digest of a request's decision, computed once for its started and its final record. */
const inputsDigests = new WeakMap<DataRequest, { readonly k: KnowledgeSnapshot; readonly digest: string }>();

function inputsDigestOf(request: DataRequest, k: KnowledgeSnapshot, key: string): string {
  const known = inputsDigests.get(request);
  if (known?.k === k) return known.digest;
  // The node states and outcomes change only when metrics or lessons arrive: hash each once.
  const digest = digestOf({ request, policyRevision: k.marketplace.revision, nodes: digestOfImmutable(k.nodes), outcomes: digestOfImmutable(k.outcomes), choice: k.choices[key] ?? null });
  inputsDigests.set(request, { k, digest });
  return digest;
}

/** An answer that never reached the requester is not a completed request, whatever the jobs did. */
function deliveredOutcome(outcome: DecisionOutcome & { kind: AnsweredKind }, undelivered: string | undefined): DecisionOutcome & { kind: AnsweredKind } {
  if (undelivered === undefined) return outcome;
  const why = `the answer was not delivered: ${undelivered}`;
  if (outcome.kind === 'completed' || outcome.kind === 'partial') return { ...outcome, kind: 'cancelled', reason: outcome.reason === undefined ? why : `${why}; ${outcome.reason}` };
  return { ...outcome, reason: `${outcome.reason ?? outcome.kind}; ${why}` };
}

function decisionOf(outcome: Pick<RequestOutcome, 'request' | 'analysis' | 'plan'> & { kind?: string; error?: { message: string } }, k: KnowledgeSnapshot, at: number): Omit<UnsealedRecord, 'outcome'> {
  const { request } = outcome;
  const explanation = outcome.plan?.explanation;
  const key = choiceKeyOf(outcome);
  return {
    at,
    requestId: request.id,
    requester: request.requester,
    requestType: request.type,
    providers: [...request.providers],
    inputsDigest: inputsDigestOf(request, k, key),
    policyRevision: k.marketplace.revision,
    strategy: explanation?.strategy ?? 'none',
    candidates: explanation?.candidates ?? [],
    choice: explanation?.choice === null || explanation?.choice === undefined ? null : { archetype: explanation.choice.archetype, ...(explanation.choice.ttp === undefined ? {} : { ttp: explanation.choice.ttp }) },
    reason: explanation?.reason ?? outcome.error?.message ?? '',
    chains: explanation?.chains ?? [],
  };
}

export function outcomeSummary(outcome: RequestOutcome, energyOf: (report: JobReport) => number): DecisionOutcome & { kind: AnsweredKind } {
  const jobs = outcome.kind === 'completed' ? outcome.result.jobs : [];
  const base = {
    latencyMs: Math.round(outcome.timings.totalMs * 10) / 10,
    bytes: jobs.reduce((s, j) => s + j.bytesOut, 0),
    cpuSeconds: jobs.reduce((s, j) => s + j.cpuSeconds, 0),
    energyJoules: jobs.reduce((s, j) => s + energyOf(j), 0),
  };
  switch (outcome.kind) {
    case 'completed': {
      const failed = jobs.filter((j) => j.status !== 'succeeded');
      if (failed.length === 0) return { kind: 'completed', ...base };
      const reason = failed.map((j) => `${j.party}: ${j.error?.message ?? j.status}`).join('; ');
      return { kind: outcome.result.results.length > 0 ? 'partial' : 'failed', ...base, reason };
    }
    case 'denied':
      return { kind: 'denied', ...base, reason: outcome.plan.message };
    case 'cancelled':
      return { kind: 'cancelled', ...base, reason: `${outcome.code}: ${outcome.reason}` };
    case 'failed':
      return { kind: 'failed', ...base, reason: outcome.error.message };
    default: {
      const _exhaustive: never = outcome;
      return _exhaustive;
    }
  }
}

/** What each succeeded job teaches: its time per MB of data handled, CPU-seconds, energy. */
export function lessonsOf(outcome: RequestOutcome, k: KnowledgeSnapshot, energyOf: (report: JobReport) => number): JobLesson[] {
  if (outcome.kind !== 'completed') return [];
  const stewardBytes = new Map<string, number>();
  for (const grant of outcome.analysis.authorised) {
    const bytes = grant.datasets.map((d) => k.dataBytes[dataKey(grant.steward, d)]);
    if (bytes.every((b) => b !== undefined)) stewardBytes.set(grant.steward, bytes.reduce((s: number, b) => s + (b as number), 0));
  }
  const sentToTtp = outcome.result.jobs.filter((j) => stewardBytes.has(j.party)).reduce((s, j) => s + j.bytesOut, 0);
  return outcome.result.jobs
    .filter((j) => j.status === 'succeeded')
    .map((j) => ({
      party: j.party,
      durationMs: j.durationMs,
      cpuSeconds: j.cpuSeconds,
      energyJoules: energyOf(j),
      dataBytes: stewardBytes.get(j.party) ?? (outcome.plan.ttp === j.party ? sentToTtp : undefined),
    }));
}

/**
 * What the knowledge base learns when a plan is made, before any job starts: the choice for
 * hysteresis and the request in flight (so a change of policy can reach it). The daemon's request
 * loop and the replay both apply exactly these events.
 */
export function plannedEvents(request: DataRequest, analysis: Analysis, decided: Plan, at: number): KnowledgeEvent[] {
  if (decided.kind !== 'deploy') return [];
  const key = choiceKeyOf({ request, analysis });
  const ttp = decided.ttp === undefined ? {} : { ttp: decided.ttp };
  const utility = decided.explanation.choice?.utility;
  const parties = decided.jobs.map((j) => j.party);
  return [
    { kind: 'choiceMade', key, archetype: decided.archetype, ...ttp, ...(utility === undefined ? {} : { utility }), at },
    { kind: 'requestStarted', requestId: request.id, inFlight: { request, archetype: decided.archetype, ...ttp, parties, startedAt: at } },
  ];
}

/** What the knowledge base learns when a request ends: the lessons of its jobs, and that it is no longer in flight. */
export function finishedEvents(outcome: RequestOutcome, k: KnowledgeSnapshot, energyOf: (report: JobReport) => number, at: number): KnowledgeEvent[] {
  if (outcome.plan?.kind !== 'deploy') return [];
  const lessons = lessonsOf(outcome, k, energyOf);
  const learned: KnowledgeEvent[] = lessons.length > 0 ? [{ kind: 'jobsFinished', archetype: outcome.plan.archetype, jobs: lessons, at }] : [];
  return [...learned, { kind: 'requestEnded', requestId: outcome.request.id, at }];
}
