import type { Command } from 'commander';
import { registerAudit } from './audit.js';
import { registerCheckConfig } from './check-config.js';
import { registerDemo } from './demo.js';
import { registerGenerateData } from './generate-data.js';
import { registerGenerateTrace } from './generate-trace.js';
import { registerImportDynamos } from './import-dynamos.js';
import { registerManifests } from './manifests.js';
import { registerReplay } from './replay.js';
import { registerRequest } from './request.js';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';

/** Every subcommand, one register function per file of daemon/cli/. */
export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}

const registrations: ((program: Command) => void)[] = [
  registerServe,
  registerRequest,
  registerToken,
  registerDemo,
  registerGenerateData,
  registerGenerateTrace,
  registerReplay,
  registerCheckConfig,
  registerImportDynamos,
  registerAudit,
  registerManifests,
];
