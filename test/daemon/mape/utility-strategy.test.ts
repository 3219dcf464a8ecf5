import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { analyze } from '../../../daemon/mape/analyze.js';
import type { Ranking, Strategy } from '../../../daemon/mape/strategies/strategy.js';
import { headroomScore } from '../../../daemon/mape/strategies/utility-objectives.js';
import { createUtilityStrategy, utilityConfigSchema } from '../../../daemon/mape/strategies/utility-strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import type { JobLesson, KnowledgeEvent } from '../../../knowledge/fold.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { choiceKey } from '../../../knowledge/knowledge-snapshot.js';
import { dataRequest } from '../../support/fixtures.js';
import type { ConfigEdit, LoadSample } from '../../support/marketplace-builder.js';
import { analyst, archetypeWeight, foldAll, givenSnapshot, loadsRead, relation } from '../../support/marketplace-builder.js';

const now = 1_000_000;
const utility = createUtilityStrategy();
const load = (cpu: number, memory = 0.1): LoadSample => ({ cpu, memory });
const key = choiceKey(analyst, ['VU', 'UVA'], 'sqlDataRequest');
const only = (archetype: string) => ['VU', 'UVA'].map((s) => relation(s, { allowedArchetypes: [archetype] }));
const bothTtps = ['VU', 'UVA'].map((s) => relation(s, { allowedComputeProviders: ['SURF', 'otherCompany'] }));
const throughEitherTtp = [...only('dataThroughTtp'), ...bothTtps];
const chose = (archetype: string, ttp: string | undefined, at: number): KnowledgeEvent => ({ kind: 'choiceMade', key, archetype, ...(ttp === undefined ? {} : { ttp }), at });
/** A remembered choice that was a switch at `at` (a first choice is not a switch and starts no hold-down). */
const switchedTo = (archetype: string, ttp: string | undefined, at: number): KnowledgeEvent[] => [
  archetype === 'computeToData' ? chose('dataThroughTtp', 'SURF', at - 1) : chose('computeToData', undefined, at - 1),
  chose(archetype, ttp, at),
];

function decide(s: Strategy, k: KnowledgeSnapshot, request: Partial<DataRequest> = {}): Ranking {
  return s.rank(k, analyze(k, dataRequest(request)));
}
const given = (edits: readonly ConfigEdit[], events: readonly KnowledgeEvent[]) => foldAll(givenSnapshot(...edits), events);
const candidate = (r: Ranking, archetype: string, ttp?: string) => r.explainCandidates().find((c) => c.archetype === archetype && c.ttp === ttp);
const score = (r: Ranking, objective: string, archetype: string, ttp?: string) => candidate(r, archetype, ttp)?.objectives.find((o) => o.objective === objective);
const close = (actual: number | undefined, expected: number, what: string) => assert.ok(actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);

describe('utility strategy: objectives', () => {
  // One steward (VU, 2 MB, CPU 50 %) and SURF (idle CPU, memory 60 %), priors only.
  const k = given([], [{ kind: 'dataSizesKnown', bytes: { 'VU/wageGap': 2e6 } }, loadsRead(now, { VU: load(0.5), SURF: load(0, 0.6) })]);
  const r = decide(utility, k, { providers: ['VU'] });
  const rows: readonly { objective: string; rule: string; computeToData: number; throughSurf: number; reason: RegExp }[] = [
    {
      objective: 'latency',
      rule: '6 ms/MB × 2 MB × 1/(1−0.5) = 24 ms against 10 × 2 × 2 + 2 × 2 × 1 = 44 ms; best ÷ this',
      computeToData: 1,
      throughSurf: 24 / 44,
      reason: /^predicted 44 ms: slowest steward VU 10 ms\/MB \(prior\) × 2 MB × 2 \(cpu 50 %\) \+ SURF 2 ms\/MB \(prior\) × 2 MB × 1 \(cpu 0 %\); best 24 ms$/,
    },
    {
      objective: 'energy',
      rule: '0.006 CPU-s/MB × 2 MB × 2.76 W against (0.01 × 2 + 0.002 × 2) × 2.76 W; min ÷ this',
      computeToData: 1,
      throughSurf: 0.5,
      reason: /^predicted 0\.0662 J: VU 0\.0552 J \(prior 0\.01 CPU-s\/MB × 2 MB × 2\.76 W\), SURF 0\.011 J \(prior 0\.002 CPU-s\/MB × 2 MB × 2\.76 W\); best 0\.0331 J$/,
    },
    {
      objective: 'loadHeadroom',
      rule: 'highest load 0.5 → 1 − 0.5·0.5/0.8; with SURF’s memory 0.6 → 1 − 0.5·0.6/0.8',
      computeToData: 0.6875,
      throughSurf: 0.625,
      reason: /^highest load SURF memory 60 % \(threshold 80 %, cap 95 %\)$/,
    },
    { objective: 'policyPreference', rule: 'weight 100 scores 1, weight 200 scores 0', computeToData: 1, throughSurf: 0, reason: /^weight 200 \(lower is preferred; 100–200 here\)$/ },
  ];
  for (const row of rows) {
    it(`${row.objective}: ${row.rule}`, () => {
      close(score(r, row.objective, 'computeToData')?.score, row.computeToData, 'computeToData');
      close(score(r, row.objective, 'dataThroughTtp', 'SURF')?.score, row.throughSurf, 'dataThroughTtp at SURF');
      assert.match(score(r, row.objective, 'dataThroughTtp', 'SURF')?.reason ?? '', row.reason);
    });
  }

  it('utility = Σ weight × score with the default weights (0.35, 0.2, 0.3, 0.15), returned with the choice', () => {
    assert.deepEqual(r.choice?.archetype, 'computeToData');
    close(r.choice?.utility, 0.35 + 0.2 + 0.3 * 0.6875 + 0.15, 'choice.utility');
    assert.match(candidate(r, 'dataThroughTtp', 'SURF')?.reason ?? '', /^utility 0\.478$/);
  });

  it('normalises the weights to sum 1', () => {
    const halves = createUtilityStrategy({ weights: { latency: 2, energy: 0, loadHeadroom: 0, policyPreference: 2 } });
    close(decide(halves, k, { providers: ['VU'] }).choice?.utility, 1, 'computeToData: (1 + 1) / 2');
  });

  const headroom: readonly [load: number, score: number][] = [[0, 1], [0.4, 0.75], [0.8, 0.5], [0.875, 0.25], [0.95, 0], [1, 0]];
  for (const [L, expected] of headroom) {
    it(`loadHeadroom: highest load ${L} scores ${expected} (threshold 0.8, cap 0.95)`, () => close(headroomScore(L, 0.8, 0.95), expected, `L=${L}`));
  }

  it('counts an unmeasured dataset as 1 MB', () => {
    const blind = given([], [loadsRead(now, { VU: load(0), SURF: load(0) })]);
    assert.match(score(decide(utility, blind, { providers: ['VU'] }), 'latency', 'computeToData')?.reason ?? '', /VU 6 ms\/MB \(prior\) × 1 MB × 1/);
  });

  it('learns: a TTP that became slow loses to one that did not', () => {
    const calm = [loadsRead(now, { VU: load(0.2), UVA: load(0.2), SURF: load(0.2), otherCompany: load(0.2) })];
    const slowSurf: JobLesson = { party: 'SURF', durationMs: 100, cpuSeconds: 0.01, energyJoules: 0.02, dataBytes: 2e6 };
    const before = decide(utility, given(throughEitherTtp, calm));
    const after = decide(utility, given(throughEitherTtp, [...calm, { kind: 'jobsFinished', archetype: 'dataThroughTtp', jobs: [slowSurf], at: now }]));
    assert.deepEqual([before.choice?.ttp, after.choice?.ttp], ['SURF', 'otherCompany']);
    assert.match(score(after, 'latency', 'dataThroughTtp', 'SURF')?.reason ?? '', /SURF 50 ms\/MB \(learned\) × 2 MB/);
    assert.match(score(after, 'energy', 'dataThroughTtp', 'SURF')?.reason ?? '', /SURF 0\.01 J\/MB \(learned, 1 jobs\) × 2 MB/);
  });
});

describe('utility strategy: hard constraints', () => {
  const calm = { VU: load(0.2), UVA: load(0.2), SURF: load(0.2), otherCompany: load(0.2) };
  interface Row {
    readonly rule: string;
    readonly edits?: readonly ConfigEdit[];
    readonly events: readonly KnowledgeEvent[];
    readonly choice: { archetype: string; ttp?: string } | null;
    /** A candidate listed but excluded, and why; or one not listed at all. */
    readonly excluded?: { readonly pair: [string, string?]; readonly because: RegExp };
    readonly absent?: [string, string?];
    readonly because?: RegExp;
  }
  const rows: readonly Row[] = [
    {
      rule: 'load cap: a TTP at 96 % CPU is excluded',
      edits: throughEitherTtp,
      events: [loadsRead(now, { ...calm, SURF: load(0.96) })],
      choice: { archetype: 'dataThroughTtp', ttp: 'otherCompany' },
      excluded: { pair: ['dataThroughTtp', 'SURF'], because: /^excluded: SURF is at or over the 95 % load cap \(cpu 96 %\)$/ },
    },
    {
      rule: 'load cap: exactly 95 % memory is excluded',
      edits: throughEitherTtp,
      events: [loadsRead(now, { ...calm, otherCompany: load(0.1, 0.95) })],
      choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
      excluded: { pair: ['dataThroughTtp', 'otherCompany'], because: /^excluded: otherCompany is at or over the 95 % load cap \(memory 95 %\)$/ },
    },
    {
      rule: 'load cap: a steward at the cap excludes every candidate, and nothing is chosen',
      events: [loadsRead(now, { ...calm, VU: load(0.97) })],
      choice: null,
      because: /^every candidate breaks a hard constraint \(computeToData: VU is at or over the 95 % load cap \(cpu 97 %\); dataThroughTtp at SURF: VU is at/,
    },
    {
      rule: 'policy: an archetype a steward refuses is no candidate, however light',
      edits: [relation('VU', { allowedArchetypes: ['computeToData'] }), archetypeWeight('dataThroughTtp', 1)],
      events: [loadsRead(now, calm)],
      choice: { archetype: 'computeToData' },
      excluded: { pair: ['dataThroughTtp'], because: /^not allowed by VU$/ },
    },
    {
      rule: 'policy: a TTP no agreement allows is no candidate, however idle',
      edits: only('dataThroughTtp'),
      events: [loadsRead(now, { ...calm, SURF: load(0.7), otherCompany: load(0) })],
      choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
      absent: ['dataThroughTtp', 'otherCompany'],
    },
    {
      rule: 'online: a TTP marked offline is no candidate',
      edits: throughEitherTtp,
      events: [loadsRead(now, calm), { kind: 'partyMarked', party: 'SURF', offline: true, at: now }],
      choice: { archetype: 'dataThroughTtp', ttp: 'otherCompany' },
      absent: ['dataThroughTtp', 'SURF'],
    },
  ];
  for (const row of rows) {
    it(row.rule, () => {
      const r = decide(utility, given(row.edits ?? [], row.events));
      assert.deepEqual(r.choice === null ? null : { archetype: r.choice.archetype, ...(r.choice.ttp === undefined ? {} : { ttp: r.choice.ttp }) }, row.choice);
      if (row.because !== undefined) assert.match(r.reason, row.because);
      if (row.absent !== undefined) assert.equal(candidate(r, ...row.absent), undefined);
      if (row.excluded !== undefined) {
        const c = candidate(r, ...row.excluded.pair);
        assert.deepEqual([c?.feasible, c?.rank], [false, undefined]);
        assert.match(c?.reason ?? '', row.excluded.because);
      }
    });
  }

  it('online: keeps its own check when handed an analysis that still lists a TTP gone offline', () => {
    const k = given(throughEitherTtp, [loadsRead(now, calm)]);
    const a = analyze(k, dataRequest());
    const r = utility.rank(given(throughEitherTtp, [loadsRead(now, calm), { kind: 'partyMarked', party: 'SURF', offline: true, at: now }]), a);
    assert.equal(r.choice?.ttp, 'otherCompany');
    assert.equal(candidate(r, 'dataThroughTtp', 'SURF')?.reason, 'excluded: SURF is offline');
  });
});

describe('utility strategy: the 80 % rule is a tier above utility', () => {
  const policyOnly = createUtilityStrategy({ weights: { latency: 0, energy: 0, loadHeadroom: 0, policyPreference: 1 } });
  const headroomOnly = createUtilityStrategy({ weights: { latency: 0, energy: 0, loadHeadroom: 1, policyPreference: 0 } });
  const rows: readonly { rule: string; s: Strategy; edits: readonly ConfigEdit[]; loads: Record<string, LoadSample>; first: string; because: RegExp }[] = [
    { rule: 'every party under 80 %: the higher utility wins', s: policyOnly, edits: [archetypeWeight('dataThroughTtp', 50)], loads: { VU: load(0.2), UVA: load(0.2), SURF: load(0.5) }, first: 'dataThroughTtp SURF', because: /highest utility 1\.000, every party under 80 %/ },
    { rule: 'a candidate with a party over 80 % ranks below one without, whatever its utility', s: policyOnly, edits: [archetypeWeight('dataThroughTtp', 50)], loads: { VU: load(0.2), UVA: load(0.2), SURF: load(0.85) }, first: 'computeToData', because: /^computeToData: highest utility 0\.000, every party under 80 %$/ },
    { rule: 'every candidate over 80 %: utility decides within the tier', s: policyOnly, edits: [archetypeWeight('dataThroughTtp', 50)], loads: { VU: load(0.85), UVA: load(0.2), SURF: load(0.2) }, first: 'dataThroughTtp SURF', because: /though VU cpu 85 % is at or over 80 % \(so is a party of every candidate\)/ },
    { rule: 'a utility tie goes to the lower archetype weight', s: headroomOnly, edits: [], loads: { VU: load(0.2), UVA: load(0.2), SURF: load(0.2) }, first: 'computeToData', because: /highest utility 0\.875/ },
    { rule: 'a utility tie goes to the lower archetype weight, whichever it is', s: headroomOnly, edits: [archetypeWeight('dataThroughTtp', 50)], loads: { VU: load(0.2), UVA: load(0.2), SURF: load(0.2) }, first: 'dataThroughTtp SURF', because: /highest utility 0\.875/ },
    { rule: 'a utility and weight tie goes to marketplace order', s: headroomOnly, edits: throughEitherTtp, loads: { VU: load(0.2), UVA: load(0.2), SURF: load(0.2), otherCompany: load(0.2) }, first: 'dataThroughTtp SURF', because: /highest utility 0\.875/ },
  ];
  for (const row of rows) {
    it(row.rule, () => {
      const r = decide(row.s, given(row.edits, [loadsRead(now, row.loads)]));
      assert.equal([r.choice?.archetype, r.choice?.ttp].filter(Boolean).join(' '), row.first);
      assert.match(r.reason, row.because);
    });
  }

  it('says in the runner-up’s reason which party is over the threshold', () => {
    const r = decide(policyOnly, given([archetypeWeight('dataThroughTtp', 50)], [loadsRead(now, { VU: load(0.2), UVA: load(0.2), SURF: load(0.85) })]));
    assert.deepEqual([candidate(r, 'dataThroughTtp', 'SURF')?.rank, candidate(r, 'dataThroughTtp', 'SURF')?.reason], [2, 'utility 1.000; SURF cpu 85 % is at or over 80 %']);
  });
});

describe('utility strategy: hysteresis', () => {
  // Utility = load headroom, so each row's numbers read off the loads: 1 − 0.625·L under 80 %.
  const headroomOnly = createUtilityStrategy({ weights: { latency: 0, energy: 0, loadHeadroom: 1, policyPreference: 0 } });
  const rows: readonly { rule: string; surf: number; other: number; switchedAgoMs?: number; remembered?: [string, string?]; offline?: string; ttp: string; because: RegExp }[] = [
    { rule: 'no memory: the best candidate', surf: 0.3, other: 0.1, ttp: 'otherCompany', because: /^dataThroughTtp at otherCompany: highest utility 0\.938/ },
    { rule: 'the remembered choice is still the best', surf: 0.1, other: 0.3, switchedAgoMs: 5_000, ttp: 'SURF', because: /^dataThroughTtp at SURF: highest utility/ },
    { rule: 'a better candidate within the band does not switch, even long after', surf: 0.2, other: 0.15, switchedAgoMs: 600_000, ttp: 'SURF', because: /^kept dataThroughTtp at SURF: within the tolerance band \(dataThroughTtp at otherCompany scores 0\.906 against its 0\.875, band 0\.05\)$/ },
    { rule: 'a better candidate past the band does not switch within the hold-down', surf: 0.3, other: 0.1, switchedAgoMs: 20_000, ttp: 'SURF', because: /^kept dataThroughTtp at SURF: switched 20 s ago, hold-down 60 s \(dataThroughTtp at otherCompany scores 0\.938 against its 0\.813\)$/ },
    { rule: 'a better candidate past the band switches once the hold-down has passed', surf: 0.3, other: 0.1, switchedAgoMs: 60_000, ttp: 'otherCompany', because: /switched from dataThroughTtp at SURF: 0\.938 beats 0\.813 by more than the tolerance band \(0\.05\); last switch 60 s ago \(hold-down 60 s\)$/ },
    { rule: 'a better tier within the band switches once the hold-down has passed', surf: 0.81, other: 0.79, switchedAgoMs: 61_000, ttp: 'otherCompany', because: /switched from dataThroughTtp at SURF: SURF cpu 81 % is at or over the 80 % threshold/ },
    { rule: 'a better tier does not switch within the hold-down', surf: 0.81, other: 0.79, switchedAgoMs: 30_000, ttp: 'SURF', because: /^kept dataThroughTtp at SURF: switched 30 s ago, hold-down 60 s \(.*, with every party under 80 %\)$/ },
    { rule: 'a choice over the load cap is left at once, within the hold-down', surf: 0.96, other: 0.5, switchedAgoMs: 1_000, ttp: 'otherCompany', because: /; left dataThroughTtp at SURF at once: SURF is at or over the 95 % load cap \(cpu 96 %\)$/ },
    { rule: 'a choice whose TTP went offline is left at once', surf: 0.1, other: 0.5, switchedAgoMs: 1_000, offline: 'SURF', ttp: 'otherCompany', because: /left dataThroughTtp at SURF at once: SURF is offline or not allowed by every steward$/ },
    { rule: 'a choice policy no longer allows is left at once', surf: 0.1, other: 0.5, switchedAgoMs: 1_000, remembered: ['computeToData'], ttp: 'SURF', because: /left computeToData at once: computeToData is not feasible \(not allowed by VU, UVA\)$/ },
  ];
  for (const row of rows) {
    it(row.rule, () => {
      const [archetype, ttp] = row.remembered ?? ['dataThroughTtp', 'SURF'];
      const memory = row.switchedAgoMs === undefined ? [] : switchedTo(archetype, ttp, now - row.switchedAgoMs);
      const offline: KnowledgeEvent[] = row.offline === undefined ? [] : [{ kind: 'partyMarked', party: row.offline, offline: true, at: now }];
      const k = given(throughEitherTtp, [...memory, ...offline, loadsRead(now, { VU: load(0, 0), UVA: load(0, 0), SURF: load(row.surf, 0), otherCompany: load(row.other, 0) })]);
      const r = decide(headroomOnly, k);
      assert.equal(r.choice?.ttp, row.ttp);
      assert.match(r.reason, row.because);
      assert.equal(r.explainCandidates()[0]?.ttp, row.ttp, 'the kept choice ranks first');
    });
  }
});

describe('utility strategy: the 80 % scenario, as the loop runs it', () => {
  // The stewards learned to be slow at analysing (80 ms/MB) and quick at sending (10 ms/MB); SURF
  // analyses at 2 ms/MB. With 25 MB each, dataThroughTtp at SURF wins while SURF is under 80 %.
  const lesson = (party: string, msPerMB: number, energyJoules: number, mb = 25): JobLesson => ({ party, durationMs: msPerMB * mb, cpuSeconds: 0, energyJoules, dataBytes: mb * 1e6 });
  const learned: readonly KnowledgeEvent[] = [
    { kind: 'dataSizesKnown', bytes: { 'VU/wageGap': 25e6, 'UVA/wageGap': 25e6 } },
    { kind: 'jobsFinished', archetype: 'computeToData', jobs: [lesson('VU', 80, 2), lesson('UVA', 80, 2)], at: 0 },
    { kind: 'jobsFinished', archetype: 'dataThroughTtp', jobs: [lesson('VU', 10, 0.5), lesson('UVA', 10, 0.5), lesson('SURF', 2, 0.5, 50)], at: 0 },
  ];
  const surfAt = (at: number, cpu: number) => loadsRead(at, { VU: load(0.2), UVA: load(0.2), SURF: load(cpu) });

  /** One request at `at`: decide on the knowledge, then record the choice as the loop does. */
  function requestAt(k: KnowledgeSnapshot, at: number, s: Strategy = utility): { k: KnowledgeSnapshot; r: Ranking } {
    const ticked = foldAll(k, [{ kind: 'tick', at }]);
    const r = decide(s, ticked);
    assert.ok(r.choice !== null, r.reason);
    return { k: foldAll(ticked, [{ kind: 'choiceMade', key, archetype: r.choice.archetype, ...(r.choice.ttp === undefined ? {} : { ttp: r.choice.ttp }), ...(r.choice.utility === undefined ? {} : { utility: r.choice.utility }), at }]), r };
  }

  it('SURF under 80 % → SURF; crosses → away at the next request; back under → returns only after the hold-down', () => {
    const steps: readonly { at: number; surf: number; choice: string; because: RegExp }[] = [
      { at: 100_000, surf: 0.3, choice: 'dataThroughTtp SURF', because: /^dataThroughTtp at SURF: highest utility 0\.794, every party under 80 %$/ },
      { at: 130_000, surf: 0.85, choice: 'computeToData', because: /switched from dataThroughTtp at SURF: SURF cpu 85 % is at or over the 80 % threshold; its first switch/ },
      { at: 160_000, surf: 0.3, choice: 'computeToData', because: /^kept computeToData: switched 30 s ago, hold-down 60 s \(dataThroughTtp at SURF scores 0\.794 against its 0\.551\)$/ },
      { at: 189_999, surf: 0.3, choice: 'computeToData', because: /^kept computeToData: switched 59\.9 s ago/ },
      { at: 190_000, surf: 0.3, choice: 'dataThroughTtp SURF', because: /switched from computeToData: 0\.794 beats 0\.551 by more than the tolerance band \(0\.05\); last switch 60 s ago/ },
    ];
    let k = given([], learned);
    for (const step of steps) {
      const next = requestAt(foldAll(k, [surfAt(step.at, step.surf)]), step.at);
      k = next.k;
      assert.equal([next.r.choice?.archetype, next.r.choice?.ttp].filter(Boolean).join(' '), step.choice, `at ${step.at / 1000} s`);
      assert.match(next.r.reason, step.because, `at ${step.at / 1000} s`);
    }
  });

  /** 10 minutes, a request every second, SURF reading 0.79 and 0.81 in turn every 5 s; the times of the switches. */
  function jitter(s: Strategy): number[] {
    let k = given([], learned);
    let last: string | undefined;
    const switches: number[] = [];
    for (let at = 0; at < 600_000; at += 1_000) {
      if (at % 5_000 === 0) k = foldAll(k, [surfAt(at, Math.floor(at / 5_000) % 2 === 0 ? 0.79 : 0.81)]);
      const next = requestAt(k, at, s);
      k = next.k;
      const choice = `${next.r.choice?.archetype} ${next.r.choice?.ttp ?? ''}`;
      if (last !== undefined && choice !== last) switches.push(at);
      last = choice;
    }
    return switches;
  }

  it('a SURF jittering around 80 % switches at most once per hold-down window', () => {
    const switches = jitter(utility);
    const perWindow = new Map<number, number>();
    for (const at of switches) perWindow.set(Math.floor(at / 60_000), (perWindow.get(Math.floor(at / 60_000)) ?? 0) + 1);
    assert.ok(switches.length >= 2, `the trace should make it switch, not freeze: ${switches.length} switches`);
    assert.ok([...perWindow.values()].every((n) => n <= 1), `switches per 60 s window: ${JSON.stringify([...perWindow])}`);
    switches.slice(1).forEach((at, i) => assert.ok(at - (switches[i] as number) >= 60_000, `switches at ${switches[i]} and ${at} ms`));
  });

  it('without hysteresis the same trace switches at every reading', () => {
    const eager = createUtilityStrategy({ holdDownMs: 0, toleranceBand: 0 });
    assert.equal(jitter(eager).length, 119);
  });
});

describe('utility strategy: blind, it falls back to the dynamos rules', () => {
  const rows: readonly { rule: string; loads: Record<string, LoadSample>; because: RegExp }[] = [
    {
      rule: 'a TTP’s readings are 45 s old (limit 30 s)',
      loads: { VU: load(0.2), UVA: load(0.2), SURF: { cpu: 0.2, memory: 0.1, observedAt: now - 45_000 } },
      because: /^metrics stale: SURF cpu 45 s old \(limit 30 s\), SURF memory 45 s old \(limit 30 s\); fell back to the dynamos rules \(computeToData: rule 2/,
    },
    { rule: 'a steward never reported its memory', loads: { VU: { cpu: 0.2 }, UVA: load(0.2), SURF: load(0.2) }, because: /^metrics missing: VU memory never read; fell back to the dynamos rules/ },
    {
      rule: 'one reading stale, another missing',
      loads: { VU: { cpu: 0.2, memory: 0.1, observedAt: now - 31_000 }, UVA: load(0.2) },
      because: /^metrics stale or missing: VU cpu 31 s old \(limit 30 s\), VU memory 31 s old \(limit 30 s\), SURF cpu never read, SURF memory never read; fell back/,
    },
    { rule: 'no metrics source at all', loads: {}, because: /^no metrics: no party has reported any reading; fell back to the dynamos rules \(computeToData: rule 2/ },
  ];
  for (const row of rows) {
    it(`when ${row.rule}`, () => {
      const r = decide(utility, given([], [loadsRead(now, row.loads)]));
      assert.deepEqual(r.choice, { archetype: 'computeToData' });
      assert.match(r.reason, row.because);
    });
  }

  it('ignores the readings of a party no candidate uses', () => {
    const r = decide(utility, given([], [loadsRead(now, { VU: load(0.2), UVA: load(0.2), SURF: load(0.2), otherCompany: { cpu: 0.2, memory: 0.1, observedAt: 0 } })]));
    assert.match(r.reason, /^computeToData: highest utility/);
  });
});

describe('utility strategy: the explanation', () => {
  it('lists every candidate, ranked ones first, each with four scored and reasoned objectives', () => {
    const k = given(bothTtps, [loadsRead(now, { VU: load(0.2), UVA: load(0.2), SURF: load(0.5), otherCompany: load(0.97) })]);
    const r = decide(utility, k);
    assert.deepEqual(
      r.explainCandidates().map((c) => [c.archetype, c.ttp, c.feasible, c.rank]),
      [
        ['computeToData', undefined, true, 1],
        ['dataThroughTtp', 'SURF', true, 2],
        ['dataThroughTtp', 'otherCompany', false, undefined],
      ],
    );
    for (const c of r.explainCandidates()) {
      assert.deepEqual(c.objectives.map((o) => o.objective), ['latency', 'energy', 'loadHeadroom', 'policyPreference'], `${c.archetype} ${c.ttp}`);
      for (const o of c.objectives) assert.ok(o.score >= 0 && o.score <= 1 && o.reason.length > 0, `${c.archetype} ${c.ttp} ${o.objective}: ${o.score}`);
    }
    assert.match(score(r, 'latency', 'dataThroughTtp', 'otherCompany')?.reason ?? '', /otherCompany 2 ms\/MB \(prior\) × 2 MB × 20 \(cpu 97 %\)/);
    assert.match(score(r, 'loadHeadroom', 'dataThroughTtp', 'SURF')?.reason ?? '', /^highest load SURF cpu 50 % \(threshold 80 %, cap 95 %\)$/);
  });
});

describe('utility strategy: config', () => {
  it('defaults to the documented values', () => {
    const c = utilityConfigSchema.parse({});
    assert.deepEqual([c.holdDownMs, c.toleranceBand, c.loadThreshold, c.loadCap, c.weights], [60_000, 0.05, 0.8, 0.95, { latency: 0.35, energy: 0.2, loadHeadroom: 0.3, policyPreference: 0.15 }]);
    assert.deepEqual(c.priors.computeAtTtp, { stewardMsPerMB: 10, ttpMsPerMB: 2, stewardCpuSecondsPerMB: 0.01, ttpCpuSecondsPerMB: 0.002 });
  });

  const invalid: readonly [string, unknown][] = [
    ['a cap not above the threshold', { loadThreshold: 0.9, loadCap: 0.9 }],
    ['every weight zero', { weights: { latency: 0, energy: 0, loadHeadroom: 0, policyPreference: 0 } }],
    ['a negative hold-down', { holdDownMs: -1 }],
    ['an unknown key', { holdDown: 60 }],
  ];
  for (const [rule, input] of invalid) it(`rejects ${rule}`, () => assert.equal(utilityConfigSchema.safeParse(input).success, false));
});
