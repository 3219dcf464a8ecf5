import type { InFlightRequest, KnowledgeSnapshot } from '../../knowledge/knowledge-snapshot.js';
import { freshValue, isOnline, readingAge } from '../../knowledge/knowledge-snapshot.js';
import { signals } from '../../knowledge/ports/metrics-source.js';
import type { Signal } from '../../knowledge/ports/metrics-source.js';
import { checkProvider, isDenial } from './policy.js';

/** Something the background loop notices and may act on (Analyze, for the whole system). */
export type Symptom =
  | { readonly kind: 'offline'; readonly party: string }
  | { readonly kind: 'overloaded'; readonly party: string; readonly signal: 'cpu' | 'memory'; readonly value: number; readonly threshold: number }
  | { readonly kind: 'stale'; readonly party: string; readonly signal: Signal; readonly ageMs: number; readonly limitMs: number }
  | { readonly kind: 'monitorFailing'; readonly reason: string }
  /** A request in flight that the agreements in force no longer allow. */
  | { readonly kind: 'revoked'; readonly requestId: string; readonly reason: string };

export interface SymptomSettings {
  /** CPU or memory at or above this fraction is overload. @default 0.8 (the thesis's rule) */
  readonly loadThreshold: number;
}

/**
 * Every symptom in the knowledge, level-triggered: the same snapshot gives the same symptoms,
 * whatever event woke the loop. Pure.
 */
export function findSymptoms(k: KnowledgeSnapshot, settings: SymptomSettings): Symptom[] {
  const found: Symptom[] = [];
  const parties = [...Object.keys(k.marketplace.dataStewards), ...Object.keys(k.marketplace.computeProviders)];
  for (const party of parties) {
    if (!isOnline(k, party)) found.push({ kind: 'offline', party });
    for (const signal of ['cpu', 'memory'] as const) {
      const value = freshValue(k, party, signal);
      if (value !== undefined && value >= settings.loadThreshold) found.push({ kind: 'overloaded', party, signal, value, threshold: settings.loadThreshold });
    }
    for (const signal of signals) {
      const age = readingAge(k, party, signal);
      const limit = k.settings.staleAfterMs[signal];
      if (age !== undefined && age > limit) found.push({ kind: 'stale', party, signal, ageMs: age, limitMs: limit });
    }
  }
  if (k.monitor.error !== undefined) found.push({ kind: 'monitorFailing', reason: k.monitor.error });
  for (const [requestId, flight] of k.inFlight) {
    const reason = revocationOf(k, flight.request, flight.archetype, flight.ttp, flight.parties);
    if (reason !== undefined) found.push({ kind: 'revoked', requestId, reason });
  }
  return found;
}

/** Why the agreements in force no longer allow a running request, or undefined when they do. */
function revocationOf(
  k: KnowledgeSnapshot,
  request: InFlightRequest['request'],
  archetype: string,
  ttp: string | undefined,
  parties: readonly string[],
): string | undefined {
  const stewards = parties.filter((p) => Object.hasOwn(k.marketplace.dataStewards, p));
  for (const steward of stewards) {
    const verdict = checkProvider(k.marketplace, request, steward);
    if (isDenial(verdict)) return verdict.message;
    if (!verdict.archetypes.includes(archetype)) return `${steward}'s agreement with ${request.requester} no longer allows ${archetype}.`;
    if (ttp !== undefined && !verdict.computeProviders.includes(ttp)) return `${steward}'s agreement with ${request.requester} no longer allows the trusted third party ${ttp}.`;
  }
  return undefined;
}
