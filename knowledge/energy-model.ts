import { z } from 'zod';
import { parseSettings } from './problems.js';

/**
 * Energy where no meter exists: a linear power model driven by CPU utilisation.
 *
 * Fan, Weber and Barroso ("Power provisioning for a warehouse-sized computer", ISCA 2007) found a
 * server's power to track its CPU utilisation `u` closely with
 *
 *     P(u) = P_idle + (P_max − P_idle) · u
 *
 * We state the model per logical CPU (what `os.cpus()` counts and what Kubernetes calls a CPU), so a
 * machine of `n` logical CPUs draws `n · P_idle` at rest and `n · P_max` flat out. A job that used
 * `s` CPU-seconds therefore added `s · (P_max − P_idle)` joules on top of the idle draw: its
 * dynamic energy. (With machine-level figures, per-CPU = machine figure ÷ cores:
 * see {@link energyModelFromMachine}.)
 *
 * What the model ignores, on purpose: memory, disk and network power beyond what the SPECpower
 * servers drew, frequency scaling, turbo, cooling and PUE, and the embodied energy of hardware. It is
 * an estimate for comparing placements, not an energy bill; where Kepler is deployed its
 * measurements are used instead.
 */
export const energyModelSchema = z
  .strictObject({
    /** Watts one logical CPU draws when idle (P_idle ÷ cores). @default 0.74 */
    idleWattsPerCpu: z.number().nonnegative().default(0.74),
    /** Watts one logical CPU draws when fully busy (P_max ÷ cores). @default 3.5 */
    maxWattsPerCpu: z.number().positive().default(3.5),
  })
  .refine((m) => m.maxWattsPerCpu >= m.idleWattsPerCpu, {
    message: 'maxWattsPerCpu must be at least idleWattsPerCpu',
    path: ['maxWattsPerCpu'],
  });

export type EnergyModel = z.output<typeof energyModelSchema>;
export type EnergyModelInput = z.input<typeof energyModelSchema>;

/**
 * The default constants, per logical CPU (vCPU): 0.74 W idle and 3.5 W at full load.
 *
 * Source: the Cloud Carbon Footprint methodology ("Compute", average over the CPU
 * micro-architectures AWS uses), whose min/max watts per vCPU are derived from the published
 * SPECpower_ssj2008 results (https://www.spec.org/power_ssj2008/results/) by the `ccf-coefficients`
 * tool: https://www.cloudcarbonfootprint.org/docs/methodology/ . GCP's median (0.71 W / 4.26 W) and
 * Azure's average (0.78 W / 3.76 W) are within 25 % of these.
 *
 * Assumed: the party's machines are typical 2015–2022 x86 servers; one logical CPU (a hyperthread)
 * is the unit of both utilisation and power; idle power is shared evenly by the CPUs. A laptop or
 * an ARM server differs by a factor of two or more: measure yours (idle and `stress-ng` at 100 %
 * with a wall meter) and pass {@link energyModelFromMachine}'s result.
 */
export const defaultEnergyModel: EnergyModel = Object.freeze({ idleWattsPerCpu: 0.74, maxWattsPerCpu: 3.5 });

/**
 * Per-CPU constants from a whole machine's measured idle and full-load power.
 * @throws DynamosError CONFIG_INVALID when the figures make no model (full load below idle, …)
 */
export function energyModelFromMachine(machine: { idleWatts: number; maxWatts: number; cpus: number }): EnergyModel {
  const perCpu = { idleWattsPerCpu: machine.idleWatts / machine.cpus, maxWattsPerCpu: machine.maxWatts / machine.cpus };
  return parseSettings(energyModelSchema, perCpu, "the machine's energy model");
}

/**
 * Dynamic energy of a job in joules: `cpuSeconds · (P_max − P_idle)` per CPU. The idle draw is
 * not the job's: the machine pays it whether the job runs or not.
 */
export function estimateJobJoules(cpuSeconds: number, model: EnergyModel = defaultEnergyModel): number {
  return Math.max(0, cpuSeconds) * (model.maxWattsPerCpu - model.idleWattsPerCpu);
}

/**
 * Power in watts of `cpus` logical CPUs at utilisation `cpuFraction` (0..1, clamped):
 * `cpus · (P_idle + (P_max − P_idle) · u)`.
 */
export function estimatePowerWatts(cpuFraction: number, cpus: number, model: EnergyModel = defaultEnergyModel): number {
  const u = Math.min(1, Math.max(0, Number.isFinite(cpuFraction) ? cpuFraction : 0));
  return Math.max(0, cpus) * (model.idleWattsPerCpu + (model.maxWattsPerCpu - model.idleWattsPerCpu) * u);
}
