import { randomUUID } from 'node:crypto';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage } from 'amqplib';
import { createRabbitMqRequestQueue } from '../../../adapters/rabbitmq/index.js';
import type { RabbitMqConfig, RabbitMqRequestQueue } from '../../../adapters/rabbitmq/index.js';
import { delayQueueArguments } from '../../../adapters/rabbitmq/rabbitmq-session.js';
import type { Clock } from '../../../knowledge/ports/clock.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import type { Logger } from '../../../knowledge/ports/logger.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import type { ObservedRequestQueue, ReceivedDeadLetter, ReceivedReply, RequestProperties, RequestQueueWorld } from '../../contract/request-queue.contract.js';
import type { RabbitMqControl } from '../../support/servers/rabbitmq-control.js';

/** The requester's side: one connection that publishes requests and listens on reply queues and the dead-letter queue. */
class Requester {
  private constructor(
    private readonly connection: ChannelModel,
    readonly publisher: ConfirmChannel,
    readonly listener: Channel,
  ) {}

  static async open(url: string): Promise<Requester> {
    const connection = await connect(url);
    // The broker restarting closes this connection with an error; the world reconnects itself.
    connection.on('error', () => undefined);
    const [publisher, listener] = await Promise.all([connection.createConfirmChannel(), connection.createChannel()]);
    publisher.on('error', () => undefined);
    listener.on('error', () => undefined);
    return new Requester(connection, publisher, listener);
  }

  async close(): Promise<void> {
    await this.connection.close().catch(() => undefined);
  }
}

/**
 * A real RabbitMQ broker as the request-queue contract's world: a request queue, dead-letter
 * exchange and queue, and delay queue with names of their own (removed on close), a requester connection that
 * reconnects after `restart()`, and queues under test built by {@link createRabbitMqRequestQueue}.
 */
export class RealBrokerWorld implements RequestQueueWorld {
  readonly names: { readonly queue: string; readonly deadLetterExchange: string; readonly deadLetterQueue: string; readonly delayQueue: string };
  private requester: Requester | undefined;
  /** The requester, or its reconnection while the broker restarts. */
  private requesterReady!: Promise<Requester>;
  private readonly replyQueues = new Map<string, ReceivedReply[]>();
  private readonly received: ReceivedDeadLetter[] = [];
  private readonly queues: RabbitMqRequestQueue[] = [];

  private constructor(
    private readonly url: string,
    private readonly control: RabbitMqControl,
    private readonly deps: { readonly logger: Logger; readonly clock: Clock },
  ) {
    const prefix = `dynamos.test.${randomUUID()}`;
    this.names = { queue: `${prefix}.requests`, deadLetterExchange: `${prefix}.dead`, deadLetterQueue: `${prefix}.dead`, delayQueue: `${prefix}.requests.delay` };
  }

  static async create(url: string, control: RabbitMqControl, deps: { logger?: Logger; clock?: Clock } = {}): Promise<RealBrokerWorld> {
    const world = new RealBrokerWorld(url, control, { logger: deps.logger ?? silentLogger, clock: deps.clock ?? systemClock });
    world.requesterReady = world.connectRequester();
    await world.requesterReady;
    return world;
  }

  /** The config of a queue under test in this world (fast reconnects: the broker restarts in about 2 s). */
  config(overrides: Partial<RabbitMqConfig> = {}): RabbitMqConfig {
    return { url: this.url, ...this.names, reconnectMinDelayMs: 50, reconnectMaxDelayMs: 500, ...overrides };
  }

  /** A queue under test with this world's names, closed by `close()`. */
  rabbitQueue(overrides: Partial<RabbitMqConfig> = {}, deps: { logger?: Logger; clock?: Clock } = {}): RabbitMqRequestQueue {
    const queue = createRabbitMqRequestQueue(this.config(overrides), { logger: deps.logger ?? this.deps.logger, clock: deps.clock ?? this.deps.clock });
    this.queues.push(queue);
    return queue;
  }

  queue(options: { readonly prefetch?: number; readonly maxRetries?: number } = {}): ObservedRequestQueue {
    const queue = this.rabbitQueue(Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)));
    return Object.defineProperty(queue, 'unsettled', { get: () => queue.stats().unsettled }) as RabbitMqRequestQueue & ObservedRequestQueue;
  }

  /** Publishes and waits for the confirm; a publish the broker's restart cut off is sent again (same message id), as a requester would. */
  async publishRequest(body: string, request: RequestProperties): Promise<void> {
    const { authorization, ...properties } = request;
    const headers = authorization === undefined ? {} : { headers: { authorization } };
    for (let attempt = 1; ; attempt++) {
      const { publisher } = await this.requesterReady;
      try {
        await new Promise<void>((resolve, reject) =>
          publisher.sendToQueue(this.names.queue, Buffer.from(body), { ...properties, ...headers, persistent: true }, (error: unknown) => (error ? reject(error as Error) : resolve())));
        return;
      } catch (error) {
        if (attempt === 3) throw error;
      }
    }
  }

  async replyQueue(): Promise<string> {
    const name = `${this.names.queue}.replies.${this.replyQueues.size + 1}`;
    this.replyQueues.set(name, []);
    await this.listen(name);
    return name;
  }

  replies(replyTo: string): readonly ReceivedReply[] {
    return this.replyQueues.get(replyTo) ?? [];
  }

  deadLetters(): readonly ReceivedDeadLetter[] {
    return this.received;
  }

  async waitingRequests(): Promise<number> {
    return (await (await this.requesterReady).listener.checkQueue(this.names.queue)).messageCount;
  }

  async delayedRequests(): Promise<number> {
    return (await (await this.requesterReady).listener.checkQueue(this.names.delayQueue)).messageCount;
  }

  /** The requester's channel, for looking at the broker in ways the contract does not. */
  async channel(): Promise<Channel> {
    return (await this.requesterReady).listener;
  }

  /** The broker expires what waits in the delay queue on its own clock, which moves by itself. */
  letTimePass(): Promise<void> {
    return Promise.resolve();
  }

  /** rabbitmqctl stop_app, `whileDown`, start_app; then the requester reconnects. */
  async restart(whileDown?: () => Promise<void>): Promise<void> {
    const requester = this.requester;
    this.requester = undefined;
    let reconnected!: (requester: Promise<Requester>) => void;
    this.requesterReady = new Promise((resolve) => (reconnected = resolve));
    try {
      await this.control.stopApp();
      await whileDown?.();
    } finally {
      await this.control.startApp();
      await requester?.close();
      const connecting = this.connectRequester();
      reconnected(connecting);
      await connecting;
    }
  }

  summary(): string {
    const total = (key: 'reconnects' | 'duplicates' | 'answersPublishedOnReconnect') => this.queues.reduce((n, q) => n + q.stats()[key], 0);
    return `adapter: ${total('reconnects')} reconnects, ${total('answersPublishedOnReconnect')} answers published on reconnecting, ${total('duplicates')} redeliveries settled without a run`;
  }

  async close(): Promise<void> {
    await Promise.all(this.queues.map((q) => q.close()));
    const requester = this.requireRequester();
    const { listener } = requester;
    for (const name of [this.names.queue, this.names.deadLetterQueue, this.names.delayQueue, ...this.replyQueues.keys()]) await listener.deleteQueue(name);
    await listener.deleteExchange(this.names.deadLetterExchange);
    await requester.close();
  }

  private async connectRequester(): Promise<Requester> {
    const requester = await Requester.open(this.url);
    const { listener } = requester;
    // The same declarations as the adapter's, so requests can be published before a queue starts.
    await listener.assertExchange(this.names.deadLetterExchange, 'fanout', { durable: true });
    await listener.assertQueue(this.names.deadLetterQueue, { durable: true });
    await listener.bindQueue(this.names.deadLetterQueue, this.names.deadLetterExchange, '');
    await listener.assertQueue(this.names.queue, { durable: true, arguments: { 'x-dead-letter-exchange': this.names.deadLetterExchange } });
    await listener.assertQueue(this.names.delayQueue, { durable: true, arguments: delayQueueArguments(this.names) });
    this.requester = requester;
    await listener.consume(this.names.deadLetterQueue, (m) => {
      if (m !== null) this.received.push(deadLetterOf(m));
    }, { noAck: true });
    for (const name of this.replyQueues.keys()) await this.listen(name);
    return requester;
  }

  /** Consumes a reply queue without acks: each message arrives once, a broker redelivery cannot pose as a second answer. */
  private async listen(name: string): Promise<void> {
    const { listener } = this.requireRequester();
    await listener.assertQueue(name, { durable: true });
    await listener.consume(name, (m) => {
      if (m === null) return;
      const { status, body } = JSON.parse(m.content.toString()) as { status: number; body: unknown };
      this.replyQueues.get(name)?.push({ correlationId: m.properties.correlationId as string | undefined, status, body });
    }, { noAck: true });
  }

  private requireRequester(): Requester {
    if (this.requester === undefined) throw new Error('the requester is reconnecting');
    return this.requester;
  }
}

function deadLetterOf(message: ConsumeMessage): ReceivedDeadLetter {
  const authorization = message.properties.headers?.['authorization'] as unknown;
  return {
    body: message.content.toString(),
    messageId: message.properties.messageId as string | undefined,
    correlationId: message.properties.correlationId as string | undefined,
    reason: message.properties.headers?.['x-dynamos-reason'] as string | undefined,
    ...(authorization === undefined ? {} : { authorization: String(authorization) }),
  };
}
