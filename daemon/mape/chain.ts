import type { DataRequest } from '../../knowledge/data-request.js';
import type { ChainExplanation } from '../../knowledge/decision.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { topologicalOrder } from '../../knowledge/marketplace/service-graph.js';
import { memoKey } from '../../knowledge/memo-key.js';
import type { PartyKind } from '../../knowledge/ports/job-runner.js';
import { marketplaceIndex } from './marketplace-index.js';

export interface PartyChain extends ChainExplanation {
  readonly partyKind: PartyKind;
}

export type ChainResult =
  | { readonly ok: true; readonly chains: readonly PartyChain[] }
  | { readonly ok: false; readonly reason: string };

interface Selection {
  readonly services: readonly string[];
  readonly notes: readonly string[];
}

/**
 * The microservice chain of every party for one archetype (docs/architecture.md#one-request, Plan). Per steward: the
 * request type's required services, the optional services whose option flag is on, and the
 * services the steward mandates for this request type; services invalid under the archetype are
 * left out when optional and make the archetype infeasible when required or mandated. Order is a
 * topological sort of `allowedOutputs`. With the computation at the stewards every service runs
 * there (role `all`); through a TTP, `dataProvider` services run at the stewards and
 * `computeProvider` services at the TTP.
 */
export function buildChains(
  m: Marketplace,
  req: DataRequest,
  archetypeName: string,
  stewards: readonly string[],
  ttp?: string,
): ChainResult {
  // A pure function of the policy and what the request asks: requests repeat, so each answer is
  // kept per marketplace revision (its object), bounded, and a policy change starts afresh.
  let memo = chainMemo.get(m);
  if (memo === undefined) chainMemo.set(m, (memo = new Map()));
  const on = Object.keys(req.options).filter((o) => req.options[o] === true);
  const key = memoKey([archetypeName, ttp === undefined ? [] : [ttp], req.type, on, stewards]);
  const known = memo.get(key);
  if (known !== undefined) return known;
  const result = computeChains(m, req, archetypeName, stewards, ttp);
  if (memo.size >= chainMemoSize) memo.clear();
  memo.set(key, result);
  return result;
}

const chainMemo = new WeakMap<Marketplace, Map<string, ChainResult>>();
const chainMemoSize = 4096;

function computeChains(
  m: Marketplace,
  req: DataRequest,
  archetypeName: string,
  stewards: readonly string[],
  ttp?: string,
): ChainResult {
  const archetype = m.archetypes[archetypeName];
  if (archetype === undefined) return { ok: false, reason: `archetype "${archetypeName}" is not defined` };
  const selections = new Map<string, Selection>();
  for (const steward of stewards) {
    const selected = selectServices(m, req, archetypeName, steward);
    if (!selected.ok) return selected;
    selections.set(steward, selected.selection);
  }
  if (archetype.computeProvider === 'dataProvider') {
    const chains: PartyChain[] = [];
    for (const steward of stewards) {
      const { services, notes } = selections.get(steward) as Selection;
      const broken = checkLinks(m, services);
      if (broken !== undefined) return { ok: false, reason: broken };
      chains.push({ party: steward, partyKind: 'dataSteward', role: 'all', services, notes });
    }
    return { ok: true, chains };
  }

  if (ttp === undefined) return { ok: false, reason: `${archetypeName} needs a trusted third party and none is allowed by all stewards` };
  const labelled = (services: readonly string[], label: 'dataProvider' | 'computeProvider') =>
    services.filter((s) => m.microservices[s]?.label === label);
  const atTtp = new Set<string>();
  for (const { services } of selections.values()) for (const s of labelled(services, 'computeProvider')) atTtp.add(s);
  const ttpOrder = orderServices(m, [...atTtp]);
  if (ttpOrder.kind === 'cycle') return { ok: false, reason: `allowedOutputs form a cycle: ${ttpOrder.cycle.join(' → ')}` };
  const ttpServices = ttpOrder.order;
  if (ttpServices.length === 0) return { ok: false, reason: `no computeProvider service would run at ${ttp}` };

  // Each note goes with the party that runs its service; notes of left-out services stay with the steward.
  const runsAtTtp = (note: string) => ttpServices.some((s) => note.startsWith(`${s}: `) && !note.startsWith(`${s}: left out`));
  const chains: PartyChain[] = [];
  const ttpNotes = [`combines the data of ${stewards.join(', ')}`];
  for (const steward of stewards) {
    const { services, notes } = selections.get(steward) as Selection;
    const local = labelled(services, 'dataProvider');
    if (local.length === 0) return { ok: false, reason: `no dataProvider service would read the data at ${steward}` };
    const broken = checkLinks(m, [...local, ...ttpServices]);
    if (broken !== undefined) return { ok: false, reason: broken };
    chains.push({ party: steward, partyKind: 'dataSteward', role: 'dataProvider', services: local, notes: notes.filter((n) => !runsAtTtp(n)) });
    for (const note of notes.filter(runsAtTtp)) if (!ttpNotes.includes(note)) ttpNotes.push(note);
  }
  chains.push({ party: ttp, partyKind: 'computeProvider', role: 'computeProvider', services: ttpServices, notes: ttpNotes });
  return { ok: true, chains };
}

function selectServices(
  m: Marketplace,
  req: DataRequest,
  archetype: string,
  steward: string,
): { ok: true; selection: Selection } | { ok: false; reason: string } {
  const type = m.requestTypes[req.type];
  if (type === undefined) return { ok: false, reason: `request type "${req.type}" is not defined` };
  const why = new Map<string, { mandatory: boolean; because: string }>();
  for (const s of type.requiredServices) why.set(s, { mandatory: true, because: `required by ${req.type}` });
  for (const [s, flag] of Object.entries(type.optionalServices)) {
    if (req.options[flag] === true && !why.has(s)) why.set(s, { mandatory: false, because: `option "${flag}" is on` });
  }
  for (const s of m.dataStewards[steward]?.mandatedServices[req.type] ?? []) {
    const mandate = `mandated by ${steward} for ${req.type}`;
    const earlier = why.get(s);
    why.set(s, { mandatory: true, because: earlier ? `${earlier.because}; ${mandate}` : mandate });
  }
  if (why.size === 0) return { ok: false, reason: `request type "${req.type}" has no services to run` };

  const notes: string[] = [];
  const kept: string[] = [];
  for (const [s, { mandatory, because }] of why) {
    if (m.microservices[s]?.invalidArchetypes.includes(archetype)) {
      if (mandatory) return { ok: false, reason: `${s} is ${because} but invalid under ${archetype}` };
      notes.push(`${s}: left out, invalid under ${archetype} (${because})`);
      continue;
    }
    kept.push(s);
    notes.push(`${s}: ${because}`);
  }
  const ordered = orderServices(m, kept);
  if (ordered.kind === 'cycle') return { ok: false, reason: `allowedOutputs form a cycle: ${ordered.cycle.join(' → ')}` };
  return { ok: true, selection: { services: ordered.order, notes } };
}

/** Topological order of `services`, ties in catalog order. */
function orderServices(m: Marketplace, services: readonly string[]) {
  const catalogOrder = Object.keys(m.microservices).filter((s) => services.includes(s));
  return topologicalOrder(catalogOrder, (s) => m.microservices[s]?.allowedOutputs ?? []);
}

/** A sentence naming the first consecutive pair whose link allowedOutputs does not allow. */
function checkLinks(m: Marketplace, services: readonly string[]): string | undefined {
  for (let i = 0; i + 1 < services.length; i++) {
    const from = services[i] as string;
    const to = services[i + 1] as string;
    if (!(m.microservices[from]?.allowedOutputs ?? []).includes(to)) {
      return `${from} cannot feed ${to} (not in its allowedOutputs)`;
    }
  }
  return undefined;
}

/**
 * The services the request's options switched on that cannot run under `archetype` (their
 * `invalidArchetypes` name it): what choosing that archetype would quietly leave out, such as
 * sql-aggregate for `aggregate: true` under computeToData.
 */
export function requestedButLeftOut(m: Marketplace, req: DataRequest, archetype: string): string[] {
  const left: string[] = [];
  for (const o of marketplaceIndex(m).optionalServices.get(req.type) ?? []) if (req.options[o.flag] === true && o.invalidArchetypes.includes(archetype)) left.push(o.service);
  return left;
}
