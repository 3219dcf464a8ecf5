import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { PrometheusConfig } from './config.js';
import { PrometheusMetricsSource } from './prometheus-metrics-source.js';

export { prometheusConfigSchema, resolvePrometheusConfig } from './config.js';
export type { PrometheusConfig, ResolvedPrometheusConfig } from './config.js';
export { defaultQueries } from './default-queries.js';
export type { QueryAlternative } from './default-queries.js';
export { PrometheusMetricsSource } from './prometheus-metrics-source.js';

/**
 * A MetricsSource reading Prometheus's HTTP API.
 * @throws DynamosError CONFIG_INVALID with every problem and its path
 */
export function createPrometheusMetricsSource(
  config: PrometheusConfig,
  deps: { readonly logger: Logger; readonly clock: Clock },
): PrometheusMetricsSource {
  return new PrometheusMetricsSource(config, deps);
}
