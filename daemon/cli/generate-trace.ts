import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { generateTrace, scenarioNames } from '../../experiments/traces/scenarios.js';
import type { ScenarioName } from '../../experiments/traces/scenarios.js';
import { TraceWriter } from '../../experiments/traces/trace-file.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import { exampleMarketplaceFile } from '../config.js';
import { processOutput } from './check-config.js';
import { integer } from './options.js';

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `90s`, `30m`, `1h`, `500ms`, or a whole number of milliseconds. */
export function duration(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (units[match[2] ?? 'ms'] as number);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 1h or 500ms');
  return ms;
}

function scenario(value: string): ScenarioName {
  if (!(scenarioNames as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${scenarioNames.join(', ')}`);
  return value as ScenarioName;
}

export function registerGenerateTrace(program: Command): void {
  program
    .command('generate-trace')
    .description('write an experiment trace for a scenario, deterministically (docs/traces.md)')
    .requiredOption('--scenario <name>', `one of ${scenarioNames.join(', ')}`, scenario)
    .option('--seed <n>', 'seed of the generator', integer(0), 1)
    .option('--duration <d>', 'length of the trace: 90s, 30m, 1h, …', duration, 3_600_000)
    .option('--rate <n>', 'mean requests per second', Number, 1)
    .option('--config <file>', 'marketplace config; the bundled example when absent')
    .requiredOption('--out <file>', 'the trace file to write (JSON Lines)')
    .action((opts: { scenario: ScenarioName; seed: number; duration: number; rate: number; config?: string; out: string }) => {
      if (!Number.isFinite(opts.rate) || opts.rate <= 0) throw new InvalidArgumentError('--rate: expected a positive number');
      const marketplace = parse(readFileSync(opts.config ?? exampleMarketplaceFile(), 'utf8')) as MarketplaceInput;
      const trace = generateTrace(opts.scenario, marketplace, { seed: opts.seed, durationMs: opts.duration, parameters: { ratePerSecond: opts.rate } });
      const writer = TraceWriter.create(opts.out, trace.header);
      let events = 0;
      try {
        for (const event of trace.events) {
          writer.write(event);
          events++;
        }
      } finally {
        writer.close();
      }
      processOutput.out(`${opts.out}: ${opts.scenario}, seed ${opts.seed}, ${opts.duration} ms, ${events} events`);
    });
}
