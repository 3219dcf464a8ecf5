import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { Document } from 'yaml';
import { DynamosError } from '../../knowledge/errors.js';
import { importDynamos } from '../../knowledge/marketplace/import-dynamos.js';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import type { Problem } from '../../knowledge/problems.js';
import type { CommandOutput } from './check-config.js';
import { exitBadConfig, processOutput, reportProblems } from './check-config.js';

/** The imported config as YAML, with a header saying where it came from and how table files resolve. */
export function importedYaml(config: MarketplaceInput, sourceDir: string, dataDir?: string): string {
  const doc = new Document(config);
  doc.commentBefore = [
    ` Imported by \`dynamos import-dynamos\` from the original DYNAMOS configuration in`,
    ` ${path.resolve(sourceDir)}.`,
    ` Table files are named as the original loads them (<Table>_<STEWARD>.csv) and resolve against`,
    dataDir === undefined
      ? ' the data directory: pass it with `dynamos check-config --data-dir DIR`.'
      : ` the data directory, e.g. \`dynamos check-config --data-dir ${path.resolve(dataDir)}\`.`,
  ].join('\n');
  return doc.toString({ lineWidth: 0 });
}

/**
 * Converts the original's etcd_launch_files into a marketplace YAML, on `out` or into `opts.out`.
 * Warnings (what was left out, and why) go to stderr.
 * @returns the exit status: 0 imported, 2 with every problem printed when the JSON is broken.
 */
export async function runImportDynamos(
  dir: string,
  opts: { dataDir?: string; out?: string },
  output: CommandOutput,
): Promise<number> {
  let imported: Awaited<ReturnType<typeof importDynamos>>;
  try {
    imported = await importDynamos(dir, opts.dataDir === undefined ? {} : { dataDir: opts.dataDir });
  } catch (error) {
    if (!(error instanceof DynamosError) || error.code !== 'CONFIG_INVALID') throw error;
    reportProblems((error.details?.problems ?? []) as Problem[], output);
    return exitBadConfig;
  }
  for (const warning of imported.warnings) output.err(`warning: ${warning}`);
  const yaml = importedYaml(imported.config, dir, opts.dataDir);
  if (opts.out === undefined) output.out(yaml.trimEnd());
  else {
    await writeFile(opts.out, yaml);
    output.err(`wrote ${opts.out}`);
  }
  return 0;
}

export function registerImportDynamos(program: Command): void {
  program
    .command('import-dynamos')
    .description("convert the original DYNAMOS's etcd_launch_files JSON into a marketplace YAML")
    .argument('<dir>', 'directory holding agreements.json, archetype.json, datasets.json, microservices.json, optional_microservices.json, requestType.json')
    .option('--data-dir <dir>', 'directory of the table files (<Table>_<STEWARD>.csv); given, missing files are warned about')
    .option('--out <file>', 'write the YAML to this file instead of stdout')
    .action(async (dir: string, opts: { dataDir?: string; out?: string }) => {
      process.exitCode = await runImportDynamos(dir, opts, processOutput);
    });
}
