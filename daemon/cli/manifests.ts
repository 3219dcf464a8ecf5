import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { Option } from 'commander';
import { DynamosError } from '../../knowledge/errors.js';
import { parseMarketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { Problem } from '../../knowledge/problems.js';
import { exampleMarketplaceFile } from '../config.js';
import { describeFileError } from '../file-errors.js';
import type { MonitorKind } from '../manifests/index.js';
import { buildManifests, monitorKinds, renderManifests } from '../manifests/index.js';
import { loadSettingsFile } from '../settings-file.js';
import type { CommandOutput } from './check-config.js';
import { exitBadConfig, processOutput, reportProblems } from './check-config.js';

export interface ManifestsOptions {
  readonly settings: string;
  /** The marketplace, over the settings' `marketplaceFile`. */
  readonly config?: string;
  readonly monitor?: MonitorKind;
  readonly context?: string;
}

/**
 * Prints the Kubernetes manifests of a cluster-mode deployment on stdout (docs/kubernetes.md):
 * the daemon's cluster, or with `context` the cluster of parties that keep their own. Warnings go
 * to stderr.
 * @returns the exit status: 0, or 2 with every problem printed as `path: message`
 */
export async function printManifests(opts: ManifestsOptions, output: CommandOutput): Promise<number> {
  const file = await loadSettingsFile(opts.settings);
  if (!file.ok) return refuse(file.problems, output);
  const marketplaceFile = opts.config ?? file.settings.marketplaceFile;
  const source = marketplaceFile ?? exampleMarketplaceFile();
  let text: string;
  try {
    text = await readFile(source, 'utf8');
  } catch (error) {
    return refuse([{ path: opts.config === undefined ? 'marketplaceFile' : '--config', message: `cannot read the marketplace config ${source}: ${describeFileError(error)}` }], output);
  }
  const marketplace = parseMarketplace(text, '.');
  if (!marketplace.ok) {
    output.err(`the marketplace config ${source} is invalid:`);
    return refuse(marketplace.problems, output);
  }
  const m = marketplace.marketplace;
  const stewards = Object.entries(m.dataStewards).filter(([, s]) => Object.keys(s.datasets).length > 0).map(([name]) => name);
  let manifests;
  try {
    manifests = buildManifests({
      settings: file.settings,
      marketplace: { text, parties: [...Object.keys(m.dataStewards), ...Object.keys(m.computeProviders)], stewards },
      monitor: opts.monitor ?? 'none',
      context: opts.context,
    });
  } catch (error) {
    if (error instanceof DynamosError && error.code === 'CONFIG_INVALID' && Array.isArray(error.details?.['problems'])) {
      return refuse(error.details['problems'] as Problem[], output);
    }
    throw error;
  }
  for (const warning of manifests.warnings) output.err(`warning: ${warning}`);
  output.out(renderManifests(manifests, { settingsFile: opts.settings, marketplaceFile }).trimEnd());
  return 0;
}

function refuse(problems: readonly Problem[], output: CommandOutput): number {
  reportProblems(problems, output);
  return exitBadConfig;
}

export function registerManifests(program: Command): void {
  program
    .command('manifests')
    .description('print the Kubernetes manifests of a cluster-mode deployment (YAML, for kubectl apply -f -): namespaces, RBAC, the daemon (docs/kubernetes.md)')
    .requiredOption('--settings <file>', 'deployment settings (YAML) with `kubernetes` and `sites.<party>.kubernetes`')
    .option('--config <file>', "marketplace config (YAML); default the settings' marketplaceFile, else the bundled example")
    .addOption(new Option('--monitor <kind>', 'a Prometheus operator monitor for /metrics').choices(monitorKinds).default('none'))
    .option('--context <name>', 'the cluster of the parties whose site names this kubeconfig context, instead of the daemon\'s')
    .action(async (opts: ManifestsOptions) => {
      process.exitCode = await printManifests(opts, processOutput);
    });
}
