import { setTimeout as delay } from 'node:timers/promises';
import type { PrometheusConfig } from '../../../adapters/prometheus/index.js';
import { createPrometheusMetricsSource } from '../../../adapters/prometheus/index.js';
import { systemClock } from '../../../knowledge/ports/clock.js';
import { silentLogger } from '../../../knowledge/ports/logger.js';
import type { MetricsSource } from '../../../knowledge/ports/metrics-source.js';
import type { MetricsWorld } from '../../contract/metrics-source.contract.js';
import type { FrontOptions } from './prometheus-front.js';
import { PrometheusFront } from './prometheus-front.js';
import type { ExportedParty } from './test-exporter.js';
import { TestExporter } from './test-exporter.js';

/**
 * The test Prometheus scrapes every second; `rate()` over this window reads a counter exactly once
 * the series is older than the window (+ one scrape), which {@link waitForScrapes} waits for.
 */
export const testRateWindow = '5s';
const scrapesNeeded = 6;

/** A real monitored world: a test exporter scraped by the real Prometheus, read through a front. */
export interface RealPrometheusWorld extends MetricsWorld {
  readonly front: PrometheusFront;
  given(parties: Readonly<Record<string, ExportedParty>>): Promise<void>;
}

/** A source reading the real Prometheus through a {@link PrometheusFront}, and how to end both. */
export interface FrontedSource {
  readonly source: MetricsSource;
  readonly front: PrometheusFront;
  close(): Promise<void>;
}

export async function readThroughFront(
  promUrl: string,
  config: Partial<PrometheusConfig> = {},
  front: Omit<FrontOptions, 'upstream'> = {},
): Promise<FrontedSource> {
  const proxy = await PrometheusFront.start({ ...front, upstream: promUrl });
  let source: MetricsSource;
  try {
    source = createPrometheusMetricsSource({ url: proxy.url, rateWindow: testRateWindow, ...config }, { logger: silentLogger, clock: systemClock });
  } catch (error) {
    await proxy.close();
    throw error;
  }
  return {
    source,
    front: proxy,
    close: async () => {
      await source.close();
      await proxy.close();
    },
  };
}

export async function realPrometheusWorld(env: { promUrl: string; targetsFile: string }): Promise<RealPrometheusWorld> {
  const exporter = await TestExporter.start(env.targetsFile);
  const { source, front, close } = await readThroughFront(env.promUrl).catch(async (error: unknown) => {
    await exporter.close();
    throw error;
  });
  return {
    source,
    front,
    tolerance: { cpu: 0.03, memory: 0.001, queueDepth: 0, powerWatts: 3, up: 0 },
    given: async (parties) => {
      exporter.add(parties);
      await waitForScrapes(env.promUrl, Object.entries(parties).map(([party, s]) => ({ party, up: s.up ?? 1 })));
    },
    down: () => front.down(),
    up: () => front.up(),
    close: async () => {
      await close();
      await exporter.close();
    },
  };
}

/**
 * Polls Prometheus (bounded) until each party's target has been scraped long enough for
 * `rate()` over {@link testRateWindow}, with the expected `up`. Never a blind sleep.
 */
export async function waitForScrapes(promUrl: string, parties: readonly { party: string; up: 0 | 1 }[], timeoutMs = 25_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pending = [...parties];
  let last = '';
  while (pending.length > 0) {
    const still: typeof pending = [];
    for (const p of pending) {
      const selector = `up{party=${JSON.stringify(p.party)}}`;
      const [scrapes, up] = await Promise.all([query(promUrl, `count_over_time(${selector}[1m])`), query(promUrl, selector)]);
      last = `${p.party}: ${scrapes ?? 0} scrapes, up ${up ?? 'absent'}`;
      if ((scrapes ?? 0) < scrapesNeeded || up !== p.up) still.push(p);
    }
    pending = still;
    if (pending.length === 0) return;
    if (Date.now() > deadline) throw new Error(`Prometheus at ${promUrl} did not scrape the test exporter within ${timeoutMs} ms (${last})`);
    await delay(250);
  }
}

/** The single value of an instant query, or undefined when it has no series. */
async function query(promUrl: string, promql: string): Promise<number | undefined> {
  const response = await fetch(new URL('/api/v1/query', promUrl), { method: 'POST', body: new URLSearchParams({ query: promql }) });
  const json = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
  const value = json.data?.result?.[0]?.value[1];
  return value === undefined ? undefined : Number(value);
}
