import { analyze } from '../daemon/mape/analyze.js';
import type { Analysis } from '../daemon/mape/analyze.js';
import { plan } from '../daemon/mape/plan.js';
import type { Plan } from '../daemon/mape/plan.js';
import type { Strategy } from '../daemon/mape/strategies/strategy.js';
import { findSymptoms } from '../daemon/mape/symptoms.js';
import { choiceKeyOf, finishedEvents, plannedEvents } from '../daemon/loop/decision-recorder.js';
import type { RequestOutcome } from '../daemon/mape/request-outcome.js';
import { replaceAgreement } from '../knowledge/marketplace/agreements.js';
import type { DataRequest } from '../knowledge/data-request.js';
import { estimateJobJoules } from '../knowledge/energy-model.js';
import { KnowledgeBase } from '../knowledge/knowledge-base.js';
import { dataKey, knowledgeOf } from '../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import type { JobReport } from '../knowledge/ports/job-runner.js';
import type { MetricsReading } from '../knowledge/ports/metrics-source.js';
import type { ModelledRequest } from './job-model.js';
import { modelRequest, noiseFactor } from './job-model.js';
import { policyViolation } from './policy-audit.js';
import type { Oracle } from './realised-utility.js';
import { oracleOf, realisedUtility } from './realised-utility.js';
import type { ReplayWorld } from './replay-world.js';

export const requestResults = ['completed', 'incomplete', 'denied', 'failed', 'cancelled'] as const;
export type RequestResult = (typeof requestResults)[number];

/** One request as one strategy handled it: the line of a decisions file. */
export interface RequestRecord {
  /** Decision time and end, ms since the trace began. */
  readonly at: number;
  readonly endAt: number;
  readonly id: string;
  /** `computeToData`, `dataThroughTtp@SURF`, or null when denied. */
  readonly choice: string | null;
  readonly result: RequestResult;
  readonly latencyMs: number;
  readonly energyJoules: number;
  readonly utility: number;
  /** The choice differs from the last one for the same requester, stewards and kind of request. */
  readonly switched: boolean;
  readonly key: string;
  /** Why the agreements in force did not allow it, had the loop let it run. */
  readonly violation?: string;
  readonly reason?: string;
}

interface Flight {
  readonly request: DataRequest;
  readonly analysis: Analysis;
  readonly plan: Extract<Plan, { kind: 'deploy' }>;
  readonly modelled: ModelledRequest;
  readonly oracle: Oracle;
  readonly peakLoad: number;
  readonly leavesOut: number;
  readonly at: number;
  readonly endAt: number;
  readonly switched: boolean;
  readonly key: string;
  /** Arrival order, so records leave in the order requests came. */
  readonly seq: number;
  violation?: string;
}

const energyOf = (report: JobReport) => estimateJobJoules(report.cpuSeconds);
const choiceOf = (p: { archetype: string; ttp?: string | undefined }) => (p.ttp === undefined ? p.archetype : `${p.archetype}@${p.ttp}`);

/**
 * One strategy replaying a trace: its own knowledge base, fed the trace's events, and the daemon's
 * own Analyze, Plan and strategy code deciding each request. Jobs run in the job model; they end
 * in time order as the trace's clock passes them.
 */
export class StrategyRun {
  readonly knowledge: KnowledgeBase;
  /** In flight, by end time (then arrival): few at a time, so a sorted array is the cheap queue. */
  private flights: Flight[] = [];
  private arrivals = 0;
  private released = 0;
  /** Records of requests that ended before an earlier one did, held until it has. */
  private readonly held = new Map<number, RequestRecord>();

  constructor(
    readonly strategy: Strategy,
    marketplace: Marketplace,
    dataBytes: Readonly<Record<string, number>>,
    private readonly world: ReplayWorld,
    private readonly seed: number,
    private readonly output: (record: RequestRecord) => void,
  ) {
    this.knowledge = new KnowledgeBase(knowledgeOf(marketplace, 0));
    this.knowledge.apply({ kind: 'dataSizesKnown', bytes: dataBytes });
  }

  /** Ends every job due by `t`, oldest end first. */
  advanceTo(t: number): void {
    while (this.flights.length > 0 && (this.flights[0] as Flight).endAt <= t) this.complete(this.flights.shift() as Flight);
  }

  metrics(reading: MetricsReading): void {
    this.knowledge.apply({ kind: 'metricsRead', reading });
  }

  party(party: string, online: boolean, at: number): void {
    this.knowledge.apply({ kind: 'partyMarked', party, offline: !online, at });
  }

  /** A steward's agreement changed: the daemon's own code applies it, and its symptoms cancel what it revokes. */
  agreement(steward: string, agreement: unknown, at: number): void {
    replaceAgreement(this.knowledge, steward, agreement, at);
    const revoked = findSymptoms(this.knowledge.at(at), { loadThreshold: 0.8 }).flatMap((s) => (s.kind === 'revoked' ? [s] : []));
    for (const symptom of revoked) this.end(symptom.requestId, at, 'cancelled', `AGREEMENT_REVOKED: ${symptom.reason}`);
    for (const flight of this.flights) flight.violation ??= this.audit(flight);
  }

  /** A party went down: its jobs fail, and with them their requests. */
  partyDown(party: string, at: number): void {
    for (const flight of [...this.flights]) {
      if (flight.plan.jobs.some((j) => j.party === party)) this.end(flight.request.id, at, 'failed', `${party} went offline`);
    }
  }

  request(request: DataRequest, at: number): void {
    const k = this.knowledge.at(at);
    const analysis = analyze(k, request);
    // The same plan, without putting candidates into words: the replay reads only the choice.
    const decided = plan(k, analysis, this.strategy, { explain: false });
    const key = choiceKeyOf({ request, analysis });
    const seq = this.arrivals++;
    if (decided.kind === 'deny') {
      this.emit(seq, { at, endAt: at, id: request.id, choice: null, result: 'denied', latencyMs: 0, energyJoules: 0, utility: 0, switched: false, key, reason: decided.reason });
      return;
    }
    const previous = k.choices[key];
    const switched = previous !== undefined && (previous.archetype !== decided.archetype || previous.ttp !== decided.ttp);
    for (const event of plannedEvents(request, analysis, decided, at)) this.knowledge.apply(event);
    const stewardMB = this.stewardMB(analysis);
    const option = analysis.archetypes.find((o) => o.archetype === decided.archetype);
    const parties = decided.jobs.map((j) => j.party);
    const modelled = modelRequest({
      computeAt: option?.computeAt ?? 'dataProvider',
      stewardMB,
      ttp: decided.ttp,
      cpuOf: (party) => this.world.cpuOf(party),
      noiseOf: (party) => noiseFactor(this.seed, request.id, party),
    });
    const flight: Flight = {
      request,
      analysis,
      plan: decided,
      modelled,
      oracle: oracleOf(analysis, this.world, stewardMB) ?? { latencyMs: modelled.latencyMs, energyJoules: modelled.energyJoules },
      peakLoad: Math.max(...parties.map((p) => this.world.peakOf(p))),
      leavesOut: option?.leavesOut.length ?? 0,
      at,
      endAt: at + modelled.latencyMs,
      switched,
      key,
      seq,
    };
    flight.violation = this.audit(flight);
    this.insert(flight);
    const down = parties.find((p) => !this.world.isOnline(p));
    if (down !== undefined) this.end(request.id, at, 'failed', `${down} is offline`);
  }

  private audit(flight: Flight): string | undefined {
    const { request, plan: decided } = flight;
    const stewards = decided.jobs.filter((j) => j.partyKind === 'dataSteward').map((j) => j.party);
    return policyViolation(this.world.marketplace, { requester: request.requester, requestType: request.type, tables: request.tables, archetype: decided.archetype, ttp: decided.ttp, stewards });
  }

  private insert(flight: Flight): void {
    let i = this.flights.length;
    while (i > 0 && (this.flights[i - 1] as Flight).endAt > flight.endAt) i--;
    this.flights.splice(i, 0, flight);
  }

  private stewardMB(a: Analysis): Map<string, number> {
    const bytes = this.knowledge.current().dataBytes;
    return new Map(a.authorised.map((g) => [g.steward, g.datasets.reduce((sum, d) => sum + (bytes[dataKey(g.steward, d)] ?? 1e6), 0) / 1e6]));
  }

  private complete(flight: Flight): void {
    const { request, analysis, plan: decided, modelled } = flight;
    const jobs: JobReport[] = modelled.jobs.map((j) => ({ name: `${request.id}-${j.party}`, party: j.party, status: 'succeeded', startMs: 0, durationMs: j.durationMs, cpuSeconds: j.cpuSeconds, maxRssBytes: 0, rowsOut: 0, bytesOut: j.bytesOut, stages: [] }));
    const timings = { decisionMs: 0, executeMs: modelled.latencyMs, totalMs: modelled.latencyMs, phases: {} };
    const outcome: RequestOutcome = { kind: 'completed', request, analysis, plan: decided, result: { results: [], jobs }, timings };
    // current(), not at(endAt): the lessons read only the data sizes, so no copy of the snapshot is needed.
    for (const event of finishedEvents(outcome, this.knowledge.current(), energyOf, flight.endAt)) this.knowledge.apply(event);
    const utility = realisedUtility(analysis, { archetype: decided.archetype, leavesOut: flight.leavesOut, peakLoad: flight.peakLoad, oracle: flight.oracle, modelled });
    this.emitFlight(flight, flight.endAt, flight.leavesOut > 0 ? 'incomplete' : 'completed', utility);
  }

  /** Ends a request early (cancelled, failed): no lessons, no utility. */
  private end(requestId: string, at: number, result: 'cancelled' | 'failed', reason: string): void {
    const i = this.flights.findIndex((f) => f.request.id === requestId);
    if (i < 0) return;
    const [flight] = this.flights.splice(i, 1) as [Flight];
    this.knowledge.apply({ kind: 'requestEnded', requestId, at });
    this.emitFlight(flight, at, result, 0, reason);
  }

  private emitFlight(flight: Flight, endAt: number, result: RequestResult, utility: number, reason?: string): void {
    const served = result === 'completed' || result === 'incomplete';
    const record: { -readonly [K in keyof RequestRecord]: RequestRecord[K] } = {
      at: flight.at,
      endAt,
      id: flight.request.id,
      choice: choiceOf(flight.plan),
      result,
      latencyMs: served ? flight.modelled.latencyMs : endAt - flight.at,
      // A request ended early used the share of its energy its jobs had run for.
      energyJoules: served ? flight.modelled.energyJoules : flight.modelled.energyJoules * Math.min(1, (endAt - flight.at) / flight.modelled.latencyMs),
      utility,
      switched: flight.switched,
      key: flight.key,
    };
    // Assigned, not spread in (every request passes here); in this order, as the decisions files have them.
    if (flight.violation !== undefined) record.violation = flight.violation;
    if (reason !== undefined) record.reason = reason;
    this.emit(flight.seq, record);
  }

  /** Hands records on in arrival order. */
  private emit(seq: number, record: RequestRecord): void {
    this.held.set(seq, record);
    for (let next = this.held.get(this.released); next !== undefined; next = this.held.get(this.released)) {
      this.held.delete(this.released++);
      this.output(next);
    }
  }
}
