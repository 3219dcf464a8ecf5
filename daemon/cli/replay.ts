import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { reportTable } from '../../replay/replay-report.js';
import { replayToFiles } from '../../replay/replay-outputs.js';
import { toDynamosError } from '../../knowledge/errors.js';
import { strategyConfigSchema } from '../mape/strategies/index.js';
import { exitBadConfig, processOutput } from './check-config.js';
import { integer } from './options.js';

/** The strategies the daemon knows, from the one schema that defines them. */
const strategyNames = strategyConfigSchema.options.map((o) => o.shape.name.value);
type StrategyName = (typeof strategyNames)[number];

function strategies(value: string): { name: StrategyName }[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = names.filter((n) => !(strategyNames as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) throw new InvalidArgumentError(`expected a comma-separated list of ${strategyNames.join(', ')}${unknown.length > 0 ? ` (unknown: ${unknown.join(', ')})` : ''}`);
  if (new Set(names).size !== names.length) throw new InvalidArgumentError('each strategy may be named once');
  return names.map((name) => ({ name: name as StrategyName }));
}

/** A one-line bar on stderr, redrawn in place; only on a terminal, so logs and CI stay clean. */
function progressBar(label: string): { update(fraction: number): void; done(): void } | undefined {
  const stream = process.stderr;
  if (!stream.isTTY) return undefined;
  let shown = -1;
  return {
    update(fraction) {
      const percent = Math.floor(fraction * 100);
      if (percent === shown) return;
      shown = percent;
      const width = 30;
      const filled = Math.round((percent / 100) * width);
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(percent).padStart(3)}%`);
    },
    done() {
      stream.write('\n');
    },
  };
}

export function registerReplay(program: Command): void {
  program
    .command('replay')
    .description('replay an experiment trace with each strategy on a simulated clock and compare them (docs/replay.md)')
    .argument('<trace>', 'a trace file (JSON Lines, docs/traces.md)')
    .option('--strategy <list>', 'strategies to compare, comma-separated', strategies, strategies('dynamos,threshold,utility'))
    .option('--seed <n>', 'seed of the job model\'s noise', integer(0), 1)
    .option('--out <dir>', 'write report.json, report.csv, decisions-<strategy>.jsonl and SVG figures here')
    .option('--influx <url>', 'also write the results to InfluxDB 1.x, e.g. http://127.0.0.1:8086/dynamos')
    .action(async (trace: string, opts: { strategy: { name: StrategyName }[]; seed: number; out?: string; influx?: string }) => {
      const bar = progressBar(`replaying ${trace}`);
      try {
        const result = await replayToFiles(trace, {
          strategies: opts.strategy,
          seed: opts.seed,
          ...(opts.out === undefined ? {} : { outDir: opts.out }),
          ...(opts.influx === undefined ? {} : { influxUrl: opts.influx }),
          ...(bar === undefined ? {} : { onProgress: (f: number) => bar.update(f) }),
        });
        bar?.done();
        processOutput.out(reportTable(result.summaries));
        if (opts.out !== undefined) processOutput.out(`\nwritten to ${opts.out}: report.json, report.csv, decisions-*.jsonl, latency-over-time.svg, energy-over-time.svg, archetype-over-time.svg`);
      } catch (error) {
        bar?.done();
        const e = toDynamosError(error);
        processOutput.err(e.message);
        process.exitCode = e.code === 'CONFIG_INVALID' || e.code === 'REQUEST_INVALID' ? exitBadConfig : 1;
      }
    });
}
