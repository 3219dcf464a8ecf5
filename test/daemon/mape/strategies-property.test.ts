import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { seededRandom } from '../../../knowledge/seeded-random.js';
import type { Analysis } from '../../../daemon/mape/analyze.js';
import { analyze } from '../../../daemon/mape/analyze.js';
import type { Plan } from '../../../daemon/mape/plan.js';
import { plan } from '../../../daemon/mape/plan.js';
import { createStrategy, strategyConfigSchema } from '../../../daemon/mape/strategies/index.js';
import type { Ranking, Strategy } from '../../../daemon/mape/strategies/strategy.js';
import type { KnowledgeEvent } from '../../../knowledge/fold.js';
import type { KnowledgeSnapshot } from '../../../knowledge/knowledge-snapshot.js';
import { choiceKey, isOnline } from '../../../knowledge/knowledge-snapshot.js';
import type { MetricSample } from '../../../knowledge/ports/metrics-source.js';
import { marketplaceFrom, snapshotOf } from '../../support/fixtures.js';
import { foldAll, randomCase } from '../../support/marketplace-builder.js';

const now = 10_000_000;
const parties = ['S1', 'S2', 'S3', 'SURF', 'otherCompany', 'Nikhef'];
const strategies: readonly Strategy[] = [
  { name: 'utility' },
  { name: 'utility', options: { holdDownMs: 0, toleranceBand: 0, loadThreshold: 0.5, loadCap: 0.7 } },
  { name: 'threshold' },
].map((config) => createStrategy(strategyConfigSchema.parse(config)));

/** Random readings (some stale, some missing, some parties down), learned outcomes and data sizes. */
function randomKnowledge(k: KnowledgeSnapshot, seed: number): KnowledgeSnapshot {
  const rng = seededRandom(seed * 7919 + 17);
  const chance = (p: number) => rng() < p;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  const samples: MetricSample[] = [];
  const blind = chance(0.05);
  for (const party of parties) {
    const at = chance(0.03) ? now - 45_000 : now - Math.floor(rng() * 10_000);
    if (!blind && chance(0.98)) samples.push({ party, signal: 'cpu', value: rng(), at });
    if (!blind && chance(0.98)) samples.push({ party, signal: 'memory', value: rng() * rng(), at });
    if (chance(0.05)) samples.push({ party, signal: 'up', value: 0, at: now });
  }
  const events: KnowledgeEvent[] = [{ kind: 'metricsRead', reading: { at: now, samples, failures: [] } }];
  for (const archetype of ['computeToData', 'dataThroughTtp']) {
    const jobs = parties.filter(() => chance(0.4)).map((party) => ({ party, durationMs: rng() * 2_000, cpuSeconds: rng(), energyJoules: rng() * 5, dataBytes: chance(0.8) ? rng() * 5e7 : undefined }));
    if (jobs.length > 0) events.push({ kind: 'jobsFinished', archetype, jobs, at: now - 1_000 });
  }
  events.push({ kind: 'dataSizesKnown', bytes: Object.fromEntries(parties.filter(() => chance(0.5)).map((p) => [`${p}/${pick(['wageGap', 'grades'])}`, rng() * 1e8])) });
  if (chance(0.1)) events.push({ kind: 'partyMarked', party: pick(parties), offline: true, at: now });
  return foldAll(k, events);
}

/** A remembered choice, mostly for this requester and these stewards, of a pair that may or may not still be a candidate. */
function randomMemory(k: KnowledgeSnapshot, a: Analysis, seed: number): KnowledgeSnapshot {
  const rng = seededRandom(seed * 104_729 + 3);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)] as T;
  if (rng() < 0.3) return k;
  const stewards = a.authorised.map((g) => g.steward);
  const pairs = a.archetypes.flatMap((o) => (o.computeAt === 'dataProvider' ? [{ archetype: o.archetype }] : o.ttps.map((ttp) => ({ archetype: o.archetype, ttp }))));
  const remembered = rng() < 0.8 && pairs.length > 0 ? pick(pairs) : { archetype: pick(['computeToData', 'dataThroughTtp', 'gone']), ttp: pick(['SURF', 'Nikhef']) };
  const key = choiceKey(a.request.requester, rng() < 0.9 ? stewards : stewards.slice(1), a.request.type, a.request.options);
  const at = now - Math.floor(rng() * 120_000);
  // Mostly a switch (which starts a hold-down); otherwise a first choice (which does not).
  const before = rng() < 0.7 ? [{ kind: 'choiceMade' as const, key, archetype: remembered.archetype === 'computeToData' ? 'dataThroughTtp' : 'computeToData', at: at - 1 }] : [];
  return foldAll(k, [...before, { kind: 'choiceMade', key, ...remembered, at }]);
}

/** Policy is a hard constraint: a feasible option, with one of its online TTPs when it computes at one and none otherwise. */
function assertAllowed(k: KnowledgeSnapshot, a: Analysis, r: Ranking, at: string): void {
  if (r.choice === null) return;
  const { archetype, ttp } = r.choice;
  const option = a.archetypes.find((o) => o.archetype === archetype && o.feasible);
  assert.ok(option !== undefined, `${at}: chose ${archetype}, which is not feasible`);
  if (option.computeAt === 'dataProvider') assert.equal(ttp, undefined, `${at}: a TTP for ${archetype}`);
  else assert.ok(ttp !== undefined && option.ttps.includes(ttp) && isOnline(k, ttp), `${at}: ${archetype} at ${ttp}, allowed: ${option.ttps.join(', ')}`);
  assert.deepEqual([r.explainCandidates()[0]?.archetype, r.explainCandidates()[0]?.ttp, r.explainCandidates()[0]?.rank], [archetype, ttp, 1], `${at}: the choice ranks first`);
}

/** Every feasible candidate is in the explanation once, ranked 1..n, or excluded by a hard constraint with the reason. */
function assertEveryCandidateRanked(a: Analysis, r: Ranking, at: string): void {
  const fellBack = /fell back to the dynamos rules/.test(r.reason);
  const feasible = a.archetypes.filter((o) => o.feasible);
  const expected = fellBack ? feasible.map((o) => `${o.archetype} ${o.ttps[0] ?? ''}`) : feasible.flatMap((o) => (o.computeAt === 'dataProvider' ? [`${o.archetype} `] : o.ttps.map((t) => `${o.archetype} ${t}`)));
  const listed = r.explainCandidates().filter((c) => c.rank !== undefined || c.reason.startsWith('excluded: ')).map((c) => `${c.archetype} ${c.ttp ?? ''}`);
  assert.deepEqual([...listed].sort(), [...expected].sort(), `${at}: candidates`);
  const ranks = r.explainCandidates().flatMap((c) => (c.rank === undefined ? [] : [c.rank]));
  assert.deepEqual(ranks, ranks.map((_, i) => i + 1), `${at}: ranks`);
  if (r.choice === null && feasible.length > 0) assert.match(r.reason, /every candidate breaks a hard constraint/, at);
}

const dynamos = createStrategy({ name: 'dynamos' });

/** The replay plans with `explain: false`: the decision must not change, only the candidates go unworded. */
function assertSameWithoutWords(k: KnowledgeSnapshot, a: Analysis, s: Strategy, worded: Plan, at: string): void {
  const quiet = plan(k, a, s, { explain: false });
  assert.deepEqual(quiet, { ...worded, explanation: { ...worded.explanation, candidates: [] } }, `${at}: planning without words decides the same`);
}

describe('strategies: properties over random marketplaces, knowledge and requests', () => {
  it('choose only feasible options with an allowed online TTP, and rank every feasible candidate', () => {
    const seen = { decided: 0, fellBack: 0, throughTtp: 0, excluded: 0, kept: 0 };
    for (let seed = 1; seed <= 600; seed++) {
      const { config, request } = randomCase(seed);
      const unremembered = randomKnowledge(snapshotOf(marketplaceFrom(config), now), seed);
      const a = analyze(unremembered, request);
      const k = randomMemory(unremembered, a, seed);
      assertSameWithoutWords(k, a, dynamos, plan(k, a, dynamos), `seed ${seed}, dynamos`);
      for (const s of strategies) {
        const at = `seed ${seed}, ${s.name}`;
        const r = s.rank(k, a);
        assertAllowed(k, a, r, at);
        assertEveryCandidateRanked(a, r, at);
        const p = plan(k, a, s);
        assertSameWithoutWords(k, a, s, p, at);
        assert.ok(p.kind === 'deploy' || !/which policy or feasibility rules out/.test(p.message), `${at}: ${p.kind === 'deny' ? p.message : ''}`);
        if (r.choice !== null) seen.decided++;
        if (r.choice?.ttp !== undefined) seen.throughTtp++;
        if (/fell back/.test(r.reason)) seen.fellBack++;
        if (r.explainCandidates().some((c) => c.reason.startsWith('excluded: '))) seen.excluded++;
        if (r.reason.startsWith('kept ')) seen.kept++;
      }
    }
    for (const [what, n] of Object.entries(seen)) assert.ok(n >= (what === 'kept' ? 5 : 50), `too few cases to mean anything: ${what} ${n}`);
  });
});

describe('strategies: the registry', () => {
  const rows: readonly [config: unknown, name: string | undefined][] = [
    [{ name: 'dynamos' }, 'dynamos'],
    [{ name: 'threshold' }, 'threshold'],
    [{ name: 'threshold', options: { loadThreshold: 0.7 } }, 'threshold'],
    [{ name: 'utility', options: { holdDownMs: 30_000, weights: { energy: 1 } } }, 'utility'],
    [{ name: 'bandit' }, undefined],
    [{ name: 'dynamos', options: {} }, undefined],
    [{ name: 'utility', options: { holdDown: 30 } }, undefined],
    [{ name: 'threshold', options: { loadThreshold: 80 } }, undefined],
  ];
  for (const [config, name] of rows) {
    it(`${JSON.stringify(config)} → ${name ?? 'rejected'}`, () => {
      const parsed = strategyConfigSchema.safeParse(config);
      assert.equal(parsed.success ? createStrategy(parsed.data).name : undefined, name);
    });
  }
});
