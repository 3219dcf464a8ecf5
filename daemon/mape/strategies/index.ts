import { z } from 'zod';
import { dynamosStrategy } from './dynamos-strategy.js';
import type { Strategy } from './strategy.js';
import { createThresholdStrategy, thresholdConfigSchema } from './threshold-strategy.js';
import { utilityConfigSchema } from './utility-config.js';
import { createUtilityStrategy } from './utility-strategy.js';

export type { Ranking, Strategy, StrategyChoice } from './strategy.js';
export { dynamosStrategy } from './dynamos-strategy.js';
export { createThresholdStrategy, thresholdConfigSchema } from './threshold-strategy.js';
export { createUtilityStrategy, utilityConfigSchema } from './utility-strategy.js';

/**
 * Which archetype strategy the daemon runs, and its options (docs/mape-k-loop.md#strategies):
 * `{ name: utility, options: { holdDownMs: 30000 } }`. Options default field by field.
 */
export const strategyConfigSchema = z.discriminatedUnion('name', [
  z.strictObject({ name: z.literal('dynamos') }),
  z.strictObject({ name: z.literal('threshold'), options: thresholdConfigSchema.prefault({}) }),
  z.strictObject({ name: z.literal('utility'), options: utilityConfigSchema.prefault({}) }),
]);
export type StrategyConfig = z.output<typeof strategyConfigSchema>;
export type StrategyConfigInput = z.input<typeof strategyConfigSchema>;

/** The strategy a (parsed) config names. */
export function createStrategy(config: StrategyConfig): Strategy {
  switch (config.name) {
    case 'dynamos':
      return dynamosStrategy;
    case 'threshold':
      return createThresholdStrategy(config.options);
    case 'utility':
      return createUtilityStrategy(config.options);
    default: {
      const _exhaustive: never = config;
      return _exhaustive;
    }
  }
}
