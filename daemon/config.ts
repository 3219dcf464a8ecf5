import path from 'node:path';
import { z } from 'zod';
import { influxConfigSchema } from '../adapters/influx/index.js';
import { kubernetesRunnerConfigSchema } from '../adapters/kubernetes/config.js';
import { localJobRunnerConfigSchema } from '../adapters/local/config.js';
import { sitesSettingsSchema } from '../adapters/local/sites/index.js';
import { prometheusConfigSchema } from '../adapters/prometheus/index.js';
import { rabbitMqConfigSchema } from '../adapters/rabbitmq/index.js';
import { energyModelSchema } from '../knowledge/energy-model.js';
import { signals } from '../knowledge/ports/metrics-source.js';
import { authSettingsSchema, tlsSettingsSchema } from './api/auth-settings.js';
import { limitsConfigSchema } from './limits-config.js';
import { strategyConfigSchema } from './mape/strategies/index.js';
import { packageRoot } from './package-root.js';

/** The bundled example marketplace. */
export function exampleMarketplaceFile(): string {
  return path.join(packageRoot(), 'experiments', 'marketplaces', 'example.yaml');
}

const ms = z.number().int().positive();

/** Where the Monitor phase reads the parties' state. */
export const metricsConfigSchema = z.discriminatedUnion('source', [
  /** This machine's CPU and memory and the local jobs' CPU-seconds (the embedded default). */
  z.strictObject({ source: z.literal('local'), windowMs: ms.optional() }),
  z.strictObject({ source: z.literal('prometheus'), prometheus: prometheusConfigSchema }),
  /** No readings: utility and threshold fall back to the dynamos rules, as they say. */
  z.strictObject({ source: z.literal('none') }),
]);

/**
 * How a daemon runs: one deployment's settings (`dynamos serve --settings FILE`, flags on top).
 * Every field has a default, so `dynamos serve` alone runs the example marketplace on generated
 * data with the dynamos strategy.
 */
export const daemonConfigSchema = z.strictObject({
  host: z.string().default('127.0.0.1'),
  /** 0 picks a free port. */
  port: z.number().int().min(0).max(65535).default(8080),
  /** The marketplace config; the bundled example when absent. */
  marketplaceFile: z.string().optional(),
  /** Where table files resolve. @default the config file's directory; ./data/example for the example */
  dataDir: z.string().optional(),
  /** Rows per steward when the example's data is generated. */
  exampleRows: z.number().int().positive().default(10_000),
  /** Regenerate the example's data even over files already in its data directory (`serve --force`). */
  regenerateExampleData: z.boolean().default(false),
  /** The archetype strategy of this deployment, with its options. */
  strategy: strategyConfigSchema.default({ name: 'dynamos' }),
  /** Each job is killed this long after it starts, unless its request type has its own deadline. */
  jobDeadlineMs: ms.default(120_000),
  /** Deadlines per request type (`sqlDataRequest: 300000`), over `jobDeadlineMs`. */
  requestTypeDeadlineMs: z.record(z.string().min(1), ms).default({}),
  /** The size of an answer and room for jobs (docs/operations.md). */
  limits: limitsConfigSchema.prefault({}),
  /** Request bodies above this size get 413. */
  bodyLimitBytes: z.number().int().positive().default(1024 * 1024),
  runner: localJobRunnerConfigSchema.prefault({}),
  /**
   * Each party's site on this machine, by its marketplace name: the cores, memory and network link
   * all its jobs share, e.g. `{ SURF: { cpus: 0.5, memoryMiB: 2048, linkMbit: 200, network: true } }`.
   * A party without one runs unbounded on the host's network. Holding them needs root (cgroups,
   * network namespaces); without it the daemon says why at start and in /healthz, and runs
   * unbounded (docs/operations.md#sites).
   */
  sites: sitesSettingsSchema,
  /**
   * Cluster mode: each party's job runs as a single-use Kubernetes Job in the party's namespace
   * (`sites.<party>.kubernetes`) instead of a local process (docs/kubernetes.md).
   */
  kubernetes: kubernetesRunnerConfigSchema.optional(),
  /** The data plane between parties: gRPC over mutual TLS (docs/data-plane.md). */
  dataPlane: z
    .strictObject({
      /**
       * The marketplace CA that issues each party's certificate, supplied by the operator (a
       * cluster). @default a CA of this deployment, made on first start in `keysDir`
       */
      ca: z.strictObject({ certFile: z.string().min(1), keyFile: z.string().min(1) }).optional(),
    })
    .default({}),
  logLevel: z.enum(['debug', 'info', 'warn', 'error', 'silent']).default('info'),
  /** The background MAPE-K loop. */
  loop: z
    .strictObject({
      /** Time between iterations. */
      periodMs: ms.default(15_000),
      /** Longest wait between reads while the metrics source keeps failing. */
      maxBackoffMs: ms.default(300_000),
      /** CPU or memory at or above this is overload (a symptom). */
      loadThreshold: z.number().gt(0).max(1).default(0.8),
    })
    .default({ periodMs: 15_000, maxBackoffMs: 300_000, loadThreshold: 0.8 }),
  knowledge: z
    .strictObject({
      /** A reading older than this is not a value, per signal. */
      staleAfterMs: z.partialRecord(z.enum(signals), ms).default({}),
      windowSize: z.number().int().positive().default(20),
      learningRate: z.number().gt(0).max(1).default(0.3),
    })
    .default({ staleAfterMs: {}, windowSize: 20, learningRate: 0.3 }),
  metrics: metricsConfigSchema.default({ source: 'local' }),
  /** Watts per CPU for estimating energy where no meter reports it (knowledge/energy-model.ts). */
  energy: energyModelSchema.optional(),
  /** Requests over RabbitMQ, with the same body and semantics as HTTP. */
  amqp: rabbitMqConfigSchema.optional(),
  /** Decisions and samples written to InfluxDB 1.x for Grafana and experiments. */
  influx: influxConfigSchema.optional(),
  /** The hash-chained decision log (JSON Lines). */
  decisionLogFile: z.string().default(path.join('data', 'decisions.jsonl')),
  /**
   * Where the daemon keeps its keys (the local token issuer's, the audit log's signing key),
   * created on first start with owner-only permissions.
   * @default `keys/` beside the decision log, so `data/keys` for the default log
   */
  keysDir: z.string().min(1).optional(),
  /** The decision log's signed checkpoints (docs/designs/008-signed-audit-log.md). */
  audit: z
    .strictObject({
      /** Sign a checkpoint of the chain head after this many records (and at start and shutdown). */
      checkpointEvery: z.number().int().positive().default(100),
    })
    .default({ checkpointEvery: 100 }),
  /** Record the run as an experiment trace (JSON Lines, docs/traces.md) to this file; off when absent. */
  recordFile: z.string().min(1).optional(),
  /** A static admin credential (`Authorization: Bearer <it>`); also read from DYNAMOS_ADMIN_TOKEN. */
  adminToken: z.string().min(16, 'use at least 16 characters').optional(),
  /** Who may call: token issuers, claims, clock tolerance (docs/deployment.md#identity-auth-and-tls). */
  auth: authSettingsSchema.prefault({}),
  /** HTTPS for the listener, optionally with client certificates; plain HTTP when absent. */
  tls: tlsSettingsSchema.optional(),
  /** Reload the marketplace config when its file changes. */
  watchConfig: z.boolean().default(true),
});

export type DaemonConfigInput = z.input<typeof daemonConfigSchema>;
export type DaemonConfig = z.output<typeof daemonConfigSchema>;

/** The directory of the daemon's keys: `keysDir`, else `keys/` beside the decision log. */
export function keysDirOf(config: Pick<DaemonConfig, 'keysDir' | 'decisionLogFile'>): string {
  return config.keysDir ?? path.join(path.dirname(config.decisionLogFile), 'keys');
}

export function defaultExampleDataDir(): string {
  return path.resolve('data', 'example');
}
