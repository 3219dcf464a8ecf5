import type { ChoiceMemory } from '../../../knowledge/knowledge-snapshot.js';
import type { Analysis } from '../analyze.js';
import { percent, seconds } from './party-load.js';
import { describePair, samePair } from './strategy-candidates.js';
import type { UtilityCandidate } from './utility-objectives.js';
import { rankTier } from './utility-objectives.js';

export interface HysteresisSettings {
  readonly holdDownMs: number;
  readonly toleranceBand: number;
  readonly loadThreshold: number;
}

export interface HysteresisVerdict {
  readonly chosen: UtilityCandidate;
  readonly reason: string;
}

const u = (c: UtilityCandidate) => c.utility.toFixed(3);

/**
 * Keeps the remembered choice for this requester and stewards unless switching is worth it, so a
 * load hovering around a threshold does not flip every request between archetypes.
 *
 * The remembered choice, while it passes the hard constraints, is kept when
 * (a) it was switched to less than `holdDownMs` ago (`since`; a first choice is not a switch), or
 * (b) the best candidate is in the same tier and beats it by at most `toleranceBand`.
 * A remembered choice that breaks a hard constraint, or is no longer a candidate, is left at once.
 *
 * @param ranked the candidates that pass the hard constraints, best first (not empty)
 * @param all every evaluated candidate, excluded ones too
 */
export function applyHysteresis(
  now: number,
  memory: ChoiceMemory | undefined,
  ranked: readonly UtilityCandidate[],
  all: readonly UtilityCandidate[],
  a: Analysis,
  settings: HysteresisSettings,
): HysteresisVerdict {
  const best = ranked[0] as UtilityCandidate;
  const bestReason = `${describePair(best)}: highest utility ${u(best)}, ${tierText(best, settings.loadThreshold)}`;
  if (memory === undefined || samePair(memory, best)) return { chosen: best, reason: bestReason };

  const was = describePair(memory);
  const kept = ranked.find((c) => samePair(c, memory));
  if (kept === undefined) {
    return { chosen: best, reason: `${bestReason}; left ${was} at once: ${whyNotACandidate(memory, all, a)}` };
  }
  const sinceSwitch = memory.since === undefined ? Number.POSITIVE_INFINITY : now - memory.since;
  const betterTier = rankTier(best) < rankTier(kept);
  const rival = `${describePair(best)} scores ${u(best)} against its ${u(kept)}`;
  if (sinceSwitch < settings.holdDownMs) {
    const tier = betterTier ? `, with every party under ${percent(settings.loadThreshold)}` : '';
    return { chosen: kept, reason: `kept ${was}: switched ${seconds(sinceSwitch)} ago, hold-down ${seconds(settings.holdDownMs)} (${rival}${tier})` };
  }
  if (!betterTier && best.utility - kept.utility <= settings.toleranceBand) {
    return { chosen: kept, reason: `kept ${was}: within the tolerance band (${rival}, band ${settings.toleranceBand})` };
  }
  const why = betterTier
    ? kept.leavesOut.length > (best.leavesOut.length) 
      ? `${was} would leave out ${kept.leavesOut.join(', ')}, which the request asked for`
      : `${kept.peak.party} ${kept.peak.signal} ${percent(kept.peak.value)} is at or over the ${percent(settings.loadThreshold)} threshold`
    : `${u(best)} beats ${u(kept)} by more than the tolerance band (${settings.toleranceBand})`;
  const last = memory.since === undefined ? 'its first switch' : `last switch ${seconds(sinceSwitch)} ago`;
  return { chosen: best, reason: `${bestReason}; switched from ${was}: ${why}; ${last} (hold-down ${seconds(settings.holdDownMs)})` };
}

function tierText(c: UtilityCandidate, T: number): string {
  return c.tier === 0
    ? `every party under ${percent(T)}`
    : `though ${c.peak.party} ${c.peak.signal} ${percent(c.peak.value)} is at or over ${percent(T)} (so is a party of every candidate)`;
}

function whyNotACandidate(memory: ChoiceMemory, all: readonly UtilityCandidate[], a: Analysis): string {
  const excluded = all.find((c) => samePair(c, memory));
  if (excluded?.excluded !== undefined) return excluded.excluded;
  const option = a.archetypes.find((o) => o.archetype === memory.archetype);
  if (option === undefined) return `the marketplace no longer defines ${memory.archetype}`;
  if (!option.feasible) return `${memory.archetype} is not feasible (${option.reason})`;
  if (option.computeAt === 'dataProvider') return `${memory.archetype} computes at the stewards, not at a third party`;
  if (memory.ttp === undefined) return `${memory.archetype} computes at a third party, and none was remembered`;
  return `${memory.ttp} is offline or not allowed by every steward`;
}
