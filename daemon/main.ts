#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ZodError } from 'zod';
import { DynamosError } from '../knowledge/errors.js';
import { describeProblems, problemsFromZod } from '../knowledge/problems.js';
import { registerCommands } from './cli/commands.js';
import { endQuietlyWhenReaderLeaves } from './cli/closed-output.js';
import { packageVersion } from './package-root.js';

/**
 * The `dynamos` command: composition root of the daemon and its tools. Exit status: 0 success,
 * 1 a failure at run time, 2 bad usage or a bad config. The user sees one message, never a stack
 * or a raw ZodError.
 */
const program = new Command('dynamos')
  .description('DYNAMOS: a self-adaptive, policy-checked data-exchange middleware')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .exitOverride();
registerCommands(program);
endQuietlyWhenReaderLeaves([process.stdout, process.stderr]);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exitCode = error.exitCode === 0 ? 0 : 2;
  else if (error instanceof DynamosError && error.code === 'CONFIG_INVALID') {
    console.error(error.message);
    process.exitCode = 2;
  } else if (error instanceof ZodError) {
    // A schema parse that skipped knowledge/problems.ts's parseSettings: still a settings problem, still with paths.
    console.error(describeProblems(problemsFromZod(error)));
    process.exitCode = 2;
  } else {
    console.error(error instanceof Error ? error.message : String(error));
    process.exitCode = 1;
  }
}
