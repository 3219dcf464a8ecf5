/**
 * Runs a command with the test servers up: RabbitMQ, Prometheus and InfluxDB on private loopback
 * ports (installed from Debian when missing), their addresses in the command's environment, all
 * stopped when the command ends, fails, or this script gets SIGINT/SIGTERM. Exits with the
 * command's status. See docs/testing.md.
 *
 *   node --import tsx scripts/with-test-servers.ts -- <command...>
 *
 * SKIP_TEST_SERVERS=1 runs the command without servers (real-server tests then skip).
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import { startTestServers, type RunningTestServers } from '../test/support/servers/test-servers.js';

const log = (line: string) => process.stderr.write(`[test-servers] ${line}\n`);

const separator = process.argv.indexOf('--');
const command = separator === -1 ? process.argv.slice(2) : process.argv.slice(separator + 1);
if (command.length === 0) {
  log('usage: node --import tsx scripts/with-test-servers.ts -- <command...>');
  process.exit(2);
}

let servers: RunningTestServers | undefined;
let stopping: Promise<void> | undefined;
let signalled: NodeJS.Signals | undefined;
let child: ReturnType<typeof spawn> | undefined = undefined;

const stopServers = (): Promise<void> => (stopping ??= servers?.stop() ?? Promise.resolve());

async function finish(status: number): Promise<never> {
  await stopServers();
  process.exit(status);
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(signal, () => {
    signalled ??= signal;
    // The command (if running) gets the signal too and ends; its exit stops the servers.
    if (child !== undefined && child.exitCode === null) child.kill(signal);
    else if (child === undefined && servers !== undefined) void finish(128 + os.constants.signals[signal]);
  });
}

if (process.env['SKIP_TEST_SERVERS'] === '1') {
  log('SKIP_TEST_SERVERS=1: running without servers; real-server tests will skip');
} else {
  try {
    servers = await startTestServers(log);
  } catch (error) {
    log((error as Error).message);
    process.exit(1);
  }
  if (signalled !== undefined) await finish(128 + os.constants.signals[signalled]);
}

const [file, ...args] = command as [string, ...string[]];
child = spawn(file, args, { stdio: 'inherit', env: { ...process.env, ...servers?.env } });
child.once('error', (error) => {
  log(`could not run ${file}: ${error.message}`);
  void finish(127);
});
child.once('exit', (code, signal) => {
  void finish(code ?? 128 + (signal !== null ? os.constants.signals[signal] : 1));
});
