import assert from 'node:assert/strict';
import { createInfluxTelemetrySink } from '../../adapters/influx/index.js';
import { createLocalJobRunner } from '../../adapters/local/index.js';
import { createPrometheusMetricsSource } from '../../adapters/prometheus/index.js';
import { createRabbitMqRequestQueue } from '../../adapters/rabbitmq/index.js';
import { createThresholdStrategy, createUtilityStrategy } from '../../daemon/mape/strategies/index.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { energyModelFromMachine } from '../../knowledge/energy-model.js';
import { DynamosError } from '../../knowledge/errors.js';
import { systemClock } from '../../knowledge/ports/clock.js';
import { silentLogger } from '../../knowledge/ports/logger.js';

const deps = { logger: silentLogger, clock: systemClock };

/**
 * Every place that parses settings refuses bad ones the same way (knowledge/problems.ts
 * parseSettings): CONFIG_INVALID, a first line naming the settings, then each problem at its path.
 */
const rows: { rule: string; refuse: () => unknown; what: string; problem: string }[] = [
  { rule: 'the daemon config', refuse: () => startDaemon({ port: 70000 }), what: 'the daemon config', problem: 'port: ' },
  { rule: "the threshold strategy's options", refuse: () => createThresholdStrategy({ loadThreshold: 2 }), what: "the threshold strategy's options", problem: 'loadThreshold: ' },
  { rule: "the utility strategy's options", refuse: () => createUtilityStrategy({ holdDown: 5 } as never), what: "the utility strategy's options", problem: 'holdDown: unknown key' },
  { rule: 'an energy model from machine figures', refuse: () => energyModelFromMachine({ idleWatts: 300, maxWatts: 200, cpus: 4 }), what: "the machine's energy model", problem: 'maxWattsPerCpu: maxWattsPerCpu must be at least idleWattsPerCpu' },
  { rule: 'the job runner config', refuse: () => createLocalJobRunner({ warmProcesses: -1 }, deps), what: 'the job runner config', problem: 'warmProcesses: ' },
  { rule: "the daemon config's sites", refuse: () => startDaemon({ sites: { SURF: { linkMbit: 100 } } }), what: 'the daemon config', problem: 'sites.SURF.linkMbit: a link rate needs a link of its own: set network: true' },
  { rule: "the job runner's sites", refuse: () => createLocalJobRunner({}, { ...deps, sites: { SURF: { cpus: 0 } } }), what: 'the sites config', problem: 'SURF.cpus: ' },
  { rule: 'the RabbitMQ config', refuse: () => createRabbitMqRequestQueue({ url: 'notaurl' }, deps), what: 'the RabbitMQ config', problem: 'url: must be an amqp or amqps URL' },
  { rule: 'the InfluxDB config', refuse: () => createInfluxTelemetrySink({ url: 'notaurl' }, deps), what: 'the InfluxDB config', problem: 'url: must be an http or https URL' },
  { rule: 'the Prometheus config', refuse: () => createPrometheusMetricsSource({ url: 'notaurl' }, deps), what: 'the Prometheus config', problem: 'url: must be an http or https URL' },
];

describe('bad settings are refused one way, wherever they are parsed', () => {
  for (const row of rows) {
    it(`refuses ${row.rule} with CONFIG_INVALID, each problem at its path`, async () => {
      await assert.rejects(
        async () => row.refuse(),
        (error: unknown) => {
          assert.ok(error instanceof DynamosError, `expected a DynamosError, got ${String(error)}`);
          assert.equal(error.code, 'CONFIG_INVALID');
          const [head, ...problems] = error.message.split('\n');
          assert.equal(head, `${row.what} is invalid:`);
          assert.ok(problems.some((line) => line.startsWith(row.problem)), error.message);
          return true;
        },
      );
    });
  }
});
