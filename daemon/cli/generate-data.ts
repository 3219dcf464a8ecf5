import path from 'node:path';
import type { Command } from 'commander';
import { generateWageGapData } from '../../experiments/datasets/generate-wage-gap.js';
import { processOutput } from './check-config.js';
import { integer } from './options.js';

export function registerGenerateData(program: Command): void {
  program
    .command('generate-data')
    .description("write the example marketplace's tables (Personen, Aanstellingen per steward), deterministically")
    .option('--out <dir>', 'directory to write <steward>/<Table>.csv into', path.join('data', 'example'))
    .option('--rows <n>', 'rows per steward (and per table: one appointment per person)', integer(1), 10_000)
    .option('--seed <n>', 'seed of the generator', integer(0), 1)
    .option('--stewards <names>', 'comma-separated steward names', 'UVA,VU,RUG')
    .action(async (opts: { out: string; rows: number; seed: number; stewards: string }) => {
      const stewards = opts.stewards.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const files = await generateWageGapData(opts.out, stewards, { rows: opts.rows, seed: opts.seed });
      for (const file of files) processOutput.out(file);
    });
}
