import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';

const run = promisify(execFile);

export interface AmqpRestartFigures {
  readonly requests: number;
  readonly answered: number;
  readonly lost: number;
  readonly answeredTwice: number;
  readonly restartedAfterAnswers: number;
  readonly elapsedMs: number;
  readonly requestsPerSecond: number;
}

/**
 * Requests over RabbitMQ through the whole daemon (real single-use jobs), with the broker
 * restarted (rabbitmqctl stop_app / start_app) once half were answered. Counts every answer per
 * correlation id: none may be missing, none may come twice.
 */
export async function benchAmqpRestart(env: { amqpUrl: string; ctlEnv: Record<string, string> }, dataDir: string, marketplaceFile: string, scratch: string, total: number): Promise<AmqpRestartFigures> {
  const queue = `dynamos.bench.${process.pid}`;
  const daemon = await startDaemon(
    {
      port: 0,
      marketplaceFile,
      dataDir,
      decisionLogFile: path.join(scratch, 'amqp-decisions.jsonl'),
      logLevel: 'silent',
      watchConfig: false,
      amqp: { url: env.amqpUrl, queue, deadLetterQueue: `${queue}.dead`, deadLetterExchange: `${queue}.dlx` },
    },
    { logger: silentLogger },
  );
  const answers = new Map<string, number>();
  const replyQueue = `${queue}.replies`;
  const listen = async () => {
    const connection = await amqp.connect(env.amqpUrl);
    connection.on('error', () => undefined);
    const channel = await connection.createChannel();
    channel.on('error', () => undefined);
    await channel.assertQueue(replyQueue, { durable: true });
    await channel.consume(replyQueue, (m) => {
      if (m === null) return;
      const id = m.properties.correlationId as string;
      answers.set(id, (answers.get(id) ?? 0) + 1);
      channel.ack(m);
    });
    return connection;
  };
  const started = performance.now();
  let restartedAfter: number;
  try {
    const connection = await listen();
    const channel = await connection.createConfirmChannel();
    const body = Buffer.from(
      JSON.stringify({
        type: 'sqlDataRequest',
        user: { id: '1', userName: 'analyst@uva.example' },
        dataProviders: ['UVA'],
        data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'count', options: {}, requestMetadata: {} },
      }),
    );
    // The requester's token travels in the authorization header; it outlives the run.
    const headers = { authorization: `Bearer ${await daemon.mintToken('analyst@uva.example', { ttlMs: 2 * 3_600_000 })}` };
    for (let i = 0; i < total; i++) channel.sendToQueue(queue, body, { correlationId: `r${i}`, messageId: `r${i}`, replyTo: replyQueue, persistent: true, headers });
    await channel.waitForConfirms();
    await until(() => answers.size >= total / 2, 600_000);
    restartedAfter = answers.size;
    const ctl = '/usr/lib/rabbitmq/bin/rabbitmqctl';
    const ctlEnv = { ...process.env, ...env.ctlEnv };
    await run(ctl, ['stop_app'], { env: ctlEnv });
    await run(ctl, ['start_app'], { env: ctlEnv });
    await connection.close().catch(() => undefined);
    const again = await listen();
    try {
      await until(() => answers.size >= total, 600_000);
      await new Promise((resolve) => setTimeout(resolve, 2_000)); // a late duplicate would arrive now
    } finally {
      await again.close();
    }
  } finally {
    await daemon.close();
  }
  const elapsedMs = performance.now() - started;
  return {
    requests: total,
    answered: answers.size,
    lost: total - answers.size,
    answeredTwice: [...answers.values()].filter((n) => n > 1).length,
    restartedAfterAnswers: restartedAfter,
    elapsedMs: Math.round(elapsedMs),
    requestsPerSecond: Math.round((total / elapsedMs) * 1000 * 10) / 10,
  };
}

async function until(condition: () => boolean, limitMs: number): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('amqp bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
