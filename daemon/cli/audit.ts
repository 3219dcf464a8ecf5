import type { Command } from 'commander';
import { linesOf, verifyDecisionLog } from '../../knowledge/audit/decision-log.js';
import type { CommandOutput } from './check-config.js';
import { processOutput } from './check-config.js';

/**
 * Verifies a decision log's hash chain.
 * @returns the exit status: 0 intact, 1 with every problem printed, 2 when the file cannot be read
 */
export async function auditVerify(file: string, output: CommandOutput): Promise<number> {
  let verdict;
  try {
    verdict = await verifyDecisionLog(linesOf(file));
  } catch (error) {
    output.err(`cannot read ${file}: ${(error as Error).message}`);
    return 2;
  }
  if (verdict.ok) {
    output.out(`${file}: ${verdict.records} records, chain intact, last hash ${verdict.lastHash}`);
    return 0;
  }
  for (const p of verdict.problems) output.err(`${file}:${p.line}: ${p.message}`);
  output.err(`${file}: ${verdict.problems.length} problem(s) in ${verdict.records} records`);
  return 1;
}

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('check the decision log that data stewards audit');
  audit
    .command('verify')
    .description('verify the hash chain of a decision log: detects any edited, dropped or reordered record (exit 1)')
    .argument('<file>', 'the decision log (JSON Lines), e.g. data/decisions.jsonl')
    .action(async (file: string) => {
      process.exitCode = await auditVerify(file, processOutput);
    });
}
