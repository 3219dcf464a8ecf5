/**
 * One replay in a fresh process, for the replay figures: `node replay-child.js TRACE dynamos,threshold,utility`.
 * Prints the wall time of the replay alone, the requests, and the process's peak RSS.
 */
import { replayTrace } from '../../replay/replay.js';
import { readTraceFile } from '../../replay/traces/trace-file.js';

const [file, list] = process.argv.slice(2) as [string, string];
const strategies = list.split(',').map((name) => ({ name })) as { name: 'dynamos' | 'threshold' | 'utility' }[];
const started = performance.now();
const result = await replayTrace(await readTraceFile(file), { strategies, seed: 1 });
const wallMs = performance.now() - started;
process.stdout.write(`${JSON.stringify({ wallMs, requests: result.requests, maxRssMB: process.resourceUsage().maxRSS / 1024 })}\n`);
