import type { Command } from 'commander';
import { registerCheckConfig } from './check-config.js';
import { registerImportDynamos } from './import-dynamos.js';

/** Every subcommand, one register function per file of daemon/cli/. */
export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}

const registrations: ((program: Command) => void)[] = [registerCheckConfig, registerImportDynamos];
