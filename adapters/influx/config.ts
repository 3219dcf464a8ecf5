import { z } from 'zod';

/**
 * Where the InfluxDB 1.x telemetry sink writes, and how it buffers. Units are in the names;
 * defaults and ranges live here (docs/conventions.md: config is declared once).
 */
export const influxConfigSchema = z
  .strictObject({
    /** The InfluxDB 1.x HTTP endpoint, such as `http://127.0.0.1:8086`. */
    url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }),
    /** Created when missing. @default 'dynamos' */
    database: z.string().min(1).default('dynamos'),
    /** Retention policy to write into; it must exist. @default the database's default policy */
    retentionPolicy: z.string().min(1).optional(),
    /** Points kept while the store is down; beyond it the oldest are dropped and counted. */
    bufferSize: z.number().int().positive().default(10_000),
    /** How long a recorded point waits at most before a background write. */
    flushIntervalMs: z.number().int().positive().default(1_000),
    /** Points per write; reaching it starts a write at once. Must not exceed `bufferSize`. */
    batchSize: z.number().int().positive().default(500),
    /** Longest wait between retries while the store is down (the backoff doubles up to it). */
    maxRetryDelayMs: z.number().int().positive().default(30_000),
    /** One HTTP request to InfluxDB gives up after this long. */
    timeoutMs: z.number().int().positive().default(5_000),
    /** Basic-auth credentials, when the server has authentication enabled. */
    username: z.string().min(1).optional(),
    password: z.string().optional(),
  })
  .refine((c) => c.batchSize <= c.bufferSize, {
    message: 'batchSize must not exceed bufferSize',
    path: ['batchSize'],
  })
  .refine((c) => c.password === undefined || c.username !== undefined, {
    message: 'password needs a username',
    path: ['password'],
  });

/** As written in a config file (defaults optional). */
export type InfluxConfig = z.input<typeof influxConfigSchema>;
/** After parsing (defaults filled in). */
export type ResolvedInfluxConfig = z.output<typeof influxConfigSchema>;
