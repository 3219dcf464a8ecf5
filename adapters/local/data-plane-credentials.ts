import type { DataPlaneIdentity } from '../../knowledge/data-plane-identity.js';
import { identityUri } from '../../knowledge/data-plane-identity.js';
import type { DataPlaneTls } from '../../services/sidecar/data-plane-tls.js';
import type { MarketplaceCa } from '../tls/index.js';
import { createMarketplaceCa } from '../tls/index.js';

/** How long an issued certificate is valid; it is issued again after half of it. */
const validityMs = 24 * 60 * 60 * 1000;

/**
 * The certificates of the data plane on this machine: one per party and one for the result
 * collector, issued by the marketplace CA on first use and kept in memory only (a job gets its
 * party's over its control channel; nothing is written to disk).
 */
export class DataPlaneCredentials {
  private readonly issued = new Map<string, { tls: Promise<DataPlaneTls>; renewAt: number }>();

  constructor(private readonly ca: MarketplaceCa) {}

  /** A CA of this process's own, for a runner no marketplace CA was given to (tests, tools). */
  static async ephemeral(): Promise<DataPlaneCredentials> {
    return new DataPlaneCredentials(await createMarketplaceCa({ name: 'DYNAMOS ephemeral data-plane CA', validityDays: 2 }));
  }

  /** SHA-256 of the CA certificate, for /healthz and the start log. */
  get caFingerprint(): string {
    return this.ca.fingerprint;
  }

  /**
   * A certificate of `identity` for one request only, valid until `until` (epoch ms) and kept
   * nowhere: for a job whose key leaves this process (a Kubernetes Secret), so a key read there
   * is worth nothing once its request is over.
   */
  forOneRequest(identity: DataPlaneIdentity, until: number): Promise<DataPlaneTls> {
    const validityMs = Math.max(1_000, until - Date.now());
    return this.ca.issue(identity, { validityMs }).then(({ cert, key }) => ({ ca: this.ca.cert, cert, key }));
  }

  for(identity: DataPlaneIdentity): Promise<DataPlaneTls> {
    const key = identityUri(identity);
    // The real clock, not the runner's: TLS judges a certificate's validity by it.
    const now = Date.now();
    const kept = this.issued.get(key);
    if (kept !== undefined && kept.renewAt > now) return kept.tls;
    const tls = this.ca.issue(identity, { validityMs }).then(({ cert, key: privateKey }) => ({ ca: this.ca.cert, cert, key: privateKey }));
    // A failed issue is not kept: the next job asks again.
    tls.catch(() => this.issued.delete(key));
    this.issued.set(key, { tls, renewAt: now + validityMs / 2 });
    return tls;
  }
}
