import type { MarketplaceConfig } from '../knowledge/marketplace/marketplace-schema.js';
import type { TraceEvent } from './traces/trace-format.js';

type AgreementEvent = Extract<TraceEvent, { kind: 'agreement' }>;

/**
 * The world a replay runs in, as the trace tells it: each party's latest load and liveness, and
 * the agreements in force. It is the truth the job model and the policy audit read; the strategies
 * see it only through their own knowledge base, fed the same events.
 */
export class ReplayWorld {
  private readonly cpu = new Map<string, number>();
  private readonly memory = new Map<string, number>();
  private readonly up = new Map<string, boolean>();
  private readonly marked = new Set<string>();
  private config: MarketplaceConfig;

  constructor(marketplace: MarketplaceConfig) {
    this.config = marketplace;
  }

  /** The marketplace with every agreement change so far: what the policy audit checks against. */
  get marketplace(): MarketplaceConfig {
    return this.config;
  }

  /** Records a sample; returns true when the party went down with it. */
  sample(event: Extract<TraceEvent, { kind: 'metrics' }>): boolean {
    if (event.cpu !== undefined) this.cpu.set(event.party, event.cpu);
    if (event.memory !== undefined) this.memory.set(event.party, event.memory);
    if (event.up === undefined) return false;
    const wasOnline = this.isOnline(event.party);
    this.up.set(event.party, event.up === 1);
    return wasOnline && !this.isOnline(event.party);
  }

  /** Marks a party; returns true when it went offline with it. */
  mark(party: string, online: boolean): boolean {
    const wasOnline = this.isOnline(party);
    if (online) this.marked.delete(party);
    else this.marked.add(party);
    return wasOnline && !this.isOnline(party);
  }

  /** Applies a steward's new agreement as `PUT /api/v1/agreements/{steward}` does: what it leaves out stays. */
  agreement(event: AgreementEvent): void {
    const steward = this.config.dataStewards[event.steward];
    if (steward === undefined) return;
    const given = Object.fromEntries(Object.entries(event.agreement).filter(([, v]) => v !== undefined));
    this.config = { ...this.config, dataStewards: { ...this.config.dataStewards, [event.steward]: { ...steward, ...given } } };
  }

  isOnline(party: string): boolean {
    return !this.marked.has(party) && this.up.get(party) !== false;
  }

  cpuOf(party: string): number {
    return this.cpu.get(party) ?? 0;
  }

  /** The higher of a party's CPU and memory load. */
  peakOf(party: string): number {
    return Math.max(this.cpu.get(party) ?? 0, this.memory.get(party) ?? 0);
  }
}
