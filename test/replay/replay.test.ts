import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { referenceMarketplace } from '../../replay/traces/golden-traces.js';
import { readTraceLines, writeTraceFile } from '../../replay/traces/trace-file.js';
import type { TraceEventInput } from '../../replay/traces/trace-format.js';
import { replayTrace } from '../../replay/replay.js';
import { replayToFiles } from '../../replay/replay-outputs.js';
import type { RequestRecord } from '../../replay/strategy-run.js';
import { generateTrace } from '../../replay/traces/scenarios.js';

const all = [{ name: 'dynamos' }, { name: 'threshold' }, { name: 'utility' }] as const;
const calm = (at: number): TraceEventInput[] =>
  ['UVA', 'VU', 'RUG', 'SURF', 'otherCompany'].map((party) => ({ kind: 'metrics', at, party, cpu: 0.3, memory: 0.4, up: 1 }));
const request = (id: string, at: number, aggregate = true): TraceEventInput => ({
  kind: 'request', at, id, requester: 'analyst@uva.example', requestType: 'sqlDataRequest', providers: ['UVA', 'VU'], tables: ['Personen', 'Aanstellingen'], algorithm: 'average', options: aggregate ? { aggregate: true } : {},
});

/** Replays hand-made events on the reference marketplace; every strategy's records. */
async function replayEvents(events: TraceEventInput[]) {
  const header = { kind: 'trace', version: 1, source: 'generated', durationMs: 60_000, marketplace: referenceMarketplace(), dataBytes: { 'UVA/wageGap': 25e6, 'VU/wageGap': 25e6, 'RUG/wageGap': 25e6 } };
  const records = new Map<string, RequestRecord[]>();
  const result = await replayTrace(await readTraceLines([JSON.stringify(header), ...events.map((e) => JSON.stringify(e))]), {
    strategies: all,
    seed: 1,
    onRecord: (s, r) => records.set(s, [...(records.get(s) ?? []), r]),
  });
  return { result, records };
}

describe('replay', () => {
  it('cancels a request in flight when its agreement is revoked, then runs the next without the steward, with no violation', async () => {
    const { result, records } = await replayEvents([...calm(0), request('r1', 1_000), { kind: 'agreement', at: 1_100, steward: 'UVA', agreement: { relations: {} } }, request('r2', 2_000)]);
    for (const [strategy, [r1, r2]] of records) {
      assert.equal(r1?.result, 'cancelled', strategy);
      assert.equal(r1?.endAt, 1_100);
      assert.match(r1?.reason ?? '', /AGREEMENT_REVOKED/);
      assert.equal(r2?.result, 'completed', strategy);
    }
    assert.ok(result.summaries.every((s) => s.policyViolations === 0 && s.results.cancelled === 1));
  });

  it('fails a request whose steward goes down under it, and leaves the steward out while it is down', async () => {
    const { records } = await replayEvents([...calm(0), request('r1', 1_000), { kind: 'metrics', at: 1_050, party: 'UVA', up: 0 }, request('r2', 2_000, false)]);
    for (const [strategy, [r1, r2]] of records) {
      assert.equal(r1?.result, 'failed', strategy);
      assert.match(r1?.reason ?? '', /UVA went offline/);
      assert.equal(r2?.result, 'completed', strategy);
    }
  });

  it('moves aggregation off an overloaded TTP with threshold and utility, while dynamos stays', async () => {
    const hot: TraceEventInput[] = [...calm(0).filter((e) => e.kind === 'metrics' && e.party !== 'SURF'), { kind: 'metrics', at: 0, party: 'SURF', cpu: 0.9, memory: 0.4, up: 1 }];
    const { records } = await replayEvents([...hot, request('r1', 1_000)]);
    assert.equal(records.get('dynamos')?.[0]?.choice, 'dataThroughTtp@SURF');
    assert.equal(records.get('threshold')?.[0]?.choice, 'dataThroughTtp@otherCompany');
    assert.equal(records.get('utility')?.[0]?.choice, 'dataThroughTtp@otherCompany');
    const [slow, fast] = [records.get('dynamos')?.[0] as RequestRecord, records.get('utility')?.[0] as RequestRecord];
    assert.ok(slow.latencyMs > 2 * fast.latencyMs, `SURF at 90 % is slower: ${slow.latencyMs} vs ${fast.latencyMs}`);
    assert.ok(fast.utility > slow.utility);
  });

  it('writes the same bytes for the same trace and seed, and other decisions for another seed', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(path.join(tmpdir(), 'replay-'));
    try {
      const file = path.join(dir, 'noisy.jsonl');
      writeTraceFile(file, generateTrace('noisy-threshold', referenceMarketplace(), { seed: 3, durationMs: 120_000 }));
      const [a, b, c] = [path.join(dir, 'a'), path.join(dir, 'b'), path.join(dir, 'c')];
      await replayToFiles(file, { strategies: all, seed: 1, outDir: a });
      await replayToFiles(file, { strategies: all, seed: 1, outDir: b });
      await replayToFiles(file, { strategies: all, seed: 2, outDir: c });
      const files = readdirSync(a).sort();
      assert.deepEqual(files, ['archetype-over-time.svg', 'decisions-dynamos.jsonl', 'decisions-threshold.jsonl', 'decisions-utility.jsonl', 'energy-over-time.svg', 'latency-over-time.svg', 'report.csv', 'report.json']);
      for (const f of files) assert.ok(readFileSync(path.join(a, f)).equals(readFileSync(path.join(b, f))), `${f} differs between two runs`);
      assert.notEqual(readFileSync(path.join(a, 'decisions-utility.jsonl'), 'utf8'), readFileSync(path.join(c, 'decisions-utility.jsonl'), 'utf8'));
      for (const svg of files.filter((f) => f.endsWith('.svg'))) {
        const text = readFileSync(path.join(a, svg), 'utf8');
        assert.match(text, /^<svg/);
        // As text a reader sees (a legend or facet label), not only in the marks' aria labels.
        for (const strategy of ['dynamos', 'threshold', 'utility']) assert.ok(text.includes(`>${strategy}</text>`), `${svg} shows ${strategy}`);
      }
      const csv = readFileSync(path.join(a, 'report.csv'), 'utf8').trim().split('\n');
      assert.equal(csv.length, 4);
      assert.ok(csv[0]?.startsWith('strategy,requests,authorised,denied'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a trace whose marketplace is invalid, naming the field', async () => {
    const header = { kind: 'trace', version: 1, source: 'generated', durationMs: 1_000, marketplace: { ...referenceMarketplace(), archetypes: {} } };
    await assert.rejects(async () => replayTrace(await readTraceLines([JSON.stringify(header)]), { strategies: all, seed: 1 }), /marketplace|archetype/);
  });
});
