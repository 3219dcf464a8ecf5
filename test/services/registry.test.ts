import assert from 'node:assert/strict';
import { builtInServices } from '../../knowledge/catalog.js';
import type { DynamosError } from '../../knowledge/errors.js';
import { microservices, serviceNamed } from '../../services/registry.js';

describe('services/registry', () => {
  it('implements exactly the catalog\'s built-in services, each under its own name', () => {
    assert.deepEqual(Object.keys(microservices).sort(), [...builtInServices].sort());
    for (const name of builtInServices) assert.equal(serviceNamed(name).name, name);
  });

  it('throws CONFIG_INVALID for an unknown service', () => {
    assert.throws(
      () => serviceNamed('dynamos-anonymize'),
      (e: DynamosError) => e.code === 'CONFIG_INVALID' && /unknown microservice "dynamos-anonymize"/.test(e.message),
    );
  });
});
