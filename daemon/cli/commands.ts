import type { Command } from 'commander';

/** Every subcommand, one register function per file of daemon/cli/. */
export function registerCommands(program: Command): void {
  for (const register of registrations) register(program);
}

const registrations: ((program: Command) => void)[] = [];
