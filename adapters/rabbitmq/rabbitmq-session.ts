import { connect } from 'amqplib';
import type { ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { DynamosError } from '../../knowledge/errors.js';
import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { ResolvedRabbitMqConfig } from './config.js';

/**
 * One connection to the broker with one confirm channel, on which requests are consumed and
 * answers published. A session never recovers: when its connection or channel closes it reports
 * itself lost once (`onLost`) and the queue opens a new one.
 */
export class RabbitMqSession {
  private lost = false;
  private closing = false;
  private consumerTag: string | undefined;

  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
    private readonly deps: { clock: Clock; logger: Logger },
    private readonly onLost: (session: RabbitMqSession, reason: string) => void,
  ) {}

  /**
   * Connects, declares the durable request queue (dead-lettering to the dead-letter exchange),
   * the dead-letter exchange and queue, the delay queue (dead-lettering what expires back to the
   * request queue), and sets the prefetch.
   * @throws whatever amqplib throws when the broker refuses or is unreachable.
   */
  static async open(config: ResolvedRabbitMqConfig, deps: { clock: Clock; logger: Logger }, onLost: (session: RabbitMqSession, reason: string) => void): Promise<RabbitMqSession> {
    const connection = await connect(config.url, { timeout: config.connectTimeoutMs, clientProperties: { connection_name: `dynamos request queue ${config.queue}` } });
    let session: RabbitMqSession | undefined;
    let lostReason = 'connection closed';
    connection.on('error', (error: Error) => (lostReason = error.message));
    connection.on('close', () => session?.markLost(lostReason));
    connection.on('blocked', (reason: string) => deps.logger.warn('broker blocked the connection: answers wait until it unblocks', { reason }));
    try {
      const channel = await connection.createConfirmChannel();
      channel.on('error', (error: Error) => (lostReason = `channel error: ${error.message}`));
      // A channel closing under an open connection leaves the session unusable: drop it whole.
      channel.on('close', () => void connection.close().catch(() => undefined));
      channel.on('return', (message: ConsumeMessage) =>
        deps.logger.warn('an answer could not be routed: its reply queue does not exist; the answer is dropped', { replyTo: message.fields.routingKey, correlationId: message.properties.correlationId as unknown }));
      await channel.assertExchange(config.deadLetterExchange, 'fanout', { durable: true });
      await channel.assertQueue(config.deadLetterQueue, { durable: true });
      await channel.bindQueue(config.deadLetterQueue, config.deadLetterExchange, '');
      await channel.assertQueue(config.queue, { durable: true, arguments: { 'x-dead-letter-exchange': config.deadLetterExchange } });
      await channel.assertQueue(config.delayQueue, { durable: true, arguments: delayQueueArguments(config) });
      await channel.prefetch(config.prefetch);
      session = new RabbitMqSession(connection, channel, deps, onLost);
      return session;
    } catch (error) {
      await connection.close().catch(() => undefined);
      throw error;
    }
  }

  get alive(): boolean {
    return !this.lost && !this.closing;
  }

  /** Starts consuming `queue` with manual acknowledgement. A cancel by the broker (queue deleted) loses the session. */
  async consume(queue: string, onMessage: (message: ConsumeMessage) => void): Promise<void> {
    const { consumerTag } = await this.channel.consume(queue, (message) => {
      if (message !== null) onMessage(message);
      else {
        this.markLost('the broker cancelled the consumer (queue deleted?)');
        void this.connection.close().catch(() => undefined);
      }
    }, { noAck: false });
    this.consumerTag = consumerTag;
  }

  /** Stops deliveries; messages delivered already stay ours to settle. */
  async cancel(): Promise<void> {
    if (this.consumerTag === undefined || !this.alive) return;
    const tag = this.consumerTag;
    this.consumerTag = undefined;
    await this.channel.cancel(tag).catch(() => undefined);
  }

  ack(message: ConsumeMessage): void {
    if (!this.alive) return;
    try {
      this.channel.ack(message);
    } catch {
      // The channel closed under us: the broker redelivers, and the ledger acks it then.
    }
  }

  nack(message: ConsumeMessage, requeue: boolean): void {
    if (!this.alive) return;
    try {
      this.channel.nack(message, false, requeue);
    } catch {
      // As for ack.
    }
  }

  /**
   * Publishes and resolves once the broker confirmed it.
   * @throws DynamosError ADAPTER_UNAVAILABLE when the channel closed or the broker nacked it,
   *   ADAPTER_TIMEOUT when no confirm came within `timeoutMs`.
   */
  publishConfirmed(exchange: string, routingKey: string, content: Buffer, options: Options.Publish, timeoutMs: number): Promise<void> {
    const what = exchange === '' ? `queue "${routingKey}"` : `exchange "${exchange}"`;
    return new Promise<void>((resolve, reject) => {
      const timer = this.deps.clock.setTimeout(() => {
        reject(new DynamosError('ADAPTER_TIMEOUT', `rabbitmq publish to ${what} not confirmed after ${timeoutMs} ms`, { retryable: true }));
      }, timeoutMs);
      const settle = (error: unknown) => {
        this.deps.clock.clearTimeout(timer);
        if (error === null || error === undefined) resolve();
        else reject(new DynamosError('ADAPTER_UNAVAILABLE', `rabbitmq publish to ${what} failed: ${error instanceof Error ? error.message : 'nacked by the broker'}`, { retryable: true, cause: error }));
      };
      if (!this.alive) return settle(new Error('connection lost'));
      try {
        this.channel.publish(exchange, routingKey, content, options, (error: unknown) => settle(error));
      } catch (error) {
        settle(error);
      }
    });
  }

  /** Closes channel and connection; never throws. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await this.channel.close().catch(() => undefined);
    await this.connection.close().catch(() => undefined);
  }

  private markLost(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    if (!this.closing) this.onLost(this, reason);
  }
}

/**
 * The delay queue's arguments: what expires in it goes through the default exchange back to the
 * request queue. A queue declared earlier with other arguments makes the declaration fail.
 */
export function delayQueueArguments(config: Pick<ResolvedRabbitMqConfig, 'queue'>): Record<string, string> {
  return { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': config.queue };
}
