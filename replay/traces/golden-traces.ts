import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import type { StrategyConfigInput } from '../../daemon/mape/strategies/index.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import { replayTrace } from '../replay.js';
import type { RequestRecord } from '../strategy-run.js';
import type { ScenarioName } from './scenarios.js';
import { generateTrace } from './scenarios.js';
import { readTraceFile, traceLinesOf } from './trace-file.js';

/** The shipped traces replay tests pin (docs/replay.md#golden-traces), all on the reference marketplace. */
export const goldenScenarios: readonly ScenarioName[] = ['ttp-overload', 'steward-overload', 'noisy-threshold', 'agreement-revoked', 'steward-outage'];
export const goldenDurationMs = 300_000;
export const goldenSeed = 7;
export const goldenStrategies: readonly StrategyConfigInput[] = [{ name: 'dynamos' }, { name: 'threshold' }, { name: 'utility' }];

export const goldenDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'golden');
export const referenceMarketplaceFile = path.join(path.dirname(new URL(import.meta.url).pathname), '..', '..', 'experiments', 'marketplaces', 'reference.yaml');

export function referenceMarketplace(): MarketplaceInput {
  return parse(readFileSync(referenceMarketplaceFile, 'utf8')) as MarketplaceInput;
}

/** A golden scenario's trace, generated: the header line and event lines. */
export function goldenTraceLines(scenario: ScenarioName): string[] {
  return traceLinesOf(generateTrace(scenario, referenceMarketplace(), { seed: goldenSeed, durationMs: goldenDurationMs }));
}

/**
 * The golden decisions of a trace: one line per request, each strategy's choice and result side
 * by side, so a diff shows where strategies and versions part. A recorded trace also shows what
 * the live run chose (`live`), from its outcome events.
 */
export async function goldenDecisions(traceFile: string): Promise<string> {
  const byStrategy = new Map<string, RequestRecord[]>();
  await replayTrace(await readTraceFile(traceFile), {
    strategies: goldenStrategies,
    seed: goldenSeed,
    onRecord: (strategy, record) => {
      const list = byStrategy.get(strategy) ?? [];
      list.push(record);
      byStrategy.set(strategy, list);
    },
  });
  const live = await liveChoices(traceFile);
  const names = [...byStrategy.keys()];
  const first = byStrategy.get(names[0] as string) ?? [];
  return first
    .map((r, i) => {
      const row: Record<string, string | number> = { id: r.id, at: r.at };
      for (const name of names) {
        const x = byStrategy.get(name)?.[i] as RequestRecord;
        row[name] = `${x.choice ?? 'denied'} ${x.result}${x.violation === undefined ? '' : ' VIOLATION'}`;
      }
      const recorded = live.get(r.id);
      if (recorded !== undefined) row['live'] = recorded;
      return `${JSON.stringify(row)}\n`;
    })
    .join('');
}

/** What a recorded run chose for each request (`dataThroughTtp@SURF`, or `denied` and the like when nothing ran), as its outcome events say. */
export async function liveChoices(traceFile: string): Promise<Map<string, string>> {
  const choices = new Map<string, string>();
  for await (const event of (await readTraceFile(traceFile)).events()) {
    if (event.kind !== 'outcome') continue;
    const choice = event.archetype === null ? event.result : event.ttp === null ? event.archetype : `${event.archetype}@${event.ttp}`;
    choices.set(event.requestId, choice);
  }
  return choices;
}
