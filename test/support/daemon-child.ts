/**
 * A daemon in a process of its own, for tests that kill it: `node --import tsx daemon-child.ts
 * '<settings JSON>'` starts it and prints `ready <pid> <runnerId> <url>`, then serves until killed.
 */
import { startDaemon, localRunnerOf } from '../../daemon/start-daemon.js';

const daemon = await startDaemon(JSON.parse(process.argv[2] ?? '{}') as Parameters<typeof startDaemon>[0]);
process.stdout.write(`ready ${process.pid} ${localRunnerOf(daemon).runnerId} ${daemon.url}\n`);
