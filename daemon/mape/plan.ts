import { createHash } from 'node:crypto';
import type { AlgorithmName } from '../../knowledge/catalog.js';
import { algorithms } from '../../knowledge/catalog.js';
import type { ChainExplanation, DecisionExplanation } from '../../knowledge/decision.js';
import type { KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import { memoKey } from '../../knowledge/memo-key.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { AnonymizationRules, ColumnRule } from '../../knowledge/marketplace/marketplace-schema.js';
import { tableFile } from '../../knowledge/marketplace/load-marketplace.js';
import type { JobSpec, TableSource } from '../../knowledge/ports/job-runner.js';
import type { Analysis } from './analyze.js';
import type { PartyChain } from './chain.js';
import { buildChains } from './chain.js';
import type { ProviderGrant } from './policy.js';
import type { Strategy, StrategyChoice } from './strategies/strategy.js';

export type Plan =
  | {
      readonly kind: 'deny';
      /** NO_CAPACITY: policy allows it, but every way to run it is overloaded or offline now. */
      readonly reason: 'NO_AUTHORISED_PROVIDER' | 'NO_FEASIBLE_ARCHETYPE' | 'NO_CAPACITY';
      readonly message: string;
      readonly explanation: DecisionExplanation;
    }
  | {
      readonly kind: 'deploy';
      readonly archetype: string;
      readonly ttp?: string;
      readonly jobs: readonly JobSpec[];
      readonly explanation: DecisionExplanation;
    };

export interface PlanOptions {
  /**
   * Put every candidate into words (`explanation.candidates`). The replay turns it off: it reads
   * only the choice, and the decision is the same either way (tested).
   * @default true
   */
  readonly explain?: boolean;
}

/**
 * Plan (MAPE-K): the strategy ranks the feasible archetypes; the choice becomes one job per party
 * with its chain, its tables and its wiring. Pure.
 */
export function plan(k: KnowledgeSnapshot, a: Analysis, strategy: Strategy, options: PlanOptions = {}): Plan {
  const m = k.marketplace;
  const ranking = strategy.rank(k, a);
  const candidates = options.explain === false ? [] : ranking.explainCandidates();
  const explain = (reason: string, chains: readonly ChainExplanation[] = []): DecisionExplanation => ({
    strategy: strategy.name,
    policyRevision: a.policyRevision,
    candidates,
    choice: ranking.choice,
    reason,
    chains,
  });
  if (a.authorised.length === 0) {
    const message = 'No data provider authorises this request.';
    return { kind: 'deny', reason: 'NO_AUTHORISED_PROVIDER', message, explanation: explain(message) };
  }
  if (ranking.choice === null) {
    return { kind: 'deny', reason: ranking.retryable === true ? 'NO_CAPACITY' : 'NO_FEASIBLE_ARCHETYPE', message: ranking.reason, explanation: explain(ranking.reason) };
  }
  const { archetype, ttp } = ranking.choice;
  if (!allowedByAnalysis(a, ranking.choice)) {
    const message = `strategy ${strategy.name} chose ${archetype}${ttp === undefined ? '' : ` at ${ttp}`}, which policy or feasibility rules out`;
    return { kind: 'deny', reason: 'NO_FEASIBLE_ARCHETYPE', message, explanation: explain(message) };
  }
  const chains = buildChains(m, a.request, archetype, a.authorised.map((g) => g.steward), ttp);
  if (!chains.ok) {
    const message = `${archetype} cannot run: ${chains.reason}`;
    return { kind: 'deny', reason: 'NO_FEASIBLE_ARCHETYPE', message, explanation: explain(message) };
  }
  const { jobs, explained } = deploymentOf(m, a, chains.chains, ttp);
  return { kind: 'deploy', archetype, ...(ttp === undefined ? {} : { ttp }), jobs, explanation: explain(ranking.reason, explained) };
}

/**
 * Policy is a hard constraint (docs/mape-k-loop.md#strategies): whatever a strategy returns, only a feasible option of
 * the analysis runs, with one of its TTPs when it computes at a TTP and none otherwise.
 */
function allowedByAnalysis(a: Analysis, choice: StrategyChoice): boolean {
  const option = a.archetypes.find((o) => o.archetype === choice.archetype && o.feasible);
  if (option === undefined) return false;
  return option.computeAt === 'other' ? choice.ttp !== undefined && option.ttps.includes(choice.ttp) : choice.ttp === undefined;
}

/**
 * One job per party with its chain, tables and wiring, and the chains as the decision explains
 * them: a chain whose job anonymises at the source says what it does to which column, so the
 * record shows what was applied as well as why. One pass: this runs for every request (and every
 * replayed one).
 */
function deploymentOf(m: Marketplace, a: Analysis, chains: readonly PartyChain[], ttp: string | undefined): { jobs: JobSpec[]; explained: ChainExplanation[] } {
  const req = a.request;
  const ttpChain = chains.find((c) => c.partyKind === 'computeProvider');
  const stewards = chains.filter((c) => c.partyKind === 'dataSteward').map((c) => c.party);
  const grants = new Map(a.authorised.map((g) => [g.steward, g]));
  const request = { type: req.type, query: req.query, algorithm: req.algorithm, options: req.options, requester: req.requester };
  const minimised = ttpChain === undefined ? undefined : columnsTheTtpNeeds(ttpChain.services, req.algorithm);
  const jobs: JobSpec[] = [];
  const explained: ChainExplanation[] = [];
  // Plain literals, not spreads: this runs for every job of every request (and of every replayed one).
  for (const chain of chains) {
    const { party, partyKind, services } = chain;
    const name = jobName(req.id, party);
    if (partyKind === 'computeProvider') {
      const streams = services.includes('sql-aggregate') ? 1 : stewards.length;
      jobs.push({ name, requestId: req.id, party, services, request, partyKind: 'computeProvider', tables: [], inputs: stewards, output: { to: 'requester', streams } });
      explained.push(explanationOf(chain));
      continue;
    }
    const data = stewardData(m, grants.get(party) as ProviderGrant);
    const output = ttp === undefined ? ({ to: 'requester', streams: 1 } as const) : ({ to: 'party', party: ttp } as const);
    const { tables, anonymization } = data;
    // The steward's anonymisation shapes its tables before the query whenever its chain has sql-anonymize
    // (mandated, or switched on by an option); check-config keeps sql-anonymize at the steward.
    if (!services.includes('sql-anonymize')) {
      jobs.push(
        minimised === undefined
          ? { name, requestId: req.id, party, services, request, partyKind: 'dataSteward', tables, inputs: [], output }
          : { name, requestId: req.id, party, services, request, partyKind: 'dataSteward', tables, inputs: [], output, outputColumns: minimised },
      );
      explained.push(explanationOf(chain));
      continue;
    }
    jobs.push(
      minimised === undefined
        ? { name, requestId: req.id, party, services, request, partyKind: 'dataSteward', tables, anonymization, inputs: [], output }
        : { name, requestId: req.id, party, services, request, partyKind: 'dataSteward', tables, anonymization, inputs: [], output, outputColumns: minimised },
    );
    explained.push(explanationOf(chain, data));
  }
  return { jobs, explained };
}

/**
 * A chain as the decision explains it, with what its job's anonymisation does when `anonymized`.
 * Chains and steward data are kept per marketplace revision, so their explanation is made once
 * and shared by the decisions that repeat it (it is never changed).
 */
function explanationOf(chain: PartyChain, anonymized?: StewardData): ChainExplanation {
  let byData = explanations.get(chain);
  if (byData === undefined) explanations.set(chain, (byData = new WeakMap()));
  const key = anonymized ?? plainChain;
  let explained = byData.get(key);
  if (explained === undefined) {
    const { party, role, services, notes } = chain;
    explained = { party, role, services, notes: anonymized === undefined ? notes : [...notes, anonymized.note] };
    byData.set(key, explained);
  }
  return explained;
}

const explanations = new WeakMap<PartyChain, WeakMap<StewardData, ChainExplanation>>();
/** The key of a chain explained without anonymisation. */
const plainChain: StewardData = { tables: [], anonymization: {}, note: '' };

/**
 * The columns a TTP's chain reads, when it is only aggregation followed by an algorithm that
 * names its columns; otherwise undefined (send everything).
 */
function columnsTheTtpNeeds(services: readonly string[], algorithm: AlgorithmName): readonly string[] | undefined {
  const at = services.indexOf('sql-algorithm');
  if (at < 0 || !services.slice(0, at).every((s) => s === 'sql-aggregate')) return undefined;
  return algorithms[algorithm].requiredColumns;
}

type StewardData = { readonly tables: readonly TableSource[]; readonly anonymization: AnonymizationRules; readonly note: string };

/** Kept per marketplace revision (its object) and steward's datasets: requests repeat. */
const stewardDataMemo = new WeakMap<Marketplace, Map<string, StewardData>>();

function stewardData(m: Marketplace, grant: ProviderGrant): StewardData {
  let memo = stewardDataMemo.get(m);
  if (memo === undefined) stewardDataMemo.set(m, (memo = new Map()));
  const key = memoKey([grant.steward, grant.datasets]);
  let data = memo.get(key);
  if (data === undefined) {
    if (memo.size >= 4096) memo.clear();
    memo.set(key, (data = readStewardData(m, grant)));
  }
  return data;
}

function readStewardData(m: Marketplace, grant: ProviderGrant): StewardData {
  const steward = m.dataStewards[grant.steward];
  const tables: TableSource[] = [];
  const anonymization: Record<string, Record<string, ColumnRule>> = {};
  for (const name of grant.datasets) {
    const dataset = m.datasets[name];
    const held = steward?.datasets[name];
    if (dataset === undefined || held === undefined) continue;
    for (const [table, file] of Object.entries(held.tables)) {
      tables.push({ name: table, file: tableFile(m, file), format: dataset.format, delimiter: dataset.delimiter });
      const rules = mergedRules(dataset.anonymization[table], held.anonymization[table]);
      if (Object.keys(rules).length > 0) anonymization[table] = rules;
    }
  }
  return { tables, anonymization, note: anonymizationNote(anonymization) };
}

/** The dataset's rules for a table with the steward's on top: a steward's rule for a column replaces the dataset's. */
function mergedRules(
  ofDataset: Readonly<Record<string, ColumnRule>> | undefined,
  ofSteward: Readonly<Record<string, ColumnRule>> | undefined,
): Record<string, ColumnRule> {
  const merged: Record<string, ColumnRule> = {};
  const overridden = new Set(Object.keys(ofSteward ?? {}).map((c) => c.toLowerCase()));
  for (const [column, rule] of Object.entries(ofDataset ?? {})) if (!overridden.has(column.toLowerCase())) merged[column] = rule;
  return Object.assign(merged, ofSteward);
}

/** E.g. `sql-anonymize: at the source, before the query: Personen: Unieknr pseudonymized, Gebdat to its year`. */
function anonymizationNote(rules: AnonymizationRules): string {
  const tables = Object.entries(rules).map(([table, columns]) => `${table}: ${Object.entries(columns).map(([c, r]) => `${c} ${ruleInWords(r)}`).join(', ')}`);
  return `sql-anonymize: at the source, before the query: ${tables.length === 0 ? 'no rule for these tables' : tables.join('; ')}`;
}

function ruleInWords(rule: ColumnRule): string {
  if (rule === 'remove') return 'removed';
  if (rule === 'pseudonymize') return 'pseudonymized';
  switch (rule.generalize) {
    case 'year':
      return 'to its year';
    case 'prefix':
      return `to its first ${rule.length} characters`;
    case 'bucket':
      return `to buckets of ${rule.width}`;
    default: {
      const _exhaustive: never = rule;
      return String(_exhaustive);
    }
  }
}

/**
 * A DNS-1123 label, so the same name works for a local process and a Kubernetes Job. A name past
 * 63 characters is cut and ends in a hash of request id and party, so it stays unique per request
 * and party (cutting alone gave every party of a long request id the same name).
 */
const dnsLabel = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

export function jobName(requestId: string, party: string): string {
  const raw = `${requestId}-${party}`.toLowerCase();
  // Most names are labels already (request ids are generated): one test instead of two rewrites.
  const name = dnsLabel.test(raw) ? raw : raw.replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  if (name.length <= 63) return name;
  const digest = createHash('sha256').update(JSON.stringify([requestId, party])).digest('hex').slice(0, 8);
  return `${name.slice(0, 54).replace(/-+$/, '')}-${digest}`;
}
