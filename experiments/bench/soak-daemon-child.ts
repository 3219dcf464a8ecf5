/**
 * The daemon of the soak, in a process of its own so its memory can be read apart from the load:
 * `node soak-daemon-child.js '<settings JSON>'` prints `ready <url> <runnerId>` (`-` in cluster
 * mode, whose jobs are no processes of this machine's runner) and serves until
 * SIGTERM, then closes and exits.
 */
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';

const daemon = await startDaemon(JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startDaemon>[0]);
process.stdout.write(`ready ${daemon.url} ${'runnerId' in daemon.runner ? localRunnerOf(daemon).runnerId : '-'}\n`);
process.once('SIGTERM', () => {
  void daemon.close().then(() => process.exit(0));
});
