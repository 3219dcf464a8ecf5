import type { Command } from 'commander';
import type { DaemonConfigInput } from '../config.js';
import { startDaemon } from '../start-daemon.js';
import { loadSettingsFile } from '../settings-file.js';
import { exitBadConfig, processOutput, reportProblems } from './check-config.js';
import { integer } from './options.js';

interface ServeOptions {
  settings?: string;
  config?: string;
  dataDir?: string;
  host?: string;
  port?: number;
  rows?: number;
  force?: boolean;
  warm?: number;
  deadlineMs?: number;
  strategy?: 'dynamos' | 'threshold' | 'utility';
  metrics?: 'local' | 'none';
  prometheusUrl?: string;
  amqpUrl?: string;
  influxUrl?: string;
  decisionLog?: string;
  record?: string;
  logLevel?: DaemonConfigInput['logLevel'];
}

/** Flags on top of the settings file: a flag given wins, one not given leaves the file's value. */
export function mergeServeOptions(file: DaemonConfigInput, o: ServeOptions): DaemonConfigInput {
  const set = <K extends keyof DaemonConfigInput>(key: K, value: DaemonConfigInput[K] | undefined) => (value === undefined ? {} : { [key]: value });
  const metrics = o.prometheusUrl !== undefined ? { source: 'prometheus' as const, prometheus: { url: o.prometheusUrl } } : o.metrics === undefined ? undefined : { source: o.metrics };
  return {
    ...file,
    ...set('marketplaceFile', o.config),
    ...set('dataDir', o.dataDir),
    ...set('host', o.host),
    ...set('port', o.port),
    ...set('exampleRows', o.rows),
    ...(o.force === true ? { regenerateExampleData: true } : {}),
    ...set('jobDeadlineMs', o.deadlineMs),
    ...set('logLevel', o.logLevel),
    ...set('decisionLogFile', o.decisionLog),
    ...set('recordFile', o.record),
    ...set('metrics', metrics),
    ...(o.strategy === undefined ? {} : { strategy: { name: o.strategy } }),
    ...(o.warm === undefined ? {} : { runner: { ...file.runner, warmProcesses: o.warm } }),
    ...(o.amqpUrl === undefined ? {} : { amqp: { ...file.amqp, url: o.amqpUrl } }),
    ...(o.influxUrl === undefined ? {} : { influx: { ...file.influx, url: o.influxUrl } }),
  };
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the daemon on this machine; with no --config, the example marketplace (UVA, VU, RUG, SURF) on generated data')
    .option('--settings <file>', 'deployment settings (YAML): strategy, loop, monitoring, RabbitMQ, InfluxDB, … (docs/deployment.md)')
    .option('--config <file>', 'marketplace config (YAML); the bundled example when absent')
    .option('--data-dir <dir>', 'where table files resolve (the example generates its data here)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port to listen on, 0 picks one (default 8080)', integer(0, 65535))
    .option('--rows <n>', 'rows per steward of the generated example data (default 10000); data already in --data-dir must have them', integer(1))
    .option('--force', 'regenerate the example data even over the files already in --data-dir (docs/marketplace-config.md#the-example-data)')
    .option('--warm <n>', 'job processes kept started and waiting (default 3)', integer(0, 64))
    .option('--deadline-ms <ms>', 'kill a job this long after it starts (default 600000)', integer(1))
    .option('--strategy <name>', 'archetype strategy: dynamos, threshold or utility (default dynamos)')
    .option('--metrics <source>', 'where load comes from: local or none (default local)')
    .option('--prometheus-url <url>', 'read the parties\' load and energy from this Prometheus')
    .option('--amqp-url <url>', 'also take requests from RabbitMQ at this URL')
    .option('--influx-url <url>', 'write decisions and samples to this InfluxDB 1.x')
    .option('--decision-log <file>', 'the hash-chained decision log (default data/decisions.jsonl)')
    .option('--record <file>', 'record the run as an experiment trace (JSON Lines) for `dynamos replay` (docs/traces.md)')
    .option('--log-level <level>', 'debug, info, warn, error or silent (default info)')
    .action(async (opts: ServeOptions) => {
      const file = opts.settings === undefined ? { ok: true as const, settings: {} } : await loadSettingsFile(opts.settings);
      if (!file.ok) {
        reportProblems(file.problems, processOutput);
        process.exitCode = exitBadConfig;
        return;
      }
      // A bad setting, a port in use or data it would overwrite: startDaemon throws CONFIG_INVALID, and main.ts exits 2.
      const daemon = await startDaemon(mergeServeOptions(file.settings, opts));
      processOutput.out(`DYNAMOS is serving the ${daemon.marketplace().name} marketplace at ${daemon.url} (strategy ${daemon.config.strategy.name})`);
      const key = daemon.auditKey;
      processOutput.out(`decisions are logged to ${daemon.config.decisionLogFile}, signed with audit key ${key.keyId} (${key.publicFile}; GET /api/v1/audit/key serves it):`);
      processOutput.out(key.publicPem.trimEnd());
      if (daemon.recorder !== undefined) processOutput.out(`recording the run to ${daemon.recorder.file}; stop with Ctrl-C (SIGINT) or SIGTERM to close it`);
      processOutput.out(`send the original request: npm run dynamos -- request experiments/requests/wage-gap.json --url ${daemon.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await daemon.close();
    });
}
