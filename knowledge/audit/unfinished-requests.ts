import type { UnsealedRecord } from './decision-log.js';
import { linesOf } from './decision-log.js';
import type { DecisionRecord } from './decision-record.js';

const startedMark = '"outcome":{"kind":"started"';
/** A record's own request id comes first in its line: `at` (a number) is the only key before it. */
const requestIdOf = /"requestId":"((?:[^"\\]|\\.)*)"/;

/**
 * The requests a log shows as started but never ended: their `started` record has no later record
 * of the same request id. After a daemon died, these are the requests it left in flight. Reads the
 * whole log once; only `started` lines are parsed whole.
 */
export async function unfinishedRequests(file: string): Promise<DecisionRecord[]> {
  const open = new Map<string, DecisionRecord>();
  for await (const line of linesOf(file)) {
    if (line.startsWith('{"checkpoint"')) continue;
    if (line.includes(startedMark)) {
      const record = JSON.parse(line) as DecisionRecord;
      if (record.outcome.kind === 'started') {
        open.set(record.requestId, record);
        continue;
      }
    }
    const id = requestIdOf.exec(line)?.[1];
    if (id !== undefined && open.size > 0) open.delete(JSON.parse(`"${id}"`) as string);
  }
  return [...open.values()];
}

/** The record that closes a request the daemon left in flight when it died. */
export function interruptedRecordFor(started: DecisionRecord, at: number): UnsealedRecord {
  const { seq: _seq, prevHash: _prev, hash: _hash, ...decision } = started;
  return {
    ...decision,
    at,
    outcome: {
      kind: 'interrupted',
      latencyMs: Math.max(0, at - started.at),
      bytes: 0,
      cpuSeconds: 0,
      energyJoules: 0,
      reason: `the daemon stopped while this request was in flight (started at record ${started.seq}); its jobs ended with it and no answer was sent`,
    },
  };
}
