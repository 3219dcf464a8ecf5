import { z } from 'zod';
import type { Signal } from '../../knowledge/ports/metrics-source.js';
import { parseSettings } from '../../knowledge/problems.js';
import type { QueryAlternative } from './default-queries.js';
import { defaultQueries, renderQuery } from './default-queries.js';

const labelName = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'must be a Prometheus label name');
/** A PromQL duration such as `1m` or `1m30s`. */
const promDuration = z.string().regex(/^(\d+(ms|s|m|h|d|w|y))+$/, 'must be a PromQL duration such as 1m');

const alternativeSchema = z.union([
  z.string().min(1).transform((query): QueryAlternative => ({ query })),
  z.strictObject({ query: z.string().min(1), sampledAt: z.string().min(1).optional() }),
]);
/** Tried in order; replaces the defaults of that signal. */
const alternativesSchema = z.array(alternativeSchema).min(1, 'give at least one query');

const ageMs = z.number().int().positive();

const authSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('basic'), username: z.string().min(1), password: z.string() }),
  z.strictObject({ type: z.literal('bearer'), token: z.string().min(1) }),
]);

export const prometheusConfigSchema = z
  .strictObject({
    /** Prometheus's base URL, path prefix included (`http://prometheus:9090`, `https://host/prom`). */
    url: z.url({ protocol: /^https?$/, error: 'must be an http or https URL' }).refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), 'put credentials in `auth`, not in the URL'),
    /** The label naming a party in every query's result. Relabel your targets to carry it. @default 'party' */
    partyLabel: labelName.default('party'),
    /** Range of `rate()` in the default queries: at least 4 scrape intervals. @default '1m' */
    rateWindow: promDuration.default('1m'),
    /** Per signal, PromQL alternatives tried in order; a signal not given keeps its defaults. */
    queries: z
      .strictObject({
        cpu: alternativesSchema.optional(),
        memory: alternativesSchema.optional(),
        queueDepth: alternativesSchema.optional(),
        powerWatts: alternativesSchema.optional(),
        up: alternativesSchema.optional(),
      })
      .prefault({}),
    /** Bound on each signal's read, its alternatives included. @default 2000 */
    timeoutMs: z.number().int().min(1).max(120_000).default(2000),
    /** A sample older than this (by Prometheus's clock) is not a value. */
    staleAfterMs: z
      .strictObject({
        cpu: ageMs.default(30_000),
        memory: ageMs.default(30_000),
        queueDepth: ageMs.default(30_000),
        powerWatts: ageMs.default(60_000),
        up: ageMs.default(30_000),
      })
      .prefault({}),
    auth: authSchema.optional(),
    /** Extra request headers, e.g. `X-Scope-OrgID` for Mimir, Cortex or Thanos tenants. */
    headers: z.record(z.string(), z.string()).default({}),
  })
  .transform((c) => {
    const vars = { partyLabel: c.partyLabel, rateWindow: c.rateWindow };
    const render = (alts: readonly QueryAlternative[]): QueryAlternative[] =>
      alts.map((a) => ({
        query: renderQuery(a.query, vars),
        ...(a.sampledAt === undefined ? {} : { sampledAt: renderQuery(a.sampledAt, vars) }),
      }));
    const queries: Record<Signal, QueryAlternative[]> = {
      cpu: render(c.queries.cpu ?? defaultQueries.cpu),
      memory: render(c.queries.memory ?? defaultQueries.memory),
      queueDepth: render(c.queries.queueDepth ?? defaultQueries.queueDepth),
      powerWatts: render(c.queries.powerWatts ?? defaultQueries.powerWatts),
      up: render(c.queries.up ?? defaultQueries.up),
    };
    return { ...c, queries };
  });

/** What a user writes. */
export type PrometheusConfig = z.input<typeof prometheusConfigSchema>;
/** Defaults applied, queries rendered. */
export type ResolvedPrometheusConfig = z.output<typeof prometheusConfigSchema>;

/**
 * Validates a config, reporting every problem with its path.
 * @throws DynamosError CONFIG_INVALID
 */
export function resolvePrometheusConfig(config: PrometheusConfig): ResolvedPrometheusConfig {
  return parseSettings(prometheusConfigSchema, config, 'the Prometheus config');
}
