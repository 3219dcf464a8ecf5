/* eslint-disable @typescript-eslint/no-explicit-any -- answers and InfluxQL rows are JSON read field by field */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import amqp from 'amqplib';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { TestExporter } from '../adapters/prometheus/test-exporter.js';
import { parseExposition } from '../daemon/telemetry/exposition.js';
import { setTargetGroup } from '../daemon/telemetry/prometheus-targets.js';
import { exampleData } from '../support/example-data.js';
import type { ExampleData } from '../support/example-data.js';
import { exampleMarketplaceFile } from '../support/fixtures.js';
import { RabbitMqControl } from '../support/servers/rabbitmq-control.js';
import { requireTestServerEnv } from '../support/servers/server-env.js';
import { analyst, bearer } from '../support/tokens.js';

/** Polls `probe` until it returns a value, at most `limitMs`: the servers work in real time. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, limitMs = 30_000): Promise<T> {
  const deadline = Date.now() + limitMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${limitMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const request = (providers: string[], options: Record<string, boolean>) => ({
  type: 'sqlDataRequest',
  user: { id: '1', userName: 'analyst@uva.example' },
  dataProviders: providers,
  data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options, requestMetadata: {} },
});

describe('the daemon with real Prometheus, RabbitMQ and InfluxDB', function () {
  let env: { prom: string; targets: string; amqp: string; influx: string };
  let data: ExampleData;
  let exporter: TestExporter;
  let daemon: RunningDaemon;
  const database = `dynamos_it_${randomUUID().slice(0, 8)}`;
  const queue = `dynamos.requests.it.${randomUUID().slice(0, 8)}`;

  before(async function () {
    env = {
      prom: requireTestServerEnv(this, 'PROM_URL'),
      targets: requireTestServerEnv(this, 'PROM_TARGETS_FILE'),
      amqp: requireTestServerEnv(this, 'RABBITMQ_URL'),
      influx: requireTestServerEnv(this, 'INFLUX_URL'),
    };
    data = await exampleData(200);
    const marketplaceFile = path.join(data.dir, 'marketplace.yaml');
    copyFileSync(exampleMarketplaceFile, marketplaceFile);
    writeFileSync(marketplaceFile, readFileSync(marketplaceFile, 'utf8').replaceAll('allowedComputeProviders: [SURF]', 'allowedComputeProviders: [SURF, otherCompany]'));
    exporter = await TestExporter.start(env.targets);
    exporter.add({ VU: { cpu: 0.2, memory: 0.3 }, UVA: { cpu: 0.2, memory: 0.3 }, SURF: { cpu: 0.9, memory: 0.3 }, otherCompany: { cpu: 0.1, memory: 0.2 } });
    daemon = await startDaemon(
      {
        port: 0,
        marketplaceFile,
        dataDir: data.dir,
        decisionLogFile: path.join(data.dir, 'decisions.jsonl'),
        runner: { warmProcesses: 2 },
        strategy: { name: 'utility' },
        loop: { periodMs: 1_000 },
        metrics: { source: 'prometheus', prometheus: { url: env.prom, rateWindow: '5s' } },
        amqp: { url: env.amqp, queue, deadLetterQueue: `${queue}.dead`, deadLetterExchange: `${queue}.dlx` },
        influx: { url: env.influx, database, flushIntervalMs: 100 },
      },
      { logger: silentLogger },
    );
    await setTargetGroup(env.targets, new URL(daemon.url).host, { targets: [new URL(daemon.url).host], labels: { job_kind: 'dynamos-daemon' } });
  });
  after(async () => {
    await daemon?.close();
    if (env !== undefined) await setTargetGroup(env.targets, new URL(daemon.url).host, undefined).catch(() => undefined);
    await exporter?.close();
    if (env !== undefined) await fetch(`${env.influx}/query?q=${encodeURIComponent(`DROP DATABASE "${database}"`)}`, { method: 'POST' }).catch(() => undefined);
    data?.remove();
  });

  it('reads the parties\' load from Prometheus and moves the TTP choice away from an overloaded SURF', async () => {
    const surf = await eventually('SURF cpu in the knowledge', async () => {
      const v = daemon.knowledge.current().nodes['SURF']?.latest.cpu?.value;
      return v !== undefined && Math.abs(v - 0.9) < 0.02 ? v : undefined;
    });
    assert.ok(surf > 0.8);
    const answer = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body: JSON.stringify(request(['VU', 'UVA'], { aggregate: true })), headers: await bearer(daemon, analyst) });
    const json = (await answer.json()) as any;
    assert.equal(answer.status, 200);
    assert.deepEqual([json.archetype, json.ttp], ['dataThroughTtp', 'otherCompany']);
    assert.equal(json.decision.strategy, 'utility');
    assert.match(json.decision.candidates.find((c: any) => c.ttp === 'SURF').reason, /SURF cpu 9\d(\.\d+)? % is at or over 80 %/);
  });

  it('is scraped by Prometheus, which serves its request counter back', async () => {
    const value = await eventually('dynamos_requests_total in Prometheus', async () => {
      const r = (await (await fetch(`${env.prom}/api/v1/query?query=${encodeURIComponent('sum(dynamos_requests_total{job_kind="dynamos-daemon"})')}`)).json()) as any;
      const v = Number(r.data?.result?.[0]?.value?.[1]);
      return v >= 1 ? v : undefined;
    });
    assert.ok(value >= 1);
  });

  it('answers a request that came over AMQP on its replyTo, with the correlation id, and times it', async () => {
    const timed = async () => parseExposition(await daemon.metrics.text()).samples.filter((s) => s.name === 'dynamos_request_duration_seconds_count').reduce((n, s) => n + s.value, 0);
    const timedBefore = await timed();
    const connection = await amqp.connect(env.amqp);
    try {
      const channel = await connection.createChannel();
      const { queue: replies } = await channel.assertQueue('', { exclusive: true });
      const correlationId = randomUUID();
      const reply = new Promise<any>((resolve) => {
        void channel.consume(replies, (m) => m !== null && resolve({ id: m.properties.correlationId, body: JSON.parse(m.content.toString()) }), { noAck: true });
      });
      const headers = await bearer(daemon, analyst); // the token travels in the message's authorization header
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request(['UVA'], { aggregate: false }))), { correlationId, replyTo: replies, persistent: true, messageId: correlationId, headers });
      const answer = await reply;
      assert.equal(answer.id, correlationId);
      assert.equal(answer.body.status, 200);
      assert.deepEqual(answer.body.body.results.map((r: any) => r.computedBy), ['UVA']);
      // Observed once the broker confirmed the answer, like the request's final record.
      assert.ok(await eventually('the AMQP request in dynamos_request_duration_seconds', async () => ((await timed()) > timedBefore ? true : undefined)));
    } finally {
      await connection.close();
    }
  });

  it('answers 401 on the replyTo to a request over AMQP without a token, and 403 to one whose body names someone else', async () => {
    const connection = await amqp.connect(env.amqp);
    try {
      const channel = await connection.createChannel();
      const { queue: replies } = await channel.assertQueue('', { exclusive: true });
      const answers = new Map<string, any>();
      await channel.consume(replies, (m) => void (m !== null && answers.set(m.properties.correlationId as string, JSON.parse(m.content.toString()))), { noAck: true });
      const mallory = { ...request(['UVA'], { aggregate: false }), user: { id: '2', userName: 'mallory@evil.example' } };
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(request(['UVA'], { aggregate: false }))), { correlationId: 'anonymous', messageId: randomUUID(), replyTo: replies });
      channel.sendToQueue(queue, Buffer.from(JSON.stringify(mallory)), { correlationId: 'impostor', messageId: randomUUID(), replyTo: replies, headers: await bearer(daemon, analyst) });
      await eventually('both answers', async () => (answers.size === 2 ? true : undefined));
      assert.deepEqual([answers.get('anonymous').status, answers.get('anonymous').body.code], [401, 'UNAUTHENTICATED']);
      assert.deepEqual([answers.get('impostor').status, answers.get('impostor').body.code], [403, 'FORBIDDEN']);
    } finally {
      await connection.close();
    }
  });

  it('loses nothing and answers nothing twice when the broker restarts under load', async function () {
    this.timeout(180_000);
    const control = RabbitMqControl.fromEnv();
    assert.ok(control !== undefined, 'RABBITMQ_CTL_ENV is set by the test servers script');
    const total = 40;
    const connection = await amqp.connect(env.amqp);
    const answers = new Map<string, number>();
    // A reply this client took whose ack died with the broker comes again, marked redelivered: the
    // same reply, not a second answer. Two answers are two replies the broker never delivered before.
    const count = (m: amqp.ConsumeMessage) => {
      const id = m.properties.correlationId as string;
      if (m.fields.redelivered && answers.has(id)) return;
      answers.set(id, (answers.get(id) ?? 0) + 1);
    };
    try {
      const channel = await connection.createChannel();
      const replyQueue = `${queue}.replies`;
      await channel.assertQueue(replyQueue, { durable: true });
      await channel.consume(replyQueue, (m) => {
        if (m === null) return;
        count(m);
        channel.ack(m);
      });
      for (let i = 0; i < total; i++) {
        const id = `load-${i}`;
        channel.sendToQueue(queue, Buffer.from(JSON.stringify(request(['UVA'], { aggregate: false }))), { correlationId: id, messageId: id, replyTo: replyQueue, persistent: true, headers: await bearer(daemon, analyst) });
      }
      await eventually('half the answers', async () => (answers.size >= total / 2 ? true : undefined), 120_000);
      await control.restart();
    } finally {
      await connection.close().catch(() => undefined);
    }
    // The client's own connection died with the broker; listen again for the rest.
    const again = await amqp.connect(env.amqp);
    try {
      const channel = await again.createChannel();
      await channel.consume(`${queue}.replies`, (m) => {
        if (m === null) return;
        count(m);
        channel.ack(m);
      });
      await eventually('every answer', async () => (answers.size === total ? true : undefined), 120_000);
    } finally {
      await again.close();
    }
    assert.equal(answers.size, total, 'none lost');
    assert.deepEqual([...answers.values()].filter((n) => n !== 1), [], 'none answered twice');
  });

  it('writes its decisions to InfluxDB', async () => {
    const count = await eventually('decisions in InfluxDB', async () => {
      const r = (await (await fetch(`${env.influx}/query?db=${database}&q=${encodeURIComponent('SELECT count(latency_ms) FROM decisions')}`)).json()) as any;
      const n = Number(r.results?.[0]?.series?.[0]?.values?.[0]?.[1]);
      return n >= 2 ? n : undefined;
    });
    assert.ok(count >= 2);
    const samples = (await (await fetch(`${env.influx}/query?db=${database}&q=${encodeURIComponent(`SELECT last(value) FROM samples WHERE party = 'SURF' AND signal = 'cpu'`)}`)).json()) as any;
    assert.ok(Number(samples.results?.[0]?.series?.[0]?.values?.[0]?.[1]) > 0.8, 'and the samples it read');
  });
});
