import { z } from 'zod';
import { DynamosError } from '../errors.js';
import type { KnowledgeBase } from '../knowledge-base.js';
import type { MarketplaceConfig } from './marketplace-schema.js';
import { relationSchema } from './marketplace-schema.js';
import { validateMarketplace } from './load-marketplace.js';
import { problemsFromZod } from '../problems.js';

/**
 * A data steward's agreement as `PUT /api/v1/agreements/{steward}` takes it: the archetypes and
 * compute providers it allows at all, and its relations with requesters. What is left out stays
 * as it was; the datasets a steward holds are not part of an agreement.
 */
export const agreementSchema = z.strictObject({
  archetypes: z.array(z.string().min(1)).optional(),
  computeProviders: z.array(z.string().min(1)).optional(),
  mandatedServices: z.record(z.string().min(1), z.array(z.string().min(1))).optional(),
  relations: z.record(z.string().min(1), relationSchema).optional(),
});

export function agreementOf(kb: KnowledgeBase, steward: string) {
  const s = stewardOf(kb, steward);
  return { steward, policyRevision: kb.current().marketplace.revision, archetypes: s.archetypes, computeProviders: s.computeProviders, mandatedServices: s.mandatedServices, relations: s.relations };
}

/**
 * Replaces parts of a steward's agreement at run time. The whole marketplace is validated again
 * (an unknown archetype or TTP is refused with its path) and becomes a new policy revision; the
 * background loop then cancels running work the new agreement no longer allows.
 */
export function replaceAgreement(kb: KnowledgeBase, steward: string, body: unknown, at: number) {
  const parsed = agreementSchema.safeParse(body);
  if (!parsed.success) throw invalid(problemsFromZod(parsed.error));
  const current = kb.current().marketplace;
  const old = stewardOf(kb, steward);
  const { revision: previousRevision, dataDir, ...config } = current;
  const next: MarketplaceConfig = { ...config, dataStewards: { ...config.dataStewards, [steward]: { ...old, ...withoutUndefined(parsed.data) } } };
  const result = validateMarketplace(next, dataDir);
  if (!result.ok) throw invalid(result.problems);
  kb.apply({ kind: 'marketplaceChanged', marketplace: result.marketplace, at });
  return { steward, previousRevision, policyRevision: result.marketplace.revision };
}

function stewardOf(kb: KnowledgeBase, steward: string) {
  const m = kb.current().marketplace;
  const s = Object.hasOwn(m.dataStewards, steward) ? m.dataStewards[steward] : undefined;
  if (s === undefined) throw new DynamosError('NOT_FOUND', `no data steward "${steward}" (known: ${Object.keys(m.dataStewards).join(', ')})`, { retryable: false });
  return s;
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function invalid(problems: readonly { path: string; message: string }[]): DynamosError {
  return new DynamosError('REQUEST_INVALID', `invalid agreement: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { retryable: false, details: { problems } });
}
