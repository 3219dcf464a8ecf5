import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { OutcomeKind } from '../../knowledge/audit/decision-record.js';
import type { JobReport } from '../../knowledge/ports/job-runner.js';
import type { Signal } from '../../knowledge/ports/metrics-source.js';

/** The MAPE-K phases one loop iteration goes through, each timed. */
export const loopPhases = ['monitor', 'analyze', 'plan', 'execute', 'record'] as const;
export type LoopPhase = (typeof loopPhases)[number];

/** The daemon's loops: one per request, the periodic background loop, and request intake. */
export const loops = ['request', 'background', 'intake'] as const;
export type LoopName = (typeof loops)[number];

/** Phases run in-process: from a millisecond to a few seconds. */
const phaseBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Jobs run from a second (the original took 1.7 s to start one) to their 600 s deadline. */
const jobBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600];
/**
 * A request takes from tens of milliseconds (a denial) to its jobs' deadline (120 s by default);
 * past the last bucket only +Inf tells more.
 */
const requestBuckets = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120];

export interface DaemonMetricsOptions {
  /**
   * Process and Node.js metrics (CPU, memory, event loop, GC) under prom-client's standard names,
   * unprefixed (`process_cpu_user_seconds_total`, `nodejs_eventloop_lag_seconds`), so dashboards
   * made for any Node.js service read them. @default true
   */
  readonly defaultMetrics?: boolean;
}

/** What counts the telemetry points it dropped: the InfluxDB sink (`dropped` only grows). */
export interface DropCounting {
  readonly dropped: number;
}

/**
 * The daemon's own Prometheus metrics, served at `/metrics` (docs/telemetry.md). Names follow
 * `dynamos_<subsystem>_<name>_<unit>`, counters end in `_total`, and labels take only bounded
 * values (archetypes, outcomes, phases, loops, the marketplace's parties, signals): never a
 * request, job or iteration id (docs/conventions.md). The process and Node.js metrics keep their standard
 * names, without the prefix. Every instance has its own registry, so two daemons in one process
 * (or two tests) never share a series. No method throws: a value a metric cannot take (negative,
 * NaN) is ignored.
 */
export class DaemonMetrics {
  private readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'dynamos_requests_total',
    help: 'Data requests answered, by the archetype that ran them (none when denied before a choice) and how they ended.',
    labelNames: ['archetype', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly requestDuration = new Histogram({
    name: 'dynamos_request_duration_seconds',
    help: 'Time from a request entering the loop to its answer having been sent (HTTP) or confirmed by the broker (AMQP), by archetype (none when denied before a choice) and outcome.',
    labelNames: ['archetype', 'outcome'] as const,
    buckets: requestBuckets,
    registers: [this.registry],
  });
  private readonly phases = new Histogram({
    name: 'dynamos_loop_phase_duration_seconds',
    help: 'Time one MAPE-K phase of a loop iteration took.',
    labelNames: ['phase'] as const,
    buckets: phaseBuckets,
    registers: [this.registry],
  });
  private readonly decisionChanges = new Counter({
    name: 'dynamos_decision_changes_total',
    help: 'Times the chosen archetype for a requester and provider set differed from the previous choice for that set.',
    registers: [this.registry],
  });
  private readonly jobs = new Counter({
    name: 'dynamos_jobs_total',
    help: 'Single-use jobs that ended, by party and status (succeeded, failed, timedOut, cancelled).',
    labelNames: ['party', 'status'] as const,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: 'dynamos_job_duration_seconds',
    help: 'Time from a job being assigned to its exit.',
    labelNames: ['party'] as const,
    buckets: jobBuckets,
    registers: [this.registry],
  });
  private readonly jobBytes = new Counter({
    name: 'dynamos_job_bytes_total',
    help: 'Bytes jobs sent on, to the next party or the requester.',
    labelNames: ['party'] as const,
    registers: [this.registry],
  });
  private readonly energy = new Counter({
    name: 'dynamos_energy_joules_total',
    help: 'Energy jobs used: measured where the party reports it (Kepler), estimated from CPU-seconds elsewhere.',
    labelNames: ['party'] as const,
    registers: [this.registry],
  });
  private readonly stalenessGauge = new Gauge({
    name: 'dynamos_metric_staleness_seconds',
    help: 'Age of the newest reading of a signal for a party when the Monitor phase last looked.',
    labelNames: ['signal', 'party'] as const,
    registers: [this.registry],
  });
  private readonly loopErrors = new Counter({
    name: 'dynamos_loop_errors_total',
    help: 'Errors a loop caught, logged and recovered from.',
    labelNames: ['loop'] as const,
    registers: [this.registry],
  });
  private readonly loopIterations = new Counter({
    name: 'dynamos_loop_iterations_total',
    help: 'Iterations a loop ran.',
    labelNames: ['loop'] as const,
    registers: [this.registry],
  });
  private readonly partiesOnline = new Gauge({
    name: 'dynamos_party_online',
    help: '1 while a party answers, 0 while it does not.',
    labelNames: ['party'] as const,
    registers: [this.registry],
  });
  private readonly partySignals = new Gauge({
    name: 'dynamos_party_signal',
    help: 'Latest reading of a party\'s signal the Monitor phase read: cpu and memory as fractions 0..1, queueDepth in messages, powerWatts in watts, up 1/0.',
    labelNames: ['party', 'signal'] as const,
    registers: [this.registry],
  });
  private readonly utilities = new Gauge({
    name: 'dynamos_decision_utility',
    help: 'Utility (0..1, higher is better) of the candidate the latest decision for an archetype chose; only strategies that score a utility set it.',
    labelNames: ['archetype'] as const,
    registers: [this.registry],
  });
  private dropCounting: DropCounting | undefined;
  private dropsCounted = 0;
  private readonly telemetryDrops = new Counter({
    name: 'dynamos_telemetry_dropped_total',
    help: 'Telemetry points (decisions, samples) dropped because the telemetry store was down too long, or still unwritten when the daemon stopped.',
    registers: [this.registry],
    // Read from the sink at each scrape: the sink counts, this only follows.
    collect: () => this.followDrops(),
  });

  constructor(options: DaemonMetricsOptions = {}) {
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    for (const loop of loops) {
      this.loopErrors.inc({ loop }, 0);
      this.loopIterations.inc({ loop }, 0);
    }
    for (const phase of loopPhases) this.phases.zero({ phase });
  }

  /** The Content-Type header for `text()`. */
  get contentType(): string {
    return this.registry.contentType;
  }

  /** The Prometheus text exposition of every metric. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /**
   * A request was answered, `seconds` after it entered the loop; `archetype` is null when none was
   * chosen (a denial).
   */
  requestFinished(archetype: string | null, outcome: OutcomeKind, seconds: number): void {
    const labels = { archetype: archetype ?? 'none', outcome };
    this.requests.inc(labels);
    if (isAmount(seconds)) this.requestDuration.observe(labels, seconds);
  }

  phase(phase: LoopPhase, seconds: number): void {
    if (isAmount(seconds)) this.phases.observe({ phase }, seconds);
  }

  decisionChanged(): void {
    this.decisionChanges.inc();
  }

  /** A job ended; `energyJoules` is measured or estimated by the caller. */
  jobFinished(report: JobReport, energyJoules: number): void {
    const party = report.party;
    this.jobs.inc({ party, status: report.status });
    if (isAmount(report.durationMs)) this.jobDuration.observe({ party }, report.durationMs / 1000);
    if (isAmount(report.bytesOut)) this.jobBytes.inc({ party }, report.bytesOut);
    if (isAmount(energyJoules)) this.energy.inc({ party }, energyJoules);
  }

  staleness(signal: Signal, party: string, seconds: number): void {
    if (isAmount(seconds)) this.stalenessGauge.set({ signal, party }, seconds);
  }

  loopError(loop: LoopName): void {
    this.loopErrors.inc({ loop });
  }

  iteration(loop: LoopName): void {
    this.loopIterations.inc({ loop });
  }

  partyOnline(party: string, online: boolean): void {
    this.partiesOnline.set({ party }, online ? 1 : 0);
  }

  /**
   * The latest reading of a party's signal. Not zero-initialised like the counters: a party's
   * load is unknown until it is read, and a 0 would claim an idle party.
   */
  partySignal(party: string, signal: Signal, value: number): void {
    if (Number.isFinite(value)) this.partySignals.set({ party, signal }, value);
  }

  /** The utility of the candidate a decision chose, by the archetype chosen. */
  decisionUtility(archetype: string, utility: number): void {
    if (Number.isFinite(utility)) this.utilities.set({ archetype }, utility);
  }

  /**
   * Follows a sink's running count of dropped points: each scrape adds what it dropped since the
   * last one to `dynamos_telemetry_dropped_total`. One sink at a time; a later call replaces it.
   */
  countDropsOf(sink: DropCounting): void {
    this.dropCounting = sink;
    this.dropsCounted = 0;
    this.followDrops();
  }

  private followDrops(): void {
    const total = this.dropCounting?.dropped;
    if (total === undefined || !isAmount(total)) return;
    if (total > this.dropsCounted) this.telemetryDrops.inc(total - this.dropsCounted);
    this.dropsCounted = total;
  }
}

function isAmount(value: number): boolean {
  return Number.isFinite(value) && value >= 0;
}
