import type { EventEmitter } from 'node:events';
import os from 'node:os';
import type { EnergyModel } from '../../knowledge/energy-model.js';
import { defaultEnergyModel, estimatePowerWatts } from '../../knowledge/energy-model.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { JobReport } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { MetricSample, MetricsReading, MetricsSource, Signal } from '../../knowledge/ports/metrics-source.js';
import type { SiteUsage } from './sites/site-envelopes.js';

/** What the source reads of the machine; the OS by default, a fixed machine in tests. */
export interface MachineProbe {
  /** Logical CPUs. */
  readonly cpus: number;
  /** CPU time of all logical CPUs since boot, in ms: busy (user, nice, sys, irq) and in total. */
  cpuTimes(): { readonly busyMs: number; readonly totalMs: number };
  memory(): { readonly freeBytes: number; readonly totalBytes: number };
}

/** This machine, through `os.cpus()` tick counters and `os.freemem()`/`os.totalmem()`. */
export const osMachineProbe: MachineProbe = {
  cpus: os.availableParallelism(),
  cpuTimes() {
    let busyMs = 0;
    let totalMs = 0;
    for (const { times } of os.cpus()) {
      const busy = times.user + times.nice + times.sys + times.irq;
      busyMs += busy;
      totalMs += busy + times.idle;
    }
    return { busyMs, totalMs };
  },
  memory: () => ({ freeBytes: os.freemem(), totalBytes: os.totalmem() }),
};

export interface LocalMetricsSourceOptions {
  /** Where `jobEnded` events with a JobReport arrive, e.g. `LocalJobRunner.events`. */
  readonly events: EventEmitter;
  readonly clock: Clock;
  readonly logger: Logger;
  /** How far back a party's jobs count toward its CPU. @default 30000 */
  readonly windowMs?: number;
  /** @default defaultEnergyModel */
  readonly energy?: EnergyModel;
  /** @default osMachineProbe */
  readonly machine?: MachineProbe;
  /**
   * The parties' site envelopes (adapters/local/sites), read per party that has one. Its clock
   * (`SiteUsage.sinceMs`) must be this source's `clock`.
   */
  readonly sites?: SiteUsageSource;
}

/** What the source reads of the sites: `SiteEnvelopes` has this shape. */
export interface SiteUsageSource {
  usage(party: string): Promise<SiteUsage | undefined>;
}

/** A site's CPU-seconds counter at the previous read, and the reading made then. */
interface SiteCounter {
  readonly cpuSeconds: number;
  readonly at: number;
  readonly cpu: number;
}

interface EndedJob {
  readonly party: string;
  readonly cpuSeconds: number;
  readonly startedAt: number;
  readonly endedAt: number;
}

/**
 * MetricsSource for the embedded default, where every party is this machine and no Prometheus
 * runs. Per asked party:
 * - `cpu` = the CPU-seconds its jobs spent inside the last `windowMs` ÷ (window × CPUs), plus the
 *   machine's unattributed load, capped at 1. A job's CPU-seconds are spread evenly over its run
 *   (`durationMs` before its `jobEnded`), so a long job counts only its part inside the window.
 *   Unattributed load is the machine's busy fraction since the previous read minus every party's
 *   job share, at least 0: work no party's job did (the daemon, jobs still running, other
 *   programs). It counts in full for every party, because the parties share this one machine and
 *   that load takes the same capacity from each; dividing it among parties would make a party's
 *   reading depend on how many parties were asked.
 * - `memory` = the machine's used fraction, the same for every party.
 * - `queueDepth` = 0: the embedded default has no message queues; jobs get their input directly.
 * - `powerWatts` = the linear model's power of this machine's CPUs at the party's `cpu`
 *   (knowledge/energy-model.ts): what the machine would draw if that were its load.
 * - `up` = 1: the embedded parties are this process's machine, which is answering.
 *
 * A party with a site envelope (the `sites` option) is read from its own cgroups instead:
 * - `cpu` = the CPU-seconds its processes used since the previous read ÷ (elapsed seconds × its
 *   cores), capped at 1. Its cores are its CPU quota, or the machine's CPUs when unbounded, and
 *   never more than the machine has. At a party's first read the previous read is the moment its
 *   envelope was made, whose counter started at 0: nothing from before, such as the daemon's own
 *   start-up, counts toward a site. Reads at the same moment repeat the last value.
 * - `memory` = the memory charged to its cgroup ÷ its limit, or ÷ the machine's memory when unbounded.
 * - `powerWatts` = the linear model's power of its cores at its `cpu`.
 * - A site that cannot be read is listed in `failures` and gets no cpu, memory or power sample.
 * Its jobs still count as attributed load, so they are not unattributed load of other parties.
 */
export class LocalMetricsSource implements MetricsSource {
  readonly name = 'local machine';
  private readonly windowMs: number;
  private readonly energy: EnergyModel;
  private readonly machine: MachineProbe;
  private readonly jobs: EndedJob[] = [];
  private readonly siteCounters = new Map<string, SiteCounter>();
  private lastTimes: { busyMs: number; totalMs: number };
  private lastBusyFraction: number;
  private closed = false;
  private readonly onJobEnded = (report: JobReport) => this.record(report);

  constructor(private readonly opts: LocalMetricsSourceOptions) {
    this.windowMs = opts.windowMs ?? 30_000;
    if (!(this.windowMs > 0)) throw new DynamosError('CONFIG_INVALID', `windowMs must be positive, not ${this.windowMs}`, { retryable: false });
    this.energy = opts.energy ?? defaultEnergyModel;
    this.machine = opts.machine ?? osMachineProbe;
    this.lastTimes = this.machine.cpuTimes();
    // Until two reads differ, the average since boot is the best guess.
    this.lastBusyFraction = fraction(this.lastTimes.busyMs, this.lastTimes.totalMs);
    opts.events.on('jobEnded', this.onJobEnded);
  }

  /**
   * Counts the machine's load from now on. The daemon calls it once its own start (DuckDB loading
   * into the warm processes) is done: that work is no party's load, and a first reading taken
   * over it would put every party at 100 % until the next one. Until a reading spans time since,
   * no unattributed load is charged: none was measured.
   */
  countFromNow(): void {
    this.lastTimes = this.machine.cpuTimes();
    this.lastBusyFraction = 0;
  }

  async read(parties: readonly string[], signal?: AbortSignal): Promise<MetricsReading> {
    if (this.closed) throw new DynamosError('INTERNAL', 'the local metrics source is closed', { retryable: false });
    signal?.throwIfAborted();
    const now = this.opts.clock.now();
    this.forgetBefore(now - this.windowMs);
    const shares = this.jobShares(now);
    let attributed = 0;
    for (const share of shares.values()) attributed += share;
    const unattributed = Math.max(0, this.machineBusyFraction() - attributed);
    const { freeBytes, totalBytes } = this.machine.memory();
    const memory = clamp01(1 - fraction(freeBytes, totalBytes));
    const asked = [...new Set(parties)];
    const sites = await Promise.all(asked.map((party) => this.readSite(party, now, totalBytes)));
    const samples: MetricSample[] = [];
    const failures: { signal: Signal; reason: string }[] = [];
    asked.forEach((party, i) => {
      const at = now;
      const site = sites[i];
      if (site !== undefined && 'failed' in site) {
        failures.push(...(['cpu', 'memory', 'powerWatts'] as const).map((signal) => ({ signal, reason: `${party}'s site: ${site.failed}` })));
        samples.push({ party, signal: 'queueDepth', value: 0, at }, { party, signal: 'up', value: 1, at });
        return;
      }
      const cpu = site?.cpu ?? clamp01((shares.get(party) ?? 0) + unattributed);
      const power = estimatePowerWatts(cpu, site?.cores ?? this.machine.cpus, this.energy);
      samples.push(
        { party, signal: 'cpu', value: cpu, at },
        { party, signal: 'memory', value: site?.memory ?? memory, at },
        { party, signal: 'queueDepth', value: 0, at },
        { party, signal: 'powerWatts', value: power, at },
        { party, signal: 'up', value: 1, at },
      );
    });
    return { at: now, samples, failures };
  }

  /** The party's own readings from its site envelope; undefined for a party without one. */
  private async readSite(party: string, now: number, machineBytes: number): Promise<{ cpu: number; memory: number; cores: number } | { failed: string } | undefined> {
    if (this.opts.sites === undefined) return undefined;
    let usage: SiteUsage | undefined;
    try {
      usage = await this.opts.sites.usage(party);
    } catch (error) {
      return { failed: error instanceof Error ? error.message : String(error) };
    }
    if (usage === undefined) return undefined;
    const cores = Math.min(usage.cpus ?? this.machine.cpus, this.machine.cpus);
    const previous = this.siteCounters.get(party) ?? { cpuSeconds: 0, at: usage.sinceMs, cpu: 0 };
    const elapsedSeconds = (now - previous.at) / 1000;
    let cpu = previous.cpu;
    if (elapsedSeconds > 0) {
      cpu = clamp01((usage.cpuSeconds - previous.cpuSeconds) / (elapsedSeconds * cores));
      this.siteCounters.set(party, { cpuSeconds: usage.cpuSeconds, at: now, cpu });
    }
    return { cpu, memory: clamp01(fraction(usage.memoryBytes, usage.memoryLimitBytes ?? machineBytes)), cores };
  }

  /** Idempotent; stops listening for jobs. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.opts.events.off('jobEnded', this.onJobEnded);
  }

  private record(report: JobReport): void {
    const { party, cpuSeconds, durationMs } = report;
    if (typeof party !== 'string' || !(cpuSeconds >= 0) || !(durationMs >= 0)) {
      this.opts.logger.debug('local metrics: ignored a jobEnded event without party, cpuSeconds or durationMs', { job: report.name });
      return;
    }
    const endedAt = this.opts.clock.now();
    this.jobs.push({ party, cpuSeconds, startedAt: endedAt - durationMs, endedAt });
    this.forgetBefore(endedAt - this.windowMs);
  }

  private forgetBefore(cutoff: number): void {
    let keep = 0;
    for (const job of this.jobs) if (job.endedAt > cutoff) this.jobs[keep++] = job;
    this.jobs.length = keep;
  }

  /** Per party, the fraction of the machine's CPU its jobs used inside the window ending `now`. */
  private jobShares(now: number): Map<string, number> {
    const from = now - this.windowMs;
    const capacityCpuSeconds = (this.windowMs / 1000) * this.machine.cpus;
    const shares = new Map<string, number>();
    for (const job of this.jobs) {
      const duration = job.endedAt - job.startedAt;
      const inside = duration === 0 ? 1 : Math.max(0, Math.min(job.endedAt, now) - Math.max(job.startedAt, from)) / duration;
      shares.set(job.party, (shares.get(job.party) ?? 0) + (job.cpuSeconds * inside) / capacityCpuSeconds);
    }
    return shares;
  }

  /** Busy fraction of all CPUs since the previous read (tick deltas), or the last known one. */
  private machineBusyFraction(): number {
    const times = this.machine.cpuTimes();
    const total = times.totalMs - this.lastTimes.totalMs;
    if (total > 0) {
      this.lastBusyFraction = clamp01((times.busyMs - this.lastTimes.busyMs) / total);
      this.lastTimes = times;
    }
    return this.lastBusyFraction;
  }
}

function fraction(part: number, whole: number): number {
  return whole > 0 ? part / whole : 0;
}

function clamp01(value: number): number {
  return Math.min(1, Math.max(0, Number.isFinite(value) ? value : 0));
}
