import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TraceEventInput, TraceHeaderInput } from '../../../replay/traces/trace-format.js';
import { readTraceFile, readTraceLines, TraceWriter } from '../../../replay/traces/trace-file.js';
import { DynamosError } from '../../../knowledge/errors.js';
import { exampleConfig } from '../../support/fixtures.js';

const header = (): TraceHeaderInput => ({ kind: 'trace', version: 1, source: 'generated', scenario: { name: 'steady', seed: 7, parameters: {} }, durationMs: 60_000, marketplace: exampleConfig(), dataBytes: { 'UVA/wageGap': 25e6 } });
const events: TraceEventInput[] = [
  { kind: 'metrics', at: 0, party: 'SURF', cpu: 0.3, memory: 0.4, up: 1 },
  { kind: 'request', at: 1_000, id: 'r1', requester: 'analyst@uva.example', requestType: 'sqlDataRequest', providers: ['UVA', 'VU'], tables: ['Personen'], algorithm: 'average', options: { aggregate: true } },
  { kind: 'agreement', at: 2_000, steward: 'UVA', agreement: { relations: {} } },
  { kind: 'party', at: 3_000, party: 'SURF', online: false },
  { kind: 'outcome', at: 3_500, requestId: 'r1', result: 'completed', archetype: 'dataThroughTtp', ttp: 'SURF', latencyMs: 480, jobs: [{ party: 'UVA', durationMs: 300, cpuSeconds: 0.3, energyJoules: 0.8, dataBytes: 25e6 }] },
];
const lines = (...rest: string[]) => [JSON.stringify(header()), ...rest];

async function collect(reader: Awaited<ReturnType<typeof readTraceLines>>) {
  const out = [];
  for await (const e of reader.events()) out.push(e);
  return out;
}

async function problemOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof DynamosError && error.code === 'CONFIG_INVALID', String(error));
    return error.message;
  }
  assert.fail('expected the trace to be refused');
}

describe('trace files (format version 1)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-trace-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('reads back what was written, with defaults filled in, byte for byte the same when written again', async () => {
    const file = path.join(dir, 'a.jsonl');
    const writer = TraceWriter.create(file, header());
    for (const e of events) writer.write(e);
    writer.close();
    const reader = await readTraceFile(file);
    assert.equal(reader.header.scenario?.seed, 7);
    const back = await collect(reader);
    assert.deepEqual(back.map((e) => e.kind), ['metrics', 'request', 'agreement', 'party', 'outcome']);
    const again = path.join(dir, 'b.jsonl');
    const copy = TraceWriter.create(again, reader.header);
    for (const e of back) copy.write(e);
    copy.close();
    assert.equal(readFileSync(again, 'utf8'), readFileSync(file, 'utf8'));
  });

  it('names the line and field of a bad event, and yields the good lines before it', async () => {
    const reader = await readTraceLines(lines(JSON.stringify(events[0]), JSON.stringify({ ...events[1], providers: [] })));
    const seen: string[] = [];
    const message = await problemOf(
      (async () => {
        for await (const e of reader.events()) seen.push(e.kind);
      })(),
    );
    assert.deepEqual(seen, ['metrics']);
    assert.match(message, /line 3: providers: .*>=1/);
  });

  const refused: [string, string[], RegExp][] = [
    ['an empty file', [], /line 1: the trace is empty/],
    ['a header of another version', [JSON.stringify({ ...header(), version: 2 })], /line 1: version: this build reads trace version 1, not 2/],
    ['a line that is not JSON', lines('{"kind":'), /line 2: not JSON/],
    ['an unknown event kind', lines('{"kind":"weather","at":1}'), /line 2: kind/],
    ['time going backwards', lines(JSON.stringify({ ...events[0], at: 5 }), JSON.stringify({ ...events[0], at: 4 })), /line 3: at: time goes backwards: 4 after 5/],
    ['an event past the duration', lines(JSON.stringify({ ...events[0], at: 60_001 })), /line 2: at: 60001 is past the trace's durationMs 60000/],
    ['a CPU over 1', lines(JSON.stringify({ ...events[0], cpu: 1.5 })), /line 2: cpu/],
    ['a generated trace without its length', [JSON.stringify({ ...header(), durationMs: undefined })], /line 1: durationMs: a generated trace gives its length/],
  ];
  for (const [what, text, message] of refused) {
    it(`refuses ${what} with a precise message`, async () => {
      assert.match(await problemOf(readTraceLines(text).then(collect)), message);
    });
  }

  it('refuses to write an event that goes back in time, and leaves what was written intact', async () => {
    const file = path.join(dir, 'c.jsonl');
    const writer = TraceWriter.create(file, header());
    writer.write(events[1] as TraceEventInput);
    assert.throws(() => writer.write({ ...(events[0] as TraceEventInput), at: 10 }), /time goes backwards/);
    writer.close();
    assert.equal((await collect(await readTraceFile(file))).length, 1);
  });

  it('gives a recorded trace without durationMs the time of its last event, read from the end of the file', async () => {
    const file = path.join(dir, 'recorded.jsonl');
    const { scenario: _scenario, durationMs: _durationMs, ...rest } = header();
    const writer = TraceWriter.create(file, { ...rest, source: 'recorded', recordedAt: 1_700_000_000_000 });
    // Over 64 KiB of lines, with names of several bytes per character, so the end is read in more than one chunk.
    for (let at = 0; at < 3_000; at++) writer.write({ kind: 'metrics', at, party: 'Université-Ω', cpu: 0.5 });
    writer.close();
    appendFileSync(file, '\n\n'); // blank lines are not events
    const reader = await readTraceFile(file);
    assert.equal(reader.header.durationMs, undefined);
    assert.equal(reader.durationMs, 2_999);
    assert.equal((await collect(reader)).length, 3_000, 'every event is still streamed, none is past the length');
  });

  it('gives a trace with durationMs in its header that length', async () => {
    const reader = await readTraceLines(lines());
    assert.equal(reader.durationMs, 60_000);
  });
});
