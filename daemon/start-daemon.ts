import { rmSync } from 'node:fs';
import { createDuckDBQueryInspector } from '../adapters/duckdb/index.js';
import { createInfluxTelemetrySink } from '../adapters/influx/index.js';
import type { KubernetesJobRunner } from '../adapters/kubernetes/index.js';
import type { LocalJobRunner } from '../adapters/local/index.js';
import { LocalMetricsSource } from '../adapters/local/local-metrics-source.js';
import { createPrometheusMetricsSource } from '../adapters/prometheus/index.js';
import { createRabbitMqRequestQueue } from '../adapters/rabbitmq/index.js';
import { loadMarketplaceCa, openMarketplaceCa } from '../adapters/tls/index.js';
import { checkRecordTarget, TraceRecorder } from '../replay/traces/trace-recorder.js';
import type { FileDecisionLog } from '../knowledge/audit/log-file.js';
import { defaultEnergyModel, estimateJobJoules } from '../knowledge/energy-model.js';
import { DynamosError } from '../knowledge/errors.js';
import { KnowledgeBase } from '../knowledge/knowledge-base.js';
import { defaultKnowledgeSettings, knowledgeOf } from '../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import type { Clock } from '../knowledge/ports/clock.js';
import { systemClock } from '../knowledge/ports/clock.js';
import type { JobReport } from '../knowledge/ports/job-runner.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { MetricsSource } from '../knowledge/ports/metrics-source.js';
import type { RequestQueue } from '../knowledge/ports/request-queue.js';
import { parseSettings } from '../knowledge/problems.js';
import { startAmqpIntake } from './api/amqp-intake.js';
import { createApi, startHttpServer } from './api/http-server.js';
import type { AuditKey } from './audit-log.js';
import { openDecisionLog } from './audit-log.js';
import type { DaemonConfig, DaemonConfigInput } from './config.js';
import { daemonConfigSchema, keysDirOf } from './config.js';
import { ConfigWatch } from './config-watch.js';
import { createDaemonAuth } from './daemon-auth.js';
import { datasetSizes } from './data-sizes.js';
import { loadDaemonMarketplace } from './load-daemon-marketplace.js';
import type { TokenRequest } from './local-issuer.js';
import { createLogger } from './logger.js';
import { Admission } from './loop/admission.js';
import { BackgroundLoop } from './loop/background-loop.js';
import { RequestLoop } from './loop/request-loop.js';
import { createStrategy } from './mape/strategies/index.js';
import { warnOfUnknownSiteParties } from './site-checks.js';
import type { DaemonJobs } from './job-runner-choice.js';
import { openDaemonJobs } from './job-runner-choice.js';
import { DaemonMetrics } from './telemetry/daemon-metrics.js';

export interface RunningDaemon {
  readonly url: string;
  readonly config: DaemonConfig;
  readonly knowledge: KnowledgeBase;
  /** Local processes on the embedded default; Kubernetes Jobs in cluster mode (`kubernetes` set). */
  readonly runner: LocalJobRunner | KubernetesJobRunner;
  readonly requests: RequestLoop;
  readonly background: BackgroundLoop;
  readonly metrics: DaemonMetrics;
  readonly decisionLog: FileDecisionLog;
  /** The public key that verifies the decision log's checkpoints (`audit verify --key`). */
  readonly auditKey: AuditKey;
  /** The run's trace being recorded (`recordFile`), until the daemon closes. */
  readonly recorder: TraceRecorder | undefined;
  /** The marketplace in force now. */
  marketplace(): Marketplace;
  /**
   * A token from the daemon's local issuer, valid from the daemon's clock's now (15 min unless
   * `ttlMs`), for tests, benchmarks and the demo.
   * @throws DynamosError CONFIG_INVALID when the daemon trusts configured issuers instead
   */
  mintToken(user: string, opts?: Omit<TokenRequest, 'user' | 'now'>): Promise<string>;
  /** Stops intake, ends every job, closes every adapter; idempotent. */
  close(): Promise<void>;
}

/**
 * The composition root of the embedded default (docs/architecture.md#one-request): knowledge base, request and
 * background loops, local single-use jobs, the HTTP API and, when configured, RabbitMQ intake,
 * Prometheus monitoring and InfluxDB telemetry.
 *
 * @throws DynamosError CONFIG_INVALID when the marketplace is invalid, a table file is missing, or
 *   the trace to record (`recordFile`) cannot be written.
 */
export async function startDaemon(input: DaemonConfigInput = {}, deps: { logger?: Logger; clock?: Clock } = {}): Promise<RunningDaemon> {
  const config = parseSettings(daemonConfigSchema, { ...input, adminToken: input.adminToken ?? process.env['DYNAMOS_ADMIN_TOKEN'] }, 'the daemon config');
  // A trace that cannot be written is found before any work starts (or data is generated).
  if (config.recordFile !== undefined) checkRecordTarget(config.recordFile);
  const logger = deps.logger ?? createLogger(config.logLevel);
  const clock = deps.clock ?? systemClock;
  const marketplace = await loadDaemonMarketplace(config, logger, { exampleRowsGiven: input.exampleRows !== undefined });
  const settings = { ...defaultKnowledgeSettings, ...config.knowledge, staleAfterMs: { ...defaultKnowledgeSettings.staleAfterMs, ...config.knowledge.staleAfterMs } };
  const knowledge = new KnowledgeBase(knowledgeOf(marketplace, clock.now(), settings));
  const refreshSizes = async () => knowledge.apply({ kind: 'dataSizesKnown', bytes: await datasetSizes(knowledge.current().marketplace) });
  await refreshSizes();

  const energy = config.energy ?? defaultEnergyModel;
  const energyOf = (report: JobReport) => estimateJobJoules(report.cpuSeconds, energy);
  const closers: (() => Promise<void> | void)[] = [];
  let recorder: TraceRecorder | undefined;
  const closeAll = async () => {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch((error: unknown) => logger.error('closing failed', { error: String(error) }));
  };
  try {
    // One writer per log: a second daemon on this log stops here. First in, so closed last: its
    // shutdown checkpoint follows the records of the requests the shutdown ends.
    const audit = await openDecisionLog(config, { logger, clock });
    const decisionLog = audit.log;
    closers.push(() => decisionLog.close());
    // Early in, so closed late: it hears the outcomes of the requests the shutdown ends.
    recorder = config.recordFile === undefined ? undefined : TraceRecorder.start(config.recordFile, knowledge, { clock, logger, energyOf, strategy: config.strategy });
    closers.push(() => recorder?.close());
    // Before jobs or the listener start: a key or TLS file that cannot be read is a bad config.
    const auth = await createDaemonAuth(config, { clock, logger });
    const inspector = await createDuckDBQueryInspector();
    closers.push(() => inspector.close());
    const ca = config.dataPlane.ca === undefined ? await openMarketplaceCa(keysDirOf(config), { logger }) : await loadMarketplaceCa(config.dataPlane.ca);
    const jobs = await openDaemonJobs(config, marketplace, ca, { logger, clock });
    const { runner } = jobs;
    closers.push(() => runner.close());
    const metrics = new DaemonMetrics();
    const source = metricsSource(config, jobs, { logger, clock, energy });
    if (source !== undefined) closers.push(() => source.close());
    const telemetry = config.influx === undefined ? undefined : createInfluxTelemetrySink(config.influx, { logger, clock });
    if (telemetry !== undefined) closers.push(() => telemetry.close());
    if (telemetry !== undefined) metrics.countDropsOf(telemetry);
    const strategy = createStrategy(config.strategy);

    const slots = config.limits.jobs;
    const admission = new Admission({ maxJobs: slots.maxRunning, maxJobsPerParty: slots.maxPerParty, maxQueued: slots.maxQueued, maxWaitMs: slots.maxWaitMs }, clock);
    const requests = new RequestLoop({
      knowledge,
      strategy: () => strategy,
      runner,
      clock,
      logger,
      deadlineMs: config.jobDeadlineMs,
      deadlineMsByRequestType: config.requestTypeDeadlineMs,
      resultLimit: config.limits.result,
      admission,
      energyOf,
      decisionLog,
      metrics,
      ...(telemetry === undefined ? {} : { telemetry }),
      ...(recorder === undefined ? {} : { observer: recorder }),
    });
    const background = new BackgroundLoop({
      knowledge,
      source,
      requests,
      clock,
      logger,
      metrics,
      ...(telemetry === undefined ? {} : { telemetry }),
      periodMs: config.loop.periodMs,
      maxBackoffMs: config.loop.maxBackoffMs,
      symptoms: { loadThreshold: config.loop.loadThreshold },
    });
    // The warm processes load DuckDB first: that start is no party's load (the local source counts from after it).
    await jobs.whenWarm();
    if (source instanceof LocalMetricsSource) source.countFromNow();
    background.start();
    closers.push(() => background.stop());
    const onPolicy = knowledge.onChange((_, event) => {
      if (event.kind !== 'marketplaceChanged') return;
      void refreshSizes();
      warnOfUnknownSiteParties(config.sites, knowledge.current().marketplace, logger);
    });
    closers.push(onPolicy);

    const intake = { knowledge, inspector, requests, authenticator: auth.authenticator, limits: config.limits.request };
    const memoryBounds = await jobs.memoryBounds();
    const app = createApi({ intake, logger, clock, bodyLimitBytes: config.bodyLimitBytes, startedAt: clock.now(), decisions: decisionLog, audit: decisionLog, metrics, authenticator: auth.authenticator, jobs: () => ({ ...admission.state, limits: config.limits.jobs, memory: memoryBounds }), dataPlane: () => ({ transport: 'gRPC over mutual TLS', caFingerprint: ca.fingerprint, caSource: config.dataPlane.ca === undefined ? 'made by this deployment' : 'supplied by the operator', sites: jobs.sitesStatus() }) });
    const server = await startHttpServer(app, { host: config.host, port: config.port, tls: auth.tls });
    closers.push(() => server.close());
    if (config.amqp !== undefined) {
      const queue: RequestQueue = createRabbitMqRequestQueue(config.amqp, { logger, clock });
      await startAmqpIntake(queue, intake, { logger, clock, metrics });
      closers.push(() => queue.close());
    }
    if (config.marketplaceFile !== undefined && config.watchConfig) {
      const watch = new ConfigWatch(config.marketplaceFile, config.dataDir, { knowledge, clock, logger });
      watch.start();
      closers.push(() => watch.stop());
    }
    logger.info('daemon listening', { url: server.url, marketplace: marketplace.name, revision: marketplace.revision, strategy: strategy.name, metrics: source?.name ?? 'none' });
    let closing: Promise<void> | undefined;
    return {
      url: server.url,
      config,
      knowledge,
      runner,
      requests,
      background,
      metrics,
      decisionLog,
      auditKey: audit.key,
      recorder,
      marketplace: () => knowledge.current().marketplace,
      mintToken: (user, opts = {}) => {
        if (auth.localIssuer === undefined) {
          return Promise.reject(new DynamosError('CONFIG_INVALID', 'this daemon trusts the configured issuers (auth.issuers) and mints no tokens of its own', { retryable: false }));
        }
        return auth.localIssuer.mint({ ...opts, user, now: clock.now() });
      },
      close: () => (closing ??= closeAll()),
    };
  } catch (error) {
    await closeAll();
    // The daemon never served: a trace of it would be a header with nothing after it.
    if (recorder !== undefined) rmSync(recorder.file, { force: true });
    throw error;
  }
}

function metricsSource(config: DaemonConfig, jobs: DaemonJobs, deps: { logger: Logger; clock: Clock; energy: typeof defaultEnergyModel }): MetricsSource | undefined {
  switch (config.metrics.source) {
    case 'local':
      // A party with a site is read from its own cgroups (the same clock times both), the others from the machine.
      return new LocalMetricsSource({ events: jobs.events, ...deps, sites: jobs.siteUsage, ...(config.metrics.windowMs === undefined ? {} : { windowMs: config.metrics.windowMs }) });
    case 'prometheus':
      return createPrometheusMetricsSource(config.metrics.prometheus, deps);
    case 'none':
      return undefined;
    default: {
      const _exhaustive: never = config.metrics;
      return _exhaustive;
    }
  }
}

/** The daemon's local job runner, for what only the embedded default has (its processes, sites, temp dirs). */
export function localRunnerOf(daemon: Pick<RunningDaemon, 'runner'>): LocalJobRunner {
  if (!('runnerId' in daemon.runner)) throw new Error('this daemon runs its jobs in Kubernetes, not as local processes');
  return daemon.runner;
}
