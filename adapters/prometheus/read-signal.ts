import type { MetricSample, Signal } from '../../knowledge/ports/metrics-source.js';
import type { QueryAlternative } from './default-queries.js';
import type { InstantSample } from './instant-query.js';
import { instantQuery, QueryFailure } from './instant-query.js';

export interface SignalRequest {
  readonly endpoint: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: Signal;
  readonly alternatives: readonly QueryAlternative[];
  readonly parties: readonly string[];
  readonly partyLabel: string;
  readonly staleAfterMs: number;
  readonly timeoutMs: number;
  /** The caller's cancel and the source's close: rethrown as they are, never a failure. */
  readonly abort: AbortSignal;
}

export interface SignalOutcome {
  readonly samples: readonly MetricSample[];
  /** Set when at least one asked party has no value, saying why. */
  readonly failure?: string;
  /** Whether Prometheus answered at least one query of this signal. */
  readonly answered: boolean;
}

/**
 * Reads one signal for the asked parties. Its alternatives run in order under one deadline; each
 * party takes its value from the first alternative holding a fresh, plausible series for it, and
 * later alternatives run only for the parties still missing.
 */
export async function readSignal(req: SignalRequest): Promise<SignalOutcome> {
  const deadline = AbortSignal.timeout(req.timeoutMs);
  const signal = AbortSignal.any([deadline, req.abort]);
  const query = (promql: string) => instantQuery(req.endpoint, promql, { headers: req.headers, signal });
  const found = new Map<string, MetricSample>();
  const refused = new Map<string, string>();
  const errors: string[] = [];
  let answered = false;
  for (const alternative of req.alternatives) {
    const wanted = new Set(req.parties.filter((p) => !found.has(p)));
    if (wanted.size === 0) break;
    const stamps = alternative.sampledAt === undefined ? undefined : settle(query(alternative.sampledAt));
    let values: InstantSample[];
    try {
      values = await query(alternative.query);
    } catch (error) {
      if (req.abort.aborted) throw req.abort.reason;
      if (deadline.aborted) {
        errors.push(`timed out after ${req.timeoutMs} ms`);
        break;
      }
      if (!(error instanceof QueryFailure)) throw error;
      errors.push(error.message);
      continue;
    }
    answered = true;
    const sampledAt = byParty(req.partyLabel, (await stamps) ?? []);
    for (const [party, series] of byParty(req.partyLabel, values)) {
      if (!wanted.has(party)) continue;
      const outcome = judge(req, party, series, sampledAt.get(party)?.value);
      if (typeof outcome === 'string') {
        if (!refused.has(party)) refused.set(party, outcome);
      } else {
        found.set(party, outcome);
      }
    }
  }
  const samples = [...found.values()];
  const missing = req.parties.filter((p) => !found.has(p));
  if (missing.length === 0) return { samples, answered };
  if (!answered) return { samples, answered, failure: unique(errors).join('; ') };
  const noSeries = missing.filter((p) => !refused.has(p));
  const reasons = [
    ...(noSeries.length === 0 ? [] : [`no series for ${noSeries.join(', ')}`]),
    ...missing.flatMap((p) => (refused.has(p) ? [`${p}: ${refused.get(p) as string}`] : [])),
    ...unique(errors),
  ];
  return { samples, answered, failure: reasons.join('; ') };
}

/** The sample for a party, or why its series is not a value. */
function judge(req: SignalRequest, party: string, series: InstantSample, sampledAtSeconds: number | undefined): MetricSample | string {
  const at = sampledAtSeconds === undefined ? series.atMs : Math.round(sampledAtSeconds * 1000);
  // Age by Prometheus's own clock (evaluation time − sample time): immune to skew with ours.
  const ageMs = series.atMs - at;
  if (ageMs > req.staleAfterMs) {
    return `stale (newest sample ${(ageMs / 1000).toFixed(1)} s old, staleAfterMs ${req.staleAfterMs})`;
  }
  const value = plausible(req.signal, series.value);
  if (typeof value === 'string') return value;
  return { party, signal: req.signal, value, at };
}

/**
 * Fractions may overshoot a little (rate() extrapolates); far outside 0..1 the query is wrong
 * (a percentage, a missing division) and its value is refused rather than clamped.
 */
function plausible(signal: Signal, value: number): number | string {
  switch (signal) {
    case 'cpu':
    case 'memory':
      if (value < -0.05 || value > 1.05) return `value ${value} is not a fraction 0..1`;
      return Math.min(1, Math.max(0, value));
    case 'up':
      return Math.min(1, Math.max(0, value));
    case 'queueDepth':
    case 'powerWatts':
      return value < 0 ? `negative value ${value}` : value;
    default: {
      const _exhaustive: never = signal;
      return _exhaustive;
    }
  }
}

/**
 * One series per party. A query should return one already (`by (party)`); when it returns more,
 * the largest value counts: for load, the conservative reading.
 */
function byParty(label: string, samples: readonly InstantSample[]): Map<string, InstantSample> {
  const out = new Map<string, InstantSample>();
  for (const s of samples) {
    const party = s.labels[label];
    if (party === undefined) continue;
    const seen = out.get(party);
    if (seen === undefined || s.value > seen.value) out.set(party, s);
  }
  return out;
}

/** A sampledAt query that fails leaves the evaluation time as the sample time. */
async function settle(stamps: Promise<InstantSample[]>): Promise<InstantSample[] | undefined> {
  try {
    return await stamps;
  } catch {
    return undefined;
  }
}

function unique(items: readonly string[]): string[] {
  return [...new Set(items)];
}
