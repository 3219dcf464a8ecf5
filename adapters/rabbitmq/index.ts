import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { RabbitMqConfig } from './config.js';
import { RabbitMqRequestQueue } from './rabbitmq-request-queue.js';

export { rabbitMqConfigSchema } from './config.js';
export type { RabbitMqConfig, ResolvedRabbitMqConfig } from './config.js';
export { RabbitMqRequestQueue } from './rabbitmq-request-queue.js';
export type { RabbitMqRequestQueueStats } from './rabbitmq-request-queue.js';

/**
 * The RabbitMQ request queue: requests in as messages, answers out to their `replyTo`, each run
 * and answered once per message id, surviving broker restarts.
 * @throws DynamosError CONFIG_INVALID when the config does not parse.
 */
export function createRabbitMqRequestQueue(config: RabbitMqConfig, deps: { logger: Logger; clock: Clock }): RabbitMqRequestQueue {
  return new RabbitMqRequestQueue(config, deps);
}
