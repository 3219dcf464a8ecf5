import type { BuiltInService } from '../knowledge/catalog.js';
import { builtInServices, isBuiltInService } from '../knowledge/catalog.js';
import { DynamosError } from '../knowledge/errors.js';
import type { Microservice } from './microservice.js';
import { sqlAggregate } from './sql-aggregate/index.js';
import { sqlAlgorithm } from './sql-algorithm/index.js';
import { sqlAnonymize } from './sql-anonymize/index.js';
import { sqlGraph } from './sql-graph/index.js';
import { sqlQuery } from './sql-query/index.js';

/** Every built-in microservice by name: the data plane implements exactly the catalog's services. */
export const microservices: Readonly<Record<BuiltInService, Microservice>> = {
  'sql-query': sqlQuery,
  'sql-anonymize': sqlAnonymize,
  'sql-aggregate': sqlAggregate,
  'sql-algorithm': sqlAlgorithm,
  'sql-graph': sqlGraph,
};

/**
 * The microservice a job's chain names.
 * @throws DynamosError CONFIG_INVALID for a name that is not a built-in service (a checked
 *   marketplace config names none).
 */
export function serviceNamed(name: string): Microservice {
  if (isBuiltInService(name)) return microservices[name];
  throw new DynamosError('CONFIG_INVALID', `unknown microservice "${name}"; known: ${builtInServices.join(', ')}`, { retryable: false });
}
