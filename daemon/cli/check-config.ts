import type { Command } from 'commander';
import { anonymizationColumnProblems } from '../../knowledge/marketplace/anonymization-columns.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import { loadMarketplaceFile, missingTableFiles } from '../../knowledge/marketplace/load-marketplace.js';
import type { Problem } from '../../knowledge/problems.js';

/** Where a command writes: stdout for results, stderr for problems and warnings. */
export interface CommandOutput {
  out(line: string): void;
  err(line: string): void;
}

export const processOutput: CommandOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** Exit status of a bad config, as for every command (see main.ts). */
export const exitBadConfig = 2;

/** Prints every problem as `path: message`, one a line, on stderr. */
export function reportProblems(problems: readonly Problem[], output: CommandOutput): void {
  for (const p of problems) output.err(`${p.path}: ${p.message}`);
}

/**
 * Validates a marketplace file. With `dataDir`, table files resolve against it and each must exist
 * there, with every column its anonymisation names; without, only the config itself is checked
 * (data may be generated later).
 * @returns the exit status: 0 valid, 2 with every problem printed.
 */
export async function checkConfig(file: string, opts: { dataDir?: string }, output: CommandOutput): Promise<number> {
  const result = await loadMarketplaceFile(file, opts.dataDir);
  const problems = result.ok && opts.dataDir !== undefined ? [...(await missingTableFiles(result.marketplace)), ...(await anonymizationColumnProblems(result.marketplace))] : [];
  if (!result.ok || problems.length > 0) {
    reportProblems(result.ok ? problems : result.problems, output);
    return exitBadConfig;
  }
  for (const line of summarize(result.marketplace, opts.dataDir !== undefined)) output.out(line);
  return 0;
}

function summarize(m: Marketplace, filesChecked: boolean): string[] {
  const stewards = Object.values(m.dataStewards);
  const relations = stewards.reduce((n, s) => n + Object.keys(s.relations).length, 0);
  const count = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
  return [
    `marketplace ${m.name}, revision ${m.revision}: valid`,
    [
      count(stewards.length, 'data steward', 'data stewards'),
      count(Object.keys(m.computeProviders).length, 'compute provider (TTP)', 'compute providers (TTPs)'),
      count(relations, 'relation', 'relations'),
    ].join(', '),
    filesChecked ? `every table file is present in ${m.dataDir}, with every column its anonymization names` : `table files not checked (pass --data-dir to check them)`,
  ];
}

export function registerCheckConfig(program: Command): void {
  program
    .command('check-config')
    .description('validate a marketplace config and report every problem with its path (exit 2 when invalid)')
    .argument('<path>', 'marketplace file (YAML or JSON)')
    .option('--data-dir <dir>', 'directory the table files resolve against; given, every table file must exist there')
    .action(async (file: string, opts: { dataDir?: string }) => {
      process.exitCode = await checkConfig(file, opts, processOutput);
    });
}
