import type { Command } from 'commander';
import { DynamosError } from '../../knowledge/errors.js';
import type { LogLevel } from '../logger.js';
import type { RunningDaemon } from '../start-daemon.js';
import { startDaemon } from '../start-daemon.js';
import { processOutput } from './check-config.js';
import { integer } from './options.js';

interface ServeOptions {
  config?: string;
  dataDir?: string;
  host: string;
  port: number;
  rows: number;
  warm: number;
  deadlineMs?: number;
  logLevel: LogLevel;
}

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the daemon on this machine; with no --config, the example marketplace (UVA, VU, RUG, SURF) on generated data')
    .option('--config <file>', 'marketplace config (YAML); the bundled example when absent')
    .option('--data-dir <dir>', 'where table files resolve (the example generates its data here)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on (0 picks one)', integer(0, 65535), 8080)
    .option('--rows <n>', 'rows per steward of the generated example data', integer(1), 10_000)
    .option('--warm <n>', 'job processes kept started and waiting', integer(0, 64), 3)
    .option('--deadline-ms <ms>', 'kill a job this long after it starts', integer(1))
    .option('--log-level <level>', 'debug, info, warn, error or silent', 'info')
    .action(async (opts: ServeOptions) => {
      let daemon: RunningDaemon;
      try {
        daemon = await startDaemon({
          host: opts.host,
          port: opts.port,
          exampleRows: opts.rows,
          runner: { warmProcesses: opts.warm },
          logLevel: opts.logLevel,
          ...(opts.config === undefined ? {} : { marketplaceFile: opts.config }),
          ...(opts.dataDir === undefined ? {} : { dataDir: opts.dataDir }),
          ...(opts.deadlineMs === undefined ? {} : { jobDeadlineMs: opts.deadlineMs }),
        });
      } catch (error) {
        if (error instanceof DynamosError && error.code === 'CONFIG_INVALID') {
          processOutput.err(error.message);
          process.exitCode = 2;
          return;
        }
        throw error;
      }
      processOutput.out(`DYNAMOS is serving the ${daemon.marketplace.name} marketplace at ${daemon.url}`);
      processOutput.out(`send the original request: npm run dynamos -- request experiments/requests/wage-gap.json --url ${daemon.url}`);
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await daemon.close();
    });
}
