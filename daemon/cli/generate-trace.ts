import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import { generateTrace, scenarioNames } from '../../replay/traces/scenarios.js';
import type { ScenarioName } from '../../replay/traces/scenarios.js';
import { writeTraceFile } from '../../replay/traces/trace-file.js';
import { validateMarketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import type { Problem } from '../../knowledge/problems.js';
import { exampleMarketplaceFile } from '../config.js';
import { exitBadConfig, processOutput, reportProblems } from './check-config.js';
import { integer } from './options.js';

/** The marketplace as written, checked first so a bad one is reported with its paths. */
function loadMarketplaceFileSync(file: string): { ok: true; config: MarketplaceInput } | { ok: false; problems: Problem[] } {
  let config: unknown;
  try {
    config = parse(readFileSync(file, 'utf8'));
  } catch (error) {
    return { ok: false, problems: [{ path: '(file)', message: `cannot read ${file}: ${(error as Error).message}` }] };
  }
  const checked = validateMarketplace(config as MarketplaceInput, path.dirname(file));
  return checked.ok ? { ok: true, config: config as MarketplaceInput } : { ok: false, problems: [...checked.problems] };
}

const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** `90s`, `30m`, `1h`, `500ms`, or a whole number of milliseconds. */
export function duration(value: string): number {
  const match = /^(\d+)(ms|s|m|h)?$/.exec(value.trim());
  const ms = match === null ? Number.NaN : Number(match[1]) * (units[match[2] ?? 'ms'] as number);
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new InvalidArgumentError('expected a duration such as 90s, 30m, 1h or 500ms');
  return ms;
}

function positive(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number');
  return n;
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
    .option('--rate <n>', 'mean requests per second', positive, 1)
    .option('--config <file>', 'marketplace config; the bundled example when absent')
    .requiredOption('--out <file>', 'the trace file to write (JSON Lines)')
    .action((opts: { scenario: ScenarioName; seed: number; duration: number; rate: number; config?: string; out: string }) => {
      const loaded = loadMarketplaceFileSync(opts.config ?? exampleMarketplaceFile());
      if (!loaded.ok) {
        reportProblems(loaded.problems, processOutput);
        process.exitCode = exitBadConfig;
        return;
      }
      let events: number;
      try {
        events = writeTraceFile(opts.out, generateTrace(opts.scenario, loaded.config, { seed: opts.seed, durationMs: opts.duration, parameters: { ratePerSecond: opts.rate } }));
      } catch (error) {
        processOutput.err(`cannot write ${opts.out}: ${(error as Error).message}`);
        process.exitCode = exitBadConfig;
        return;
      }
      processOutput.out(`${opts.out}: ${opts.scenario}, seed ${opts.seed}, ${opts.duration} ms, ${events} events`);
    });
}
