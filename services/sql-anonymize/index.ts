import { DynamosError } from '../../knowledge/errors.js';
import type { DataSet, Microservice, ServiceContext } from '../microservice.js';

export { anonymizedSelectList, freshPseudonymSecret } from './source-view.js';
export type { PseudonymSecret } from './source-view.js';

/**
 * sql-anonymize: the steward's anonymisation (`job.anonymization`: remove, pseudonymise or
 * generalise, per table and column) applied **at the source**. Its work happens when the job
 * opens its workspace: each steward table is then a view that already removes, pseudonymises
 * and generalises (source-view.ts), and no other view of the data exists, so no alias,
 * expression, cast, join or algorithm downstream can bring a raw value back. The original cut
 * dates after the query by column name, which any alias defeated.
 *
 * At its place in the chain it checks that this happened, and passes its inputs on.
 *
 * @throws DynamosError INTERNAL when the chain names sql-anonymize but the workspace was opened
 *   without the steward's anonymisation (a wiring mistake must not let raw data through).
 */
export const sqlAnonymize: Microservice = {
  name: 'sql-anonymize',
  run(ctx: ServiceContext, inputs: readonly DataSet[]): Promise<DataSet[]> {
    if (ctx.job.anonymization === undefined || !ctx.anonymizedAtSource) {
      return Promise.reject(
        new DynamosError('INTERNAL', `sql-anonymize refuses to pass data on: ${ctx.job.party}'s tables were not anonymized at the source`, { retryable: false }),
      );
    }
    return Promise.resolve([...inputs]);
  },
};
