import assert from 'node:assert/strict';
import {
  defaultEnergyModel,
  energyModelFromMachine,
  energyModelSchema,
  estimateJobJoules,
  estimatePowerWatts,
} from '../../knowledge/energy-model.js';

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) < 1e-9, `${what}: expected ${expected}, got ${actual}`);

describe('energy model (linear in CPU utilisation, Fan et al. 2007)', () => {
  describe('estimateJobJoules: dynamic energy = cpuSeconds × (P_max − P_idle) per CPU', () => {
    const rows = [
      { rule: 'no CPU time, no energy', cpuSeconds: 0, model: defaultEnergyModel, joules: 0 },
      { rule: 'one CPU-second at the default 3.5 − 0.74 W', cpuSeconds: 1, model: defaultEnergyModel, joules: 2.76 },
      { rule: 'scales linearly with CPU-seconds', cpuSeconds: 10, model: defaultEnergyModel, joules: 27.6 },
      { rule: 'a flat model (idle = max) has no dynamic energy', cpuSeconds: 5, model: { idleWattsPerCpu: 2, maxWattsPerCpu: 2 }, joules: 0 },
      { rule: 'negative CPU time counts as none', cpuSeconds: -3, model: defaultEnergyModel, joules: 0 },
      // A 16-CPU server measured at 100 W idle and 260 W flat out: (260 − 100) / 16 = 10 W per CPU.
      { rule: 'machine figures divide by its CPUs', cpuSeconds: 3, model: energyModelFromMachine({ idleWatts: 100, maxWatts: 260, cpus: 16 }), joules: 30 },
    ];
    for (const row of rows) {
      it(row.rule, () => close(estimateJobJoules(row.cpuSeconds, row.model), row.joules, row.rule));
    }
  });

  describe('estimatePowerWatts: P = cpus × (P_idle + (P_max − P_idle) × u)', () => {
    const rows = [
      { rule: 'idle machine draws idle power', u: 0, cpus: 8, watts: 8 * 0.74 },
      { rule: 'full machine draws max power', u: 1, cpus: 8, watts: 8 * 3.5 },
      { rule: 'half load is halfway', u: 0.5, cpus: 4, watts: 4 * (0.74 + 2.76 * 0.5) },
      { rule: 'utilisation above 1 is capped', u: 1.7, cpus: 2, watts: 2 * 3.5 },
      { rule: 'negative utilisation counts as idle', u: -0.2, cpus: 2, watts: 2 * 0.74 },
      { rule: 'NaN utilisation counts as idle', u: Number.NaN, cpus: 1, watts: 0.74 },
      { rule: 'no CPUs, no power', u: 0.5, cpus: 0, watts: 0 },
    ];
    for (const row of rows) {
      it(row.rule, () => close(estimatePowerWatts(row.u, row.cpus, defaultEnergyModel), row.watts, row.rule));
    }

    it('agrees with the job energy: a second at full load of one CPU adds P_max − P_idle joules', () => {
      const extra = estimatePowerWatts(1, 1) - estimatePowerWatts(0, 1);
      close(extra, estimateJobJoules(1), 'one busy CPU-second');
    });
  });

  describe('energyModelSchema', () => {
    it('fills the documented defaults (CCF average of SPECpower per vCPU: 0.74 W / 3.5 W)', () => {
      assert.deepEqual(energyModelSchema.parse({}), { idleWattsPerCpu: 0.74, maxWattsPerCpu: 3.5 });
      assert.deepEqual(energyModelSchema.parse({}), defaultEnergyModel);
    });

    const invalid = [
      { rule: 'max below idle', input: { idleWattsPerCpu: 5, maxWattsPerCpu: 3 }, path: 'maxWattsPerCpu' },
      { rule: 'negative idle', input: { idleWattsPerCpu: -1 }, path: 'idleWattsPerCpu' },
      { rule: 'zero max', input: { maxWattsPerCpu: 0 }, path: 'maxWattsPerCpu' },
      { rule: 'unknown key', input: { tdpWatts: 150 }, path: '' },
    ];
    for (const row of invalid) {
      it(`rejects ${row.rule}`, () => {
        const result = energyModelSchema.safeParse(row.input);
        assert.equal(result.success, false);
        assert.equal(result.error?.issues[0]?.path.join('.'), row.path);
      });
    }
  });
});
