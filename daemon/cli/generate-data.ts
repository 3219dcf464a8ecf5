import path from 'node:path';
import type { Command } from 'commander';
import { existingExampleFiles, writeExampleData } from '../example-data/example-data.js';
import { DynamosError } from '../../knowledge/errors.js';
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
    .option('--force', 'overwrite files already there (without it, existing files stop the command)')
    .action(async (opts: { out: string; rows: number; seed: number; stewards: string; force?: boolean }) => {
      const stewards = opts.stewards.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const existing = opts.force === true ? [] : await existingExampleFiles(opts.out, stewards);
      if (existing.length > 0) {
        // main.ts prints it and exits 2: nothing was written.
        throw new DynamosError('CONFIG_INVALID', `${existing[0]} exists${existing.length > 1 ? ` (and ${existing.length - 1} more of the files to write)` : ''}: --force overwrites`, { retryable: false });
      }
      const files = await writeExampleData(opts.out, stewards, { rows: opts.rows, seed: opts.seed });
      for (const file of files) processOutput.out(file);
    });
}
