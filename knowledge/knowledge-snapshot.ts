import type { Marketplace } from './marketplace/load-marketplace.js';

/**
 * What the daemon knows at one moment. Phases read it and never change it; a new snapshot is
 * made for each change (DESIGN §4).
 */
export interface KnowledgeSnapshot {
  readonly marketplace: Marketplace;
  /** Clock time the snapshot describes, in ms since the epoch. */
  readonly at: number;
}
