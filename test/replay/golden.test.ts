import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { replayTrace } from '../../replay/replay.js';
import type { StrategySummary } from '../../replay/replay-stats.js';
import { goldenDecisions, goldenDir, liveChoices, referenceMarketplace } from '../../replay/traces/golden-traces.js';
import { readTraceFile, readTraceLines, traceLinesOf } from '../../replay/traces/trace-file.js';
import { generateTrace } from '../../replay/traces/scenarios.js';
import type { ScenarioName } from '../../replay/traces/scenarios.js';

const traces = readdirSync(goldenDir).filter((f) => f.endsWith('.jsonl') && !f.endsWith('.decisions.jsonl')).sort();

/** docs/conventions.md#tests: replay tests. A difference means decisions changed: if on purpose, `npm run replay:update` and review the diff. */
describe('golden replays (replay/traces/golden)', function () {
  this.timeout(60_000);

  it('ships golden traces', () => assert.ok(traces.length >= 5, traces.join(', ')));

  for (const trace of traces) {
    it(`decides ${trace} as its golden file says`, async () => {
      const expected = readFileSync(path.join(goldenDir, trace.replace(/\.jsonl$/, '.decisions.jsonl')), 'utf8');
      const actual = await goldenDecisions(path.join(goldenDir, trace));
      if (actual !== expected) {
        const a = actual.split('\n');
        const line = expected.split('\n').findIndex((l, i) => l !== a[i]);
        assert.fail(`${trace}: decisions differ from line ${line + 1}:\n  golden: ${expected.split('\n')[line]}\n  now:    ${a[line]}\n(run npm run replay:update if the change is meant)`);
      }
    });
  }

  it('ships a trace recorded from a live run (npm run replay:record)', async () => {
    const recorded: string[] = [];
    for (const trace of traces) if ((await readTraceFile(path.join(goldenDir, trace))).header.source === 'recorded') recorded.push(trace);
    assert.ok(recorded.length >= 1, `no recorded trace among ${traces.join(', ')}`);
  });

  it('replays the recorded run with the strategy it ran: every live denial and at least 95 % of the live choices come back', async () => {
    const file = path.join(goldenDir, 'recorded-reference.jsonl');
    const reader = await readTraceFile(file);
    assert.ok(reader.header.strategy !== undefined, 'the recording names its strategy');
    const replayed = new Map<string, string>();
    await replayTrace(reader, { strategies: [reader.header.strategy], seed: 1, onRecord: (_, r) => replayed.set(r.id, r.choice ?? 'denied') });
    const live = await liveChoices(file);
    assert.ok(live.size > 100, `${live.size} requests`);
    const deniedLive = [...live].filter(([, c]) => c === 'denied').map(([id]) => id);
    assert.ok(deniedLive.length > 0, 'the live run denied some requests (the machine ran at its load cap)');
    assert.deepEqual(deniedLive.filter((id) => replayed.get(id) !== 'denied'), [], 'live denials the replay served');
    const same = [...live].filter(([id, c]) => replayed.get(id) === c).length;
    assert.ok(same / live.size >= 0.95, `${same} of ${live.size} choices as live`);
  });

  it('decides differently when the trace is mutated: SURF overloaded in the first minute', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'golden-'));
    try {
      const original = readFileSync(path.join(goldenDir, 'ttp-overload.jsonl'), 'utf8').split('\n');
      const mutated = original.map((line, i) => {
        if (i === 0 || line === '') return line;
        const event = JSON.parse(line) as { kind: string; party?: string; at: number; cpu?: number };
        return event.kind === 'metrics' && event.party === 'SURF' && event.at < 60_000 ? JSON.stringify({ ...event, cpu: 0.99 }) : line;
      });
      const file = path.join(dir, 'ttp-overload.jsonl');
      writeFileSync(file, mutated.join('\n'));
      const golden = readFileSync(path.join(goldenDir, 'ttp-overload.decisions.jsonl'), 'utf8').split('\n');
      const now = (await goldenDecisions(file)).split('\n');
      const changed = now.filter((l, i) => l !== golden[i]).map((l) => JSON.parse(l) as { at: number; threshold: string });
      assert.ok(changed.length > 0, 'the mutation changed no decision');
      assert.ok(changed.some((d) => d.at < 60_000 && d.threshold.startsWith('dataThroughTtp@otherCompany')), 'threshold leaves the overloaded SURF');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** docs/replay.md#reference-scenarios: the expected outcome, checked. */
describe('reference scenarios', function () {
  this.timeout(60_000);
  for (const scenario of ['ttp-overload', 'steward-overload', 'noisy-threshold'] as ScenarioName[]) {
    it(`${scenario}: utility reaches higher utility than dynamos and threshold, with 0 violations and ≤ 1 switch per hold-down`, async () => {
      const reader = await readTraceLines(traceLinesOf(generateTrace(scenario, referenceMarketplace(), { seed: 11, durationMs: 1_200_000 })));
      const { summaries } = await replayTrace(reader, { strategies: [{ name: 'dynamos' }, { name: 'threshold' }, { name: 'utility' }], seed: 1 });
      const by = Object.fromEntries(summaries.map((s) => [s.strategy, s])) as Record<string, StrategySummary>;
      const { dynamos, threshold, utility } = by as Record<'dynamos' | 'threshold' | 'utility', StrategySummary>;
      assert.ok(utility.utilityMean > dynamos.utilityMean && utility.utilityMean > threshold.utilityMean, `utility ${utility.utilityMean}, dynamos ${dynamos.utilityMean}, threshold ${threshold.utilityMean}`);
      for (const s of summaries) assert.equal(s.policyViolations, 0, s.strategy);
      assert.ok(utility.maxSwitchesPerHoldDown <= 1, `utility switched ${utility.maxSwitchesPerHoldDown} times in one hold-down`);
    });
  }
});
