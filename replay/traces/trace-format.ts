import { z } from 'zod';
import { algorithmNames } from '../../knowledge/catalog.js';
import { marketplaceSchema } from '../../knowledge/marketplace/marketplace-schema.js';
import { agreementSchema } from '../../knowledge/marketplace/agreements.js';
import { strategyConfigSchema } from '../../daemon/mape/strategies/index.js';

/**
 * The experiment trace format, version 1 (docs/traces.md): JSON Lines, a header first, then one
 * event per line in time order. Times are milliseconds since the trace began, so a trace replays
 * the same whenever it is run. The header carries the whole marketplace, so a trace is complete
 * on its own.
 */
export const traceVersion = 1;

const ms = z.number().int().nonnegative();
const fraction = z.number().min(0).max(1);
const name = z.string().min(1);

export const traceHeaderSchema = z.strictObject({
  kind: z.literal('trace'),
  version: z.literal(traceVersion),
  /** Where the trace came from: `recorded` by `serve --record`, or `generated` with a scenario. */
  source: z.enum(['recorded', 'generated']),
  /** The generator's scenario, seed and parameters, when generated. */
  scenario: z.strictObject({ name, seed: z.number().int(), parameters: z.record(z.string(), z.unknown()) }).optional(),
  /** Wall-clock start of a recorded trace (ms since the epoch); informative only. */
  recordedAt: z.number().int().optional(),
  /** The strategy the recorded run decided with, so a replay can be set beside what happened. */
  strategy: strategyConfigSchema.optional(),
  /**
   * The length of the trace. A recorded trace may leave it out: a recording is written as it
   * happens, so its length is not known when the header is, and it then lasts until its last event
   * (docs/designs/005-trace-recording.md). A generated trace must give it.
   */
  durationMs: ms.optional(),
  marketplace: marketplaceSchema,
  /** Bytes per `steward/dataset`: the data size requests are planned with. */
  dataBytes: z.record(z.string(), z.number().nonnegative()).default({}),
}).superRefine((header, ctx) => {
  if (header.source === 'generated' && header.durationMs === undefined) ctx.addIssue({ code: 'custom', path: ['durationMs'], message: 'a generated trace gives its length' });
});

const requestEvent = z.strictObject({
  kind: z.literal('request'),
  at: ms,
  id: name,
  requester: name,
  requestType: name,
  providers: z.array(name).min(1),
  /** The base tables the query reads (what policy needs); the query text itself is not kept. */
  tables: z.array(name),
  algorithm: z.enum(algorithmNames).default('none'),
  options: z.record(z.string(), z.boolean()).default({}),
});

const metricsEvent = z.strictObject({
  kind: z.literal('metrics'),
  at: ms,
  party: name,
  cpu: fraction.optional(),
  memory: fraction.optional(),
  queueDepth: z.number().nonnegative().optional(),
  powerWatts: z.number().nonnegative().optional(),
  up: z.union([z.literal(0), z.literal(1)]).optional(),
});

const agreementEvent = z.strictObject({ kind: z.literal('agreement'), at: ms, steward: name, agreement: agreementSchema });

const partyEvent = z.strictObject({ kind: z.literal('party'), at: ms, party: name, online: z.boolean() });

const jobOutcome = z.strictObject({
  party: name,
  durationMs: z.number().nonnegative(),
  cpuSeconds: z.number().nonnegative(),
  energyJoules: z.number().nonnegative(),
  dataBytes: z.number().nonnegative().optional(),
});

const outcomeEvent = z.strictObject({
  kind: z.literal('outcome'),
  at: ms,
  requestId: name,
  result: z.enum(['completed', 'partial', 'denied', 'cancelled', 'failed']),
  archetype: name.nullable(),
  ttp: name.nullable(),
  latencyMs: z.number().nonnegative(),
  jobs: z.array(jobOutcome),
});

export const traceEventSchema = z.discriminatedUnion('kind', [requestEvent, metricsEvent, agreementEvent, partyEvent, outcomeEvent]);

export type TraceHeader = z.output<typeof traceHeaderSchema>;
export type TraceHeaderInput = z.input<typeof traceHeaderSchema>;
export type TraceEvent = z.output<typeof traceEventSchema>;
export type TraceEventInput = z.input<typeof traceEventSchema>;
export type RequestEvent = Extract<TraceEvent, { kind: 'request' }>;
export type MetricsEvent = Extract<TraceEvent, { kind: 'metrics' }>;
