import path from 'node:path';
import type { RunningDaemon } from '../../daemon/start-daemon.js';
import { startDaemon } from '../../daemon/start-daemon.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { PartyExporter } from './party-exporter.js';

const holdDownMs = 10_000;
const periodMs = 1_000;
const requestEveryMs = 250;

interface Choice {
  readonly at: number;
  readonly ttp: string | null;
  /** The status and reason when the request failed. */
  readonly error?: string;
}

export interface AdaptationFigures {
  readonly setting: { holdDownMs: number; loopPeriodMs: number; prometheusScrapeMs: number; requestEveryMs: number; threshold: number };
  /** From SURF's CPU, as its exporter serves it, going to 90 % until a request no longer goes to SURF. */
  readonly switchAwayMs: number;
  /** From that change until Prometheus answered the CPU query with SURF's new value (its scrape). */
  readonly servedByPrometheusMs: number;
  /** From that change until the knowledge base held SURF's new reading (scrape + loop). */
  readonly seenByMonitorMs: number;
  /** From Prometheus serving the new value until a request no longer went to SURF: the target is one loop period. */
  readonly switchAwayAfterServedMs: number;
  /** From SURF's CPU going back to 30 % until a request goes to SURF again. */
  readonly returnAfterRecoveryMs: number;
  /** Between the switch away and the return: at least the hold-down. */
  readonly awayForMs: number;
  readonly jitter: { readonly durationMs: number; readonly switches: number; readonly minGapBetweenSwitchesMs: number | null; readonly atMostOnePerHoldDown: boolean };
}

/**
 * The utility strategy reacting to a TTP's load as a real Prometheus serves it: requests for
 * aggregation from VU and UVA, who both allow SURF and otherCompany, arrive every 250 ms while
 * SURF's CPU goes over the 80 % threshold, comes back, and then jitters around it.
 */
export async function benchAdaptation(env: { promUrl: string; targetsFile: string }, dataDir: string, marketplaceFile: string, scratch: string): Promise<AdaptationFigures> {
  const exporter = await PartyExporter.start(env.targetsFile);
  exporter.set('VU', 0.2);
  exporter.set('UVA', 0.2);
  exporter.set('SURF', 0.3);
  // Loaded enough that SURF, once healthy again, beats it by more than the tolerance band.
  exporter.set('otherCompany', 0.7);
  exporter.set('RUG', 0.2);
  const daemon = await startDaemon(
    {
      port: 0,
      marketplaceFile,
      dataDir,
      decisionLogFile: path.join(scratch, 'adaptation-decisions.jsonl'),
      logLevel: 'silent',
      watchConfig: false,
      strategy: { name: 'utility', options: { holdDownMs } },
      loop: { periodMs },
      metrics: { source: 'prometheus', prometheus: { url: env.promUrl, queries: PartyExporter.queries } },
    },
    { logger: silentLogger },
  );
  const choices: Choice[] = [];
  let driving = true;
  const driver = drive(daemon, choices, () => driving);
  try {
    await until(() => cpuOf(daemon, 'SURF') === 0.3 && cpuOf(daemon, 'otherCompany') === 0.7, 30_000, 'the first readings');
    await pause(3_000);
    const overloadedAt = Date.now();
    exporter.set('SURF', 0.9);
    const served = servedAt(env.promUrl, 'SURF', 0.9);
    await until(() => cpuOf(daemon, 'SURF') === 0.9, 10_000, 'SURF over the threshold in the knowledge');
    const seenAt = Date.now();
    const away = await firstChoice(choices, overloadedAt, (c) => c.ttp !== 'SURF');
    await pause(3_000);
    const recoveredAt = Date.now();
    exporter.set('SURF', 0.3);
    const back = await firstChoice(choices, recoveredAt, (c) => c.ttp === 'SURF', holdDownMs + 10_000);

    await pause(2_000);
    const jitterStart = Date.now();
    const jitterMs = 40_000;
    for (let t = 0; t < jitterMs; t += 2_000) {
      exporter.set('SURF', (t / 2_000) % 2 === 0 ? 0.81 : 0.79);
      await pause(2_000);
    }
    const during = choices.filter((c) => c.at >= jitterStart);
    const switchTimes = during.slice(1).filter((c, i) => c.ttp !== during[i]?.ttp).map((c) => c.at);
    const gaps = switchTimes.slice(1).map((t, i) => t - (switchTimes[i] as number));
    return {
      setting: { holdDownMs, loopPeriodMs: periodMs, prometheusScrapeMs: 1_000, requestEveryMs, threshold: 0.8 },
      switchAwayMs: away.at - overloadedAt,
      servedByPrometheusMs: (await served) - overloadedAt,
      seenByMonitorMs: seenAt - overloadedAt,
      switchAwayAfterServedMs: away.at - (await served),
      returnAfterRecoveryMs: back.at - recoveredAt,
      awayForMs: back.at - away.at,
      jitter: {
        durationMs: jitterMs,
        switches: switchTimes.length,
        minGapBetweenSwitchesMs: gaps.length === 0 ? null : Math.min(...gaps),
        atMostOnePerHoldDown: gaps.every((g) => g >= holdDownMs),
      },
    };
  } finally {
    driving = false;
    await driver;
    await daemon.close();
    await exporter.close();
  }
}

/** When Prometheus first answers the bench's CPU query with `value` for `party` (polled every 20 ms). */
async function servedAt(promUrl: string, party: string, value: number): Promise<number> {
  const url = `${promUrl}/api/v1/query?query=${encodeURIComponent(PartyExporter.queries.cpu[0] as string)}`;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const answer = (await (await fetch(url)).json()) as { data?: { result?: { metric: Record<string, string>; value: [number, string] }[] } };
    const sample = answer.data?.result?.find((r) => r.metric['party'] === party);
    if (sample !== undefined && Number(sample.value[1]) === value) return Date.now();
    await pause(20);
  }
  throw new Error(`adaptation bench: Prometheus never served ${party} at ${value}`);
}

function cpuOf(daemon: RunningDaemon, party: string): number | undefined {
  return daemon.knowledge.current().nodes[party]?.latest.cpu?.value;
}

/** Sends aggregation requests one after another, one every 250 ms, noting where each went. */
async function drive(daemon: RunningDaemon, choices: Choice[], going: () => boolean): Promise<void> {
  const body = JSON.stringify({
    type: 'sqlDataRequest',
    user: { id: '1', userName: 'analyst@uva.example' },
    dataProviders: ['VU', 'UVA'],
    data_request: { type: 'sqlDataRequest', query: 'SELECT * FROM Personen p JOIN Aanstellingen s ON p.Unieknr = s.Unieknr', algorithm: 'average', options: { aggregate: true }, requestMetadata: {} },
  });
  while (going()) {
    const at = Date.now();
    try {
      const response = await fetch(`${daemon.url}/api/v1/requestApproval`, { method: 'POST', body, headers: { authorization: `Bearer ${await daemon.mintToken('analyst@uva.example')}` } });
      const json = (await response.json()) as { ttp?: string | null; code?: string; message?: string };
      choices.push({ at, ttp: json.ttp ?? null, ...(response.status === 200 ? {} : { error: `${response.status} ${json.code}: ${json.message}` }) });
    } catch (error) {
      choices.push({ at, ttp: null, error: String(error) });
    }
    await pause(Math.max(0, requestEveryMs - (Date.now() - at)));
  }
}

async function firstChoice(choices: readonly Choice[], after: number, wanted: (c: Choice) => boolean, limitMs = 15_000): Promise<Choice> {
  let found: Choice | undefined;
  const recent = () => JSON.stringify(choices.slice(-5).map((c) => ({ at: c.at - after, ttp: c.ttp, error: c.error })));
  await until(() => (found = choices.find((c) => c.at >= after && c.error === undefined && wanted(c))) !== undefined, limitMs, 'the choice to move', recent);
  return found as Choice;
}

async function until(condition: () => boolean, limitMs: number, what: string, context: () => string = () => ''): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`adaptation bench: timed out waiting for ${what} ${context()}`);
    await pause(20);
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
