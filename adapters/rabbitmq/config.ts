import { z } from 'zod';

/**
 * Where the RabbitMQ request queue consumes, and how it behaves when the broker goes away. Units
 * are in the names; defaults and ranges live here (docs/conventions.md: config is declared once).
 */
export const rabbitMqConfigSchema = z
  .strictObject({
    /** The broker, such as `amqp://user:password@127.0.0.1:5672/vhost`. */
    url: z.url({ protocol: /^amqps?$/, error: 'must be an amqp or amqps URL' }),
    /** Durable queue the requests arrive on. @default 'dynamos.requests' */
    queue: z.string().min(1).max(255).default('dynamos.requests'),
    /** Fanout exchange the request queue dead-letters to (declared durable). @default 'dynamos.requests.dead' */
    deadLetterExchange: z.string().min(1).max(255).default('dynamos.requests.dead'),
    /** Durable queue bound to the dead-letter exchange; each message carries `x-dynamos-reason`. @default 'dynamos.requests.dead' */
    deadLetterQueue: z.string().min(1).max(255).default('dynamos.requests.dead'),
    /**
     * Durable queue, without consumers, where a request the daemon is too busy for waits before it is
     * handled again: each message expires after its delay and is dead-lettered back to `queue`. Its
     * messages keep the requester's `authorization` header, so it needs the same access rights as
     * `queue`. @default '<queue>.delay'
     */
    delayQueue: z.string().min(1).max(255).optional(),
    /** Times an overloaded request is put back in the delay queue before it is answered 503 OVERLOADED. @default 5 */
    maxRetries: z.number().int().min(0).max(100).default(5),
    /** Requests handled at once (unacknowledged deliveries). @default 8 */
    prefetch: z.number().int().min(1).max(65_535).default(8),
    /** Delivery attempts whose handler throws before the request is dead-lettered. @default 3 */
    maxDeliveries: z.number().int().min(1).max(100).default(3),
    /** First wait before reconnecting after the broker went away; it doubles per failed attempt. @default 100 */
    reconnectMinDelayMs: z.number().int().positive().default(100),
    /** Longest wait between reconnect attempts. @default 30000 */
    reconnectMaxDelayMs: z.number().int().positive().default(30_000),
    /** How many answered message ids are remembered to recognise redeliveries (least recently seen forgotten first). @default 100000 */
    dedupeMemorySize: z.number().int().min(1).default(100_000),
    /** How long a published answer may wait for the broker's confirm before the connection is recycled. @default 10000 */
    publishConfirmTimeoutMs: z.number().int().positive().default(10_000),
    /** A connection attempt gives up after this long. @default 10000 */
    connectTimeoutMs: z.number().int().positive().default(10_000),
  })
  .refine((c) => c.reconnectMinDelayMs <= c.reconnectMaxDelayMs, {
    message: 'reconnectMinDelayMs must not exceed reconnectMaxDelayMs',
    path: ['reconnectMinDelayMs'],
  })
  .refine((c) => c.deadLetterQueue !== c.queue, {
    message: 'deadLetterQueue must differ from queue',
    path: ['deadLetterQueue'],
  })
  .transform((c) => ({ ...c, delayQueue: c.delayQueue ?? `${c.queue}.delay` }))
  .refine((c) => c.delayQueue.length <= 255, { message: 'delayQueue (by default `<queue>.delay`) must be at most 255 characters', path: ['delayQueue'] })
  .refine((c) => c.delayQueue !== c.queue && c.delayQueue !== c.deadLetterQueue, {
    message: 'delayQueue must differ from queue and deadLetterQueue',
    path: ['delayQueue'],
  });

/** As written in a config file (defaults optional). */
export type RabbitMqConfig = z.input<typeof rabbitMqConfigSchema>;
/** After parsing (defaults filled in). */
export type ResolvedRabbitMqConfig = z.output<typeof rabbitMqConfigSchema>;
