import { dataKey } from '../../knowledge/knowledge-snapshot.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import { seededRandom } from '../../knowledge/seeded-random.js';
import type { TraceEventInput, TraceHeaderInput } from './trace-format.js';
import { traceVersion } from './trace-format.js';

/** The scenarios `dynamos generate-trace` knows (docs/traces.md#scenarios). */
export const scenarioNames = ['steady', 'daily-curve', 'ttp-overload', 'steward-overload', 'steward-outage', 'agreement-revoked', 'noisy-threshold'] as const;
export type ScenarioName = (typeof scenarioNames)[number];

export interface ScenarioParameters {
  /** Mean requests per second (Poisson arrivals). @default 1 */
  readonly ratePerSecond: number;
  /** Time between metric samples of each party. @default 5000 */
  readonly sampleEveryMs: number;
  /** Start and end of the scenario's window (overload, outage; revocation at the start), as fractions of the duration. @default 0.3, 0.6 */
  readonly windowStart: number;
  readonly windowEnd: number;
  /** Size of each steward dataset. @default 25 (250,000 people) */
  readonly datasetMB: number;
  /** Share of requests asking for aggregation (when the request type offers it). @default 0.5 */
  readonly aggregateShare: number;
  /** Share of the window an overload takes to build up, and again to ease off. @default 0.25 */
  readonly rampShare: number;
  /** Base CPU of the first TTP, a facility shared with other work; the others idle at 25 %. @default 0.5 */
  readonly firstTtpCpu: number;
}

export const defaultScenarioParameters: ScenarioParameters = {
  ratePerSecond: 1,
  sampleEveryMs: 5_000,
  windowStart: 0.3,
  windowEnd: 0.6,
  datasetMB: 25,
  aggregateShare: 0.5,
  rampShare: 0.25,
  firstTtpCpu: 0.5,
};

const calm = { steward: { cpu: 0.3, memory: 0.4 }, ttp: { cpu: 0.25, memory: 0.35 } };
const noise = 0.05;

/**
 * A generated trace: the header and its events in time order, produced lazily so a long trace
 * needs no memory. The same scenario, seed, duration and parameters give the same events.
 */
export function generateTrace(
  scenario: ScenarioName,
  marketplace: MarketplaceInput,
  opts: { seed: number; durationMs: number; parameters?: Partial<ScenarioParameters> },
): { header: TraceHeaderInput; events: Iterable<TraceEventInput> } {
  const p = { ...defaultScenarioParameters, ...opts.parameters };
  const cast = castOf(marketplace);
  const dataBytes = Object.fromEntries(Object.entries(marketplace.dataStewards).flatMap(([s, d]) => Object.keys(d.datasets ?? {}).map((ds) => [dataKey(s, ds), p.datasetMB * 1e6])));
  const header: TraceHeaderInput = {
    kind: 'trace',
    version: traceVersion,
    source: 'generated',
    scenario: { name: scenario, seed: opts.seed, parameters: { ...p } },
    durationMs: opts.durationMs,
    marketplace,
    dataBytes,
  };
  return { header, events: { [Symbol.iterator]: () => events(scenario, cast, p, opts.seed, opts.durationMs) } };
}

interface Cast {
  readonly requester: string;
  readonly requestType: string;
  readonly providers: readonly string[];
  readonly tables: readonly string[];
  /** The request type offers the `aggregate` option. */
  readonly aggregates: boolean;
  readonly stewards: readonly string[];
  readonly ttps: readonly string[];
}

/** Who plays: the first requester any steward relates to, the stewards that relate to it, the TTPs. */
function castOf(m: MarketplaceInput): Cast {
  const stewards = Object.keys(m.dataStewards);
  const requester = stewards.flatMap((s) => Object.keys(m.dataStewards[s]?.relations ?? {}))[0];
  if (requester === undefined) throw new Error('the marketplace has no relation: no request could be authorised');
  const providers = stewards.filter((s) => m.dataStewards[s]?.relations?.[requester] !== undefined);
  const relation = m.dataStewards[providers[0] as string]?.relations?.[requester];
  const requestType = relation?.requestTypes[0] as string;
  const dataset = relation?.datasets[0] as string;
  const tables = Object.keys(m.dataStewards[providers[0] as string]?.datasets?.[dataset]?.tables ?? {});
  const flags = Object.values(m.requestTypes[requestType]?.optionalServices ?? {});
  return { requester, requestType, providers, tables, aggregates: flags.includes('aggregate'), stewards, ttps: Object.keys(m.computeProviders ?? {}) };
}

function* events(scenario: ScenarioName, cast: Cast, p: ScenarioParameters, seed: number, durationMs: number): Generator<TraceEventInput> {
  const random = seededRandom(seed);
  const round = (x: number) => Math.round(Math.min(1, Math.max(0, x)) * 1000) / 1000;
  const jitter = () => (random() * 2 - 1) * noise;
  const [from, to] = [Math.round(durationMs * p.windowStart), Math.round(durationMs * p.windowEnd)];
  const inWindow = (t: number) => t >= from && t < to;
  const ramp = Math.max(1, (to - from) * p.rampShare);
  /** 0 outside the window, rising to 1 and falling back to 0 at its edges. */
  const level = (t: number) => (inWindow(t) ? Math.min(1, (t - from) / ramp, (to - t) / ramp) : 0);
  const towards = (base: number, peak: number, t: number) => base + (peak - base) * level(t);
  const target = { steward: cast.providers[0] as string, ttp: cast.ttps[0] };
  const daily = (t: number) => 0.5 - 0.5 * Math.cos((2 * Math.PI * t) / durationMs); // 0 at the ends, 1 at the middle

  const loadOf = (party: string, t: number): { cpu: number; memory: number; up: 0 | 1 } => {
    const base = cast.ttps.includes(party) ? { ...calm.ttp, cpu: party === target.ttp ? p.firstTtpCpu : calm.ttp.cpu } : calm.steward;
    let cpu = base.cpu + jitter();
    const memory = base.memory + jitter();
    if (scenario === 'daily-curve') cpu = 0.15 + 0.6 * daily(t) + jitter();
    if (scenario === 'ttp-overload' && party === target.ttp && inWindow(t)) cpu = towards(base.cpu, 0.92, t) + jitter() / 2;
    if (scenario === 'steward-overload' && party === target.steward && inWindow(t)) cpu = towards(base.cpu, 0.9, t) + jitter() / 2;
    if (scenario === 'noisy-threshold' && party === target.ttp) cpu = 0.8 + (random() * 2 - 1) * 0.03;
    const up = scenario === 'steward-outage' && party === target.steward && inWindow(t) ? 0 : 1;
    return { cpu: round(cpu), memory: round(memory), up };
  };

  const parties = [...cast.stewards, ...cast.ttps];
  let nextSample = 0;
  let nextRequest = arrival(random, p.ratePerSecond);
  let revoked = scenario !== 'agreement-revoked';
  let n = 0;
  while (nextSample < durationMs || nextRequest < durationMs) {
    if (!revoked && from <= Math.min(nextSample, nextRequest)) {
      revoked = true;
      yield { kind: 'agreement', at: from, steward: target.steward, agreement: { relations: {} } };
    }
    if (nextSample <= nextRequest && nextSample < durationMs) {
      for (const party of parties) yield { kind: 'metrics', at: nextSample, party, ...loadOf(party, nextSample) };
      nextSample += p.sampleEveryMs;
      continue;
    }
    if (nextRequest >= durationMs) break;
    // A daily curve thins arrivals: at the quiet ends of the day a tenth of the rate.
    if (scenario !== 'daily-curve' || random() < 0.1 + 0.9 * daily(nextRequest)) {
      n++;
      const options: Record<string, boolean> = cast.aggregates && random() < p.aggregateShare ? { aggregate: true } : {};
      yield { kind: 'request', at: nextRequest, id: `r${n}`, requester: cast.requester, requestType: cast.requestType, providers: [...cast.providers], tables: [...cast.tables], algorithm: 'average', options };
    }
    nextRequest += arrival(random, p.ratePerSecond);
  }
}

/** Milliseconds to the next Poisson arrival, whole. */
function arrival(random: () => number, ratePerSecond: number): number {
  return Math.max(1, Math.round((-Math.log(1 - random()) / ratePerSecond) * 1000));
}
