import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { analyze } from '../../../daemon/mape/analyze.js';
import type { Plan } from '../../../daemon/mape/plan.js';
import { jobName, plan } from '../../../daemon/mape/plan.js';
import { dynamosStrategy } from '../../../daemon/mape/strategies/dynamos-strategy.js';
import type { Strategy, StrategyChoice } from '../../../daemon/mape/strategies/strategy.js';
import type { DataRequest } from '../../../knowledge/data-request.js';
import type { JobSpec } from '../../../knowledge/ports/job-runner.js';
import { dataRequest, marketplaceFrom, snapshotOf } from '../../support/fixtures.js';
import type { ConfigEdit } from '../../support/marketplace-builder.js';
import { analyst, givenSnapshot, gradesDataset, randomCase, relation, service, steward } from '../../support/marketplace-builder.js';

const planFor = (request: Partial<DataRequest>, ...edits: ConfigEdit[]): Plan => {
  const k = givenSnapshot(...edits);
  return plan(k, analyze(k, dataRequest(request)), dynamosStrategy);
};
function deployed(p: Plan): Extract<Plan, { kind: 'deploy' }> {
  assert.equal(p.kind, 'deploy', p.kind === 'deny' ? p.message : '');
  return p as Extract<Plan, { kind: 'deploy' }>;
}
const job = (p: Plan, party: string): JobSpec => {
  const found = deployed(p).jobs.find((j) => j.party === party);
  assert.ok(found, `no job at ${party}`);
  return found;
};
const wageGapAt = (s: string) => ['Personen', 'Aanstellingen'].map((t) => ({ name: t, file: `/data/${s}/${t}.csv`, format: 'csv', delimiter: ';' }));
const aggregate = { aggregate: true };

describe('plan: denials', () => {
  const rows: readonly { rule: string; request: Partial<DataRequest>; edits?: ConfigEdit[]; reason: string; message: RegExp }[] = [
    {
      rule: 'nobody authorises the request',
      request: { providers: ['RUG', 'TUD'] },
      reason: 'NO_AUTHORISED_PROVIDER',
      message: /^No data provider authorises this request\.$/,
    },
    { rule: 'no provider is asked at all', request: { providers: [] }, reason: 'NO_AUTHORISED_PROVIDER', message: /authorises/ },
    {
      rule: 'genericRequest has no services to run',
      request: { type: 'genericRequest' },
      reason: 'NO_FEASIBLE_ARCHETYPE',
      message: /^no archetype is feasible .*no services to run/,
    },
    {
      rule: "UVA's mandated anonymize is invalid under every archetype",
      request: {},
      edits: [service('sql-anonymize', { invalidArchetypes: ['computeToData', 'dataThroughTtp'] })],
      reason: 'NO_FEASIBLE_ARCHETYPE',
      message: /sql-anonymize is mandated by UVA/,
    },
  ];
  for (const row of rows) {
    it(`denies ${row.reason} when ${row.rule}`, () => {
      const p = planFor(row.request, ...(row.edits ?? []));
      assert.ok(p.kind === 'deny', 'expected a denial');
      assert.equal(p.reason, row.reason);
      assert.match(p.message, row.message);
      assert.equal(p.explanation.choice, null);
    });
  }
});

describe('plan: a strategy cannot overrule policy', () => {
  const rogue = (choice: StrategyChoice): Strategy => ({ name: 'rogue', rank: () => ({ explainCandidates: () => [], choice, reason: 'rogue choice' }) });
  const rows: readonly { rule: string; choice: StrategyChoice; given?: ConfigEdit }[] = [
    {
      rule: 'an archetype a steward refuses',
      choice: { archetype: 'dataThroughTtp', ttp: 'SURF' },
      given: relation('UVA', { allowedArchetypes: ['computeToData'] }),
    },
    { rule: 'a TTP no agreement allows', choice: { archetype: 'dataThroughTtp', ttp: 'otherCompany' } },
    { rule: 'a TTP for an archetype that computes at the stewards', choice: { archetype: 'computeToData', ttp: 'SURF' } },
    { rule: 'an archetype the marketplace does not define', choice: { archetype: 'reproducableScience' } },
  ];
  for (const row of rows) {
    it(`denies NO_FEASIBLE_ARCHETYPE when the strategy picks ${row.rule}`, () => {
      const k = givenSnapshot(...(row.given === undefined ? [] : [row.given]));
      const p = plan(k, analyze(k, dataRequest()), rogue(row.choice));
      assert.deepEqual({ kind: p.kind, reason: p.kind === 'deny' ? p.reason : undefined }, { kind: 'deny', reason: 'NO_FEASIBLE_ARCHETYPE' });
    });
  }
});

describe('plan: computeToData jobs', () => {
  it('runs one job per authorised steward, named after the request, answering the requester', () => {
    const p = deployed(planFor({}));
    assert.deepEqual(
      p.jobs.map(({ name, party, partyKind, services, inputs, output }) => ({ name, party, partyKind, services, inputs, output })),
      [
        {
          name: 'analyst-0000abcd-vu',
          party: 'VU',
          partyKind: 'dataSteward',
          services: ['sql-query', 'sql-algorithm'],
          inputs: [],
          output: { to: 'requester', streams: 1 },
        },
        {
          name: 'analyst-0000abcd-uva',
          party: 'UVA',
          partyKind: 'dataSteward',
          services: ['sql-query', 'sql-anonymize', 'sql-algorithm'],
          inputs: [],
          output: { to: 'requester', streams: 1 },
        },
      ],
    );
    assert.equal(p.ttp, undefined);
  });

  it('gives a steward its own tables, as absolute files, without anonymization when nothing asks for it', () => {
    const vu = job(planFor({}), 'VU');
    assert.deepEqual(vu.tables, wageGapAt('VU'));
    assert.equal(vu.anonymization, undefined, 'VU mandates no sql-anonymize and the option is off');
    assert.equal(vu.outputColumns, undefined, 'results, not data, leave the steward');
  });

  it("gives a steward whose chain has sql-anonymize the dataset's rules, and says in the chain what they do", () => {
    const p = planFor({});
    const uva = job(p, 'UVA');
    assert.deepEqual(uva.anonymization, {
      Personen: { Unieknr: 'pseudonymize', Gebdat: { generalize: 'year' }, Nationaliteit: 'remove' },
      Aanstellingen: { Unieknr: 'pseudonymize', Ingdatdv: { generalize: 'year' } },
    });
    const chain = p.kind === 'deploy' ? p.explanation.chains.find((c) => c.party === 'UVA') : undefined;
    assert.ok(chain?.notes.includes('sql-anonymize: mandated by UVA for sqlDataRequest'));
    assert.ok(chain?.notes.includes('sql-anonymize: at the source, before the query: Personen: Unieknr pseudonymized, Gebdat to its year, Nationaliteit removed; Aanstellingen: Unieknr pseudonymized, Ingdatdv to its year'));
  });

  it('anonymizes at every steward when the request switches the option on', () => {
    const p = planFor({ options: { anonymize: true } });
    assert.ok(job(p, 'VU').anonymization !== undefined);
    assert.ok(job(p, 'UVA').anonymization !== undefined);
  });

  it("lets a steward's own rule for a column replace the dataset's, and add columns", () => {
    const tables = { Personen: 'UVA/Personen.csv', Aanstellingen: 'UVA/Aanstellingen.csv' };
    const edit = steward('UVA', { datasets: { wageGap: { tables, anonymization: { Personen: { gebdat: 'remove', Geslacht: 'pseudonymize' } } } } });
    const p = planFor({}, edit);
    assert.deepEqual(job(p, 'UVA').anonymization?.['Personen'], { Unieknr: 'pseudonymize', Nationaliteit: 'remove', gebdat: 'remove', Geslacht: 'pseudonymize' });
  });

  it('gives the TTP no tables and no rules: anonymization happens at the stewards, before data leaves', () => {
    const p = planFor({ options: { aggregate: true } });
    assert.deepEqual(job(p, 'SURF').tables, []);
    assert.equal(job(p, 'SURF').anonymization, undefined);
    assert.ok(job(p, 'UVA').anonymization !== undefined);
  });

  const tableRows = [
    { reads: ['Personen'], tables: wageGapAt('UVA'), rules: ['Personen', 'Aanstellingen'] },
    { reads: ['Cijfers'], tables: [{ name: 'Cijfers', file: '/data/UVA/Cijfers.csv', format: 'csv', delimiter: ';' }], rules: ['Cijfers'] },
  ];
  for (const row of tableRows) {
    it(`gives only the tables of the datasets the query reads, with their rules (${row.reads.join(', ')})`, () => {
      const uva = job(planFor({ tables: row.reads }, gradesDataset(['VU', 'UVA'])), 'UVA');
      assert.deepEqual(uva.tables, row.tables);
      assert.deepEqual(Object.keys(uva.anonymization ?? {}), row.rules);
    });
  }
});

describe('plan: dataThroughTtp jobs', () => {
  it('wires every steward to the TTP and the TTP, aggregating, to the requester in one stream', () => {
    const p = deployed(planFor({ options: aggregate }));
    assert.deepEqual([p.archetype, p.ttp], ['dataThroughTtp', 'SURF']);
    assert.deepEqual(job(p, 'VU').output, { to: 'party', party: 'SURF' });
    assert.deepEqual(job(p, 'UVA').output, { to: 'party', party: 'SURF' });
    const surf = job(p, 'SURF');
    assert.deepEqual(
      { name: surf.name, partyKind: surf.partyKind, services: surf.services, inputs: surf.inputs, output: surf.output, tables: surf.tables },
      {
        name: 'analyst-0000abcd-surf',
        partyKind: 'computeProvider',
        services: ['sql-aggregate', 'sql-algorithm'],
        inputs: ['VU', 'UVA'],
        output: { to: 'requester', streams: 1 },
        tables: [],
      },
    );
  });

  it('streams one result per steward when the TTP does not aggregate', () => {
    const p = deployed(planFor({}, ...['VU', 'UVA'].map((s) => relation(s, { allowedArchetypes: ['dataThroughTtp'] }))));
    assert.deepEqual(job(p, 'SURF').services, ['sql-algorithm']);
    assert.deepEqual(job(p, 'SURF').output, { to: 'requester', streams: 2 });
  });

  const minimisation: readonly { rule: string; request: Partial<DataRequest>; columns: readonly string[] | undefined }[] = [
    { rule: 'aggregate then average: only Geslacht and Salschal leave', request: { options: aggregate }, columns: ['Geslacht', 'Salschal'] },
    { rule: 'an algorithm reading every column: all columns leave', request: { options: aggregate, algorithm: 'none' }, columns: undefined },
    { rule: 'describe reads every column too', request: { options: aggregate, algorithm: 'describe' }, columns: undefined },
  ];
  for (const row of minimisation) {
    it(`minimises what stewards send to the TTP: ${row.rule}`, () => {
      const p = deployed(planFor(row.request));
      assert.deepEqual(job(p, 'VU').outputColumns, row.columns);
      assert.deepEqual(job(p, 'UVA').outputColumns, row.columns);
    });
  }

  it("keeps UVA's mandated anonymize at UVA, before its data leaves", () => {
    const p = deployed(planFor({ options: aggregate }));
    assert.deepEqual(job(p, 'UVA').services, ['sql-query', 'sql-anonymize']);
    assert.deepEqual(job(p, 'VU').services, ['sql-query']);
  });
});

describe('plan: the explanation', () => {
  it('records strategy, policy revision, every candidate, the choice and each party’s chain', () => {
    const k = givenSnapshot();
    const p = deployed(plan(k, analyze(k, dataRequest({ options: aggregate })), dynamosStrategy));
    const e = p.explanation;
    assert.deepEqual([e.strategy, e.policyRevision, e.choice], ['dynamos', k.marketplace.revision, { archetype: 'dataThroughTtp', ttp: 'SURF' }]);
    assert.deepEqual(e.candidates.map((c) => [c.archetype, c.rank]), [['dataThroughTtp', 1], ['computeToData', 2]]);
    assert.deepEqual(e.chains.map((c) => [c.party, c.role]), [['VU', 'dataProvider'], ['UVA', 'dataProvider'], ['SURF', 'computeProvider']]);
    assert.ok(e.chains.every((c) => c.notes.length > 0));
  });
});

describe('plan: job names', () => {
  const rows: readonly { requestId: string; party: string; name: string }[] = [
    { requestId: 'analyst-0000abcd', party: 'UVA', name: 'analyst-0000abcd-uva' },
    { requestId: 'J.Doe_x+1', party: 'SURF', name: 'j-doe-x-1-surf' },
    { requestId: '--a', party: 'B--', name: 'a-b' },
  ];
  for (const row of rows) {
    it(`names ${row.requestId} at ${row.party} ${row.name}, a DNS-1123 label`, () => {
      assert.equal(jobName(row.requestId, row.party), row.name);
    });
  }

  it('keeps names of a long request id valid labels, distinct per party and per request', () => {
    const label = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
    const id = (n: number) => `${'a'.repeat(53)}-${'b'.repeat(8)}-${n}-0000abcd`;
    const names = [jobName(id(1), 'VU'), jobName(id(1), 'UVA'), jobName(id(1), 'SURF'), jobName(id(2), 'VU')];
    for (const n of names) assert.ok(n.length <= 63 && label.test(n), `${n} is not a DNS-1123 label`);
    assert.equal(new Set(names).size, names.length, names.join('\n'));
  });
});

describe('plan: policy is a hard constraint (random marketplaces)', () => {
  it('never deploys to a denied steward nor under an archetype or TTP an involved agreement forbids', () => {
    const deployedArchetypes = new Map<string, number>();
    for (let seed = 1; seed <= 600; seed++) {
      const { config, request } = randomCase(seed);
      const k = snapshotOf(marketplaceFrom(config));
      const a = analyze(k, request);
      const p = plan(k, a, dynamosStrategy);
      if (p.kind === 'deny') continue;
      deployedArchetypes.set(p.archetype, (deployedArchetypes.get(p.archetype) ?? 0) + 1);
      assertRespectsAgreements(config, request, a.denied.map((d) => d.provider), p, seed);
    }
    assert.ok((deployedArchetypes.get('computeToData') ?? 0) > 20, 'too few computeToData cases to mean anything');
    assert.ok((deployedArchetypes.get('dataThroughTtp') ?? 0) > 20, 'too few dataThroughTtp cases to mean anything');
  });
});

/** Checks a deployment against the config as written, independently of policy.ts. */
function assertRespectsAgreements(
  config: ReturnType<typeof randomCase>['config'],
  request: DataRequest,
  denied: readonly string[],
  p: Extract<Plan, { kind: 'deploy' }>,
  seed: number,
): void {
  const at = `seed ${seed}`;
  for (const j of p.jobs.filter((x) => x.partyKind === 'dataSteward')) {
    assert.ok(!denied.includes(j.party) && request.providers.includes(j.party), `${at}: job at ${j.party}`);
    const s = config.dataStewards[j.party];
    const r = s?.relations?.[analyst];
    assert.ok(r !== undefined && r.requestTypes.includes(request.type), `${at}: ${j.party} has no agreement for ${request.type}`);
    assert.ok(r.allowedArchetypes.includes(p.archetype) && (s?.archetypes ?? []).includes(p.archetype), `${at}: ${p.archetype} at ${j.party}`);
    if (p.ttp !== undefined) assert.ok(r.allowedComputeProviders?.includes(p.ttp) && s?.computeProviders?.includes(p.ttp), `${at}: ${p.ttp} for ${j.party}`);
    const allowedFiles = r.datasets.flatMap((d) => Object.values(s?.datasets?.[d]?.tables ?? {}).map((f) => `/data/${f}`));
    for (const t of j.tables) assert.ok(allowedFiles.includes(t.file), `${at}: ${j.party} may not read ${t.file}`);
  }
  assert.equal(p.ttp !== undefined, p.jobs.some((j) => j.partyKind === 'computeProvider'), `${at}: TTP job iff a TTP`);
}
