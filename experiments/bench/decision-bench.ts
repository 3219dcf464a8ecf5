import { analyze } from '../../daemon/mape/analyze.js';
import { plan } from '../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../daemon/mape/strategies/dynamos-strategy.js';
import type { DataRequest } from '../../knowledge/data-request.js';
import { knowledgeOf } from '../../knowledge/knowledge-snapshot.js';
import type { Marketplace } from '../../knowledge/marketplace/load-marketplace.js';
import type { Summary } from './stats.js';
import { summarize } from './stats.js';

/** Time of one decision (analyze + plan with the dynamos strategy), per call, in ms. */
export function benchDecision(marketplace: Marketplace, request: DataRequest, iterations: number): Summary & { deploys: boolean } {
  const k = knowledgeOf(marketplace, 0);
  let last = plan(k, analyze(k, request), dynamosStrategy);
  for (let i = 0; i < Math.min(1000, iterations); i++) last = plan(k, analyze(k, request), dynamosStrategy);
  const samples: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const t = performance.now();
    last = plan(k, analyze(k, request), dynamosStrategy);
    samples.push(performance.now() - t);
  }
  return { ...summarize(samples), deploys: last.kind === 'deploy' };
}
