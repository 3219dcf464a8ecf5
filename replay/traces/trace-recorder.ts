import { accessSync, constants, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { RequestObserver } from '../../daemon/loop/request-loop.js';
import type { RequestOutcome } from '../../daemon/mape/request-outcome.js';
import type { StrategyConfig } from '../../daemon/mape/strategies/index.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import { DynamosError } from '../../knowledge/errors.js';
import type { KnowledgeEvent } from '../../knowledge/fold.js';
import type { KnowledgeBase } from '../../knowledge/knowledge-base.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { MarketplaceConfig } from '../../knowledge/marketplace/marketplace-schema.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { JobReport } from '../../knowledge/ports/job-runner.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { agreementEventsOf, metricsEventsOf, outcomeEventOf, requestEventOf } from './recorded-events.js';
import { TraceWriter } from './trace-file.js';
import type { TraceEventInput } from './trace-format.js';
import { traceVersion } from './trace-format.js';

export interface TraceRecorderDeps {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The daemon's own energy figure of a job, so the trace says what the daemon learnt. */
  readonly energyOf: (report: JobReport) => number;
  /** The strategy the daemon decides with, written into the header. */
  readonly strategy?: StrategyConfig;
}

/**
 * Checks, before anything starts, that a trace can be written at `file`: its directory exists and
 * is writable, and it is not a directory itself. Creates nothing.
 * @throws DynamosError CONFIG_INVALID naming the path and what is wrong with it
 */
export function checkRecordTarget(file: string): void {
  const target = path.resolve(file);
  const dir = path.dirname(target);
  const problem = directoryProblem(dir) ?? fileProblem(target);
  if (problem !== undefined) throw new DynamosError('CONFIG_INVALID', `cannot record the run to ${file}: ${problem}`, { retryable: false, details: { path: file } });
}

function directoryProblem(dir: string): string | undefined {
  try {
    if (!statSync(dir).isDirectory()) return `${dir} is not a directory`;
  } catch {
    return `the directory ${dir} does not exist`;
  }
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    return `the directory ${dir} is not writable`;
  }
  return undefined;
}

function fileProblem(target: string): string | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(target).isDirectory();
  } catch {
    return undefined; // not there yet: the recorder creates it
  }
  if (isDirectory) return 'it is a directory';
  try {
    accessSync(target, constants.W_OK);
  } catch {
    return 'the file is not writable';
  }
  return undefined;
}

/** The marketplace as the config schema has it: the derived revision and data directory left out. */
function configOf(marketplace: Marketplace): MarketplaceConfig {
  const { revision: _revision, dataDir: _dataDir, ...config } = marketplace;
  return config;
}

/**
 * Records a live run as a trace (`dynamos serve --record FILE`, docs/traces.md): the header with
 * the marketplace and data sizes at the start, then what the knowledge base hears (metric
 * readings, agreement changes, parties marked offline or online) and, as the request loop's
 * observer, every request and its outcome. Times are ms since the recording started.
 *
 * Each event is written synchronously as it happens (no await on the request path; a crash loses
 * at most the line being written). Recording never fails a request: an event that does not fit
 * the format is left out with a warning, and a write that fails stops the recording with an error
 * log, leaving a trace that is valid up to its last line.
 */
export class TraceRecorder implements RequestObserver {
  private last = 0;
  private written = 0;
  private stopped = false;
  private marketplace: MarketplaceConfig;
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly writer: TraceWriter,
    private readonly startedAt: number,
    knowledge: KnowledgeBase,
    private readonly deps: TraceRecorderDeps,
  ) {
    this.marketplace = configOf(knowledge.current().marketplace);
    this.unsubscribe = knowledge.onChange((_, event) => this.heard(event));
  }

  /**
   * Writes the header from the knowledge as it is now and starts listening.
   * @throws DynamosError CONFIG_INVALID when the file cannot be written (no file is left behind)
   */
  static start(file: string, knowledge: KnowledgeBase, deps: TraceRecorderDeps): TraceRecorder {
    checkRecordTarget(file);
    const k = knowledge.current();
    const startedAt = deps.clock.now();
    let writer: TraceWriter;
    try {
      // No durationMs: a recording's length is known only when it ends (docs/designs/005-trace-recording.md).
      writer = TraceWriter.create(file, { kind: 'trace', version: traceVersion, source: 'recorded', recordedAt: Math.round(startedAt), ...(deps.strategy === undefined ? {} : { strategy: deps.strategy }), marketplace: configOf(k.marketplace), dataBytes: { ...k.dataBytes } });
    } catch (error) {
      if (error instanceof DynamosError) throw error;
      rmSync(file, { force: true });
      throw new DynamosError('CONFIG_INVALID', `cannot record the run to ${file}: ${(error as Error).message}`, { retryable: false, cause: error, details: { path: file } });
    }
    deps.logger.info('recording the run', { file });
    return new TraceRecorder(writer, startedAt, knowledge, deps);
  }

  get file(): string {
    return this.writer.file;
  }

  received(request: DataRequest, at: number): void {
    this.write(() => [requestEventOf(request, this.traceTime(at))]);
  }

  finished(outcome: RequestOutcome, k: KnowledgeSnapshot, at: number): void {
    this.write(() => [outcomeEventOf(outcome, k, this.deps.energyOf, this.traceTime(at))]);
  }

  /** Stops listening and closes the file; idempotent. Events after this are not recorded. */
  close(): void {
    if (this.stopped) return;
    this.stop();
    this.deps.logger.info('run recorded', { file: this.file, events: this.written, lastEventMs: this.last });
  }

  private heard(event: KnowledgeEvent): void {
    switch (event.kind) {
      case 'metricsRead':
        this.write(() => metricsEventsOf(event.reading, this.traceTime(event.reading.at)));
        return;
      case 'partyMarked':
        this.write(() => [{ kind: 'party', at: this.traceTime(event.at), party: event.party, online: !event.offline }]);
        return;
      case 'marketplaceChanged':
        this.write(() => {
          const next = configOf(event.marketplace);
          const { events, untraceable } = agreementEventsOf(this.marketplace, next, this.traceTime(event.at));
          this.marketplace = next;
          if (untraceable.length > 0) this.deps.logger.warn('the marketplace changed beyond agreements; a trace carries only agreement changes, so a replay of it will not see these', { changed: untraceable });
          return events;
        });
        return;
      default:
        return; // the loop's own bookkeeping (choices, in-flight requests, lessons) is recomputed by a replay
    }
  }

  /** ms since the recording started; never before an event already written, so the trace stays in order. */
  private traceTime(at: number): number {
    this.last = Math.max(this.last, Math.round(at - this.startedAt));
    return this.last;
  }

  private write(eventsOf: () => readonly TraceEventInput[]): void {
    if (this.stopped) return;
    let events: readonly TraceEventInput[];
    try {
      events = eventsOf();
    } catch (error) {
      this.deps.logger.warn('an event could not be turned into a trace line and is left out', { file: this.file, error: (error as Error).message });
      return;
    }
    for (const event of events) {
      try {
        this.writer.write(event);
        this.written++;
      } catch (error) {
        if (error instanceof DynamosError && error.code === 'CONFIG_INVALID') {
          this.deps.logger.warn('an event does not fit the trace format and is left out', { file: this.file, kind: event.kind, error: error.message });
          continue;
        }
        this.deps.logger.error('writing the trace failed, so recording stops; the trace is valid up to its last line', { file: this.file, error: (error as Error).message });
        this.stop();
        return;
      }
    }
  }

  private stop(): void {
    this.stopped = true;
    this.unsubscribe();
    try {
      this.writer.close();
    } catch (error) {
      this.deps.logger.error('closing the trace failed', { file: this.file, error: (error as Error).message });
    }
  }
}
