import assert from 'node:assert/strict';
import { policyViolation } from '../../replay/policy-audit.js';
import { referenceMarketplace } from '../../replay/traces/golden-traces.js';
import type { MarketplaceConfig } from '../../knowledge/marketplace/marketplace-schema.js';

const m = () => referenceMarketplace() as MarketplaceConfig;
const run = { requester: 'analyst@uva.example', requestType: 'sqlDataRequest', tables: ['Personen'], archetype: 'dataThroughTtp', ttp: 'SURF', stewards: ['UVA', 'VU'] };

describe('policy audit (independent of the daemon policy code)', () => {
  it('passes what the agreements allow', () => assert.equal(policyViolation(m(), run), undefined));

  it('names each way a run can break an agreement', () => {
    assert.match(policyViolation(m(), { ...run, stewards: ['RUG'] }) ?? '', /RUG has no relation/);
    assert.match(policyViolation(m(), { ...run, ttp: 'elsewhere' }) ?? '', /trusted third party elsewhere/);
    assert.match(policyViolation(m(), { ...run, tables: ['Salaries'] }) ?? '', /holds no table Salaries/);
    assert.match(policyViolation(m(), { ...run, requestType: 'other' }) ?? '', /does not allow other/);
    const narrowed = m();
    const uva = narrowed.dataStewards['UVA'];
    if (uva === undefined) throw new Error('no UVA');
    narrowed.dataStewards['UVA'] = { ...uva, relations: { 'analyst@uva.example': { ...uva.relations['analyst@uva.example']!, allowedArchetypes: ['computeToData'] } } };
    assert.match(policyViolation(narrowed, run) ?? '', /UVA does not allow dataThroughTtp/);
  });
});
