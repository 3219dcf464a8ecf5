import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { MarketplaceInput } from '../../knowledge/marketplace/marketplace-schema.js';
import { seededRandom } from '../../knowledge/seeded-random.js';

export interface MarketplaceShape {
  readonly stewards: number;
  readonly relationsPerSteward: number;
  readonly ttps: number;
  /** @default 1 */
  readonly seed?: number;
}

/**
 * A large marketplace on the example's catalog (archetypes, microservices, request types, the
 * wageGap dataset), for measuring decisions at scale. Steward `S0000`… each holds wageGap and has
 * `relationsPerSteward` relations; requester `r0@example.org` is among them everywhere, so a
 * request by r0 exercises the whole policy check. Deterministic per seed.
 */
export function generateMarketplace(shape: MarketplaceShape, exampleFile: string): MarketplaceInput {
  const example = parse(readFileSync(exampleFile, 'utf8')) as MarketplaceInput;
  const random = seededRandom(shape.seed ?? 1);
  const ttps = Array.from({ length: shape.ttps }, (_, i) => `TTP${i}`);
  const pick = <T>(items: readonly T[]): T[] => items.filter(() => random() < 0.7);
  const dataStewards: MarketplaceInput['dataStewards'] = {};
  for (let s = 0; s < shape.stewards; s++) {
    const name = `S${String(s).padStart(4, '0')}`;
    const relations: NonNullable<MarketplaceInput['dataStewards'][string]['relations']> = {};
    for (let r = 0; r < shape.relationsPerSteward; r++) {
      const requester = r === 0 ? 'r0@example.org' : `r${1 + Math.floor(random() * shape.stewards * 10)}@example.org`;
      relations[requester] = {
        requestTypes: ['sqlDataRequest'],
        datasets: ['wageGap'],
        allowedArchetypes: r === 0 ? ['computeToData', 'dataThroughTtp'] : pick(['computeToData', 'dataThroughTtp']),
        allowedComputeProviders: r === 0 ? ttps : pick(ttps),
      };
    }
    dataStewards[name] = {
      datasets: { wageGap: { tables: { Personen: path.join(name, 'Personen.csv'), Aanstellingen: path.join(name, 'Aanstellingen.csv') } } },
      archetypes: ['computeToData', 'dataThroughTtp'],
      computeProviders: ttps,
      ...(s % 3 === 0 ? { mandatedServices: { sqlDataRequest: ['sql-anonymize'] } } : {}),
      relations,
    };
  }
  return {
    ...example,
    name: `generated-${shape.stewards}x${shape.relationsPerSteward}`,
    computeProviders: Object.fromEntries(ttps.map((t) => [t, {}])),
    dataStewards,
  };
}
