#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { registerCommands } from './cli/commands.js';

/**
 * The `dynamos` command: composition root of the daemon and its tools. Exit status: 0 success,
 * 1 a failure at run time, 2 bad usage or a bad config.
 */
const program = new Command('dynamos')
  .description('DYNAMOS: a self-adaptive, policy-checked data-exchange middleware')
  .exitOverride();
registerCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
