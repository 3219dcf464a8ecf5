/**
 * Resource quantities ("500m", "2Gi", "1e3") as numbers: cores for CPU, bytes for memory.
 * https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
const quantityPattern = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;
const binary: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimal: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The quantity's value, or undefined when it is not one (the apiserver refuses such a body with 400). */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const match = quantityPattern.exec(text.trim());
  if (match === null) return undefined;
  const number = Number(match[1]);
  const suffix = match[2] ?? '';
  if (!Number.isFinite(number)) return undefined;
  const factor = binary[suffix] ?? decimal[suffix] ?? (/^[eE][-+]?[0-9]+$/.test(suffix) ? 10 ** Number(suffix.slice(1)) : undefined);
  return factor === undefined ? undefined : number * factor;
}

/** Writes cores as the apiserver does: whole cores plainly, fractions in millicores. */
export function formatCpu(cores: number): string {
  return Number.isInteger(cores) ? String(cores) : `${Math.round(cores * 1000)}m`;
}

export function formatMiB(mebibytes: number): string {
  return `${mebibytes}Mi`;
}
