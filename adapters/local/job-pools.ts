import type { Clock } from '../../knowledge/ports/clock.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import type { JobProcess, JobProcessOptions } from './job-process.js';
import type { SiteEnvelopes } from './sites/index.js';
import { WarmPool } from './warm-pool.js';

export interface JobPoolSizes {
  /** The pool of the parties whose jobs run on the host's network. */
  readonly shared: number;
  /** The pool of each party whose site has a network namespace of its own. */
  readonly perNetworkedSite: number;
}

/**
 * The runner's warm processes. A process cannot enter a network namespace once it has started, so a
 * party whose site has a namespace gets a small pool of its own, started inside it; every other
 * party takes from the shared pool. Processes are placed in their site's cgroups only when taken,
 * so a waiting process counts toward no party's load.
 */
export class JobPools {
  /** Resolves once the networked sites' pools exist: their namespaces are made when the envelopes open. */
  readonly ready: Promise<void>;
  private readonly shared: WarmPool;
  private readonly bySite = new Map<string, WarmPool>();
  private closed = false;

  constructor(
    sizes: JobPoolSizes,
    options: JobProcessOptions,
    deps: { readonly logger: Logger; readonly clock: Clock },
    sites: Promise<SiteEnvelopes>,
    parties: readonly string[],
  ) {
    this.shared = new WarmPool(sizes.shared, options, deps);
    this.ready = sites.then(
      (envelopes) => {
        if (this.closed) return;
        for (const party of parties) {
          const launchPrefix = envelopes.launchPrefix(party);
          if (launchPrefix !== undefined) this.bySite.set(party, new WarmPool(sizes.perNetworkedSite, { ...options, launchPrefix }, deps));
        }
      },
      // The runner reports the envelopes' failure where it awaits them; the shared pool serves on.
      () => undefined,
    );
  }

  /** A fresh process for a job of `party`, started in its site's namespace when it has one. Call after `ready`. */
  take(party: string): JobProcess {
    return (this.bySite.get(party) ?? this.shared).take();
  }

  /** Refills every pool; call once a request is done (see `WarmPool.take`). */
  refill(): void {
    this.shared.refill();
    for (const pool of this.bySite.values()) pool.refill();
  }

  async whenWarm(): Promise<void> {
    await this.ready;
    await Promise.all([this.shared, ...this.bySite.values()].map((pool) => pool.whenWarm()));
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.ready;
    await Promise.all([this.shared, ...this.bySite.values()].map((pool) => pool.close()));
  }
}
