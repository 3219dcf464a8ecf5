import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { InfluxConfig } from './config.js';
import { InfluxTelemetrySink } from './influx-telemetry-sink.js';

export { influxConfigSchema } from './config.js';
export type { InfluxConfig, ResolvedInfluxConfig } from './config.js';
export { InfluxTelemetrySink } from './influx-telemetry-sink.js';
export type { InfluxTelemetrySinkStats } from './influx-telemetry-sink.js';
export { decisionMeasurement, sampleMeasurement } from './influx-points.js';

/**
 * The InfluxDB 1.x telemetry sink: decisions and metric samples for Grafana and experiments.
 * @throws DynamosError CONFIG_INVALID when the config does not parse.
 */
export function createInfluxTelemetrySink(config: InfluxConfig, deps: { logger: Logger; clock: Clock }): InfluxTelemetrySink {
  return new InfluxTelemetrySink(config, deps);
}
