import { analyze, analyzeAfresh } from '../../daemon/mape/analyze.js';
import { plan } from '../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

/**
 * Time of one decision (analyze + plan with the dynamos strategy), per call, in ms. `asked`:
 * `again`, the same question each time, which Analyze answers from memory, as it does for the
 * requests that repeat; `anew`, Analyze working it out each time, as for a question it has not
 * seen under this policy.
 */
export function benchDecision(marketplace: Marketplace, request: DataRequest, iterations: number, asked: 'again' | 'anew'): Summary & { deploys: boolean } {
  const k = knowledgeOf(marketplace, 0);
  const decide = () => plan(k, asked === 'again' ? analyze(k, request) : analyzeAfresh(k, request), dynamosStrategy);
  let last = decide();
  for (let i = 0; i < Math.min(1000, iterations); i++) last = decide();
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    last = decide();
    samples.push(performance.now() - t);
  }
  return { ...summarize(samples), deploys: last.kind === 'deploy' };
}
