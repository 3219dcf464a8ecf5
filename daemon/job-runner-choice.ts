import type { EventEmitter } from 'node:events';
import { KubernetesJobRunner } from '../adapters/kubernetes/index.js';
import { createLocalJobRunner, DataPlaneCredentials } from '../adapters/local/index.js';
import type { LocalJobRunner } from '../adapters/local/index.js';
import type { SiteUsageSource } from '../adapters/local/local-metrics-source.js';
import type { MarketplaceCa } from '../adapters/tls/index.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import type { Clock } from '../knowledge/ports/clock.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { DaemonConfig } from './config.js';
import { reportSites } from './site-checks.js';

/** Where a daemon runs its jobs: local processes (the embedded default) or Kubernetes Jobs (cluster mode). */
export interface DaemonJobs {
  readonly runner: LocalJobRunner | KubernetesJobRunner;
  /** `jobEnded` reports, for the local metrics source. */
  readonly events: EventEmitter;
  /** Each site's own CPU and memory, where the sites are held on this machine. */
  readonly siteUsage: SiteUsageSource;
  /** What /healthz says of the sites. */
  sitesStatus(): unknown;
  /** How a job's memory is bounded, for /healthz. */
  memoryBounds(): Promise<{ readonly jobMemoryMiB: number; readonly osLimit: string }>;
  /** Resolves when jobs can start at once. */
  whenWarm(): Promise<void>;
}

export async function openDaemonJobs(config: DaemonConfig, marketplace: Marketplace, ca: MarketplaceCa, deps: { logger: Logger; clock: Clock }): Promise<DaemonJobs> {
  const credentials = new DataPlaneCredentials(ca);
  if (config.kubernetes !== undefined) {
    const parties = [...Object.keys(marketplace.dataStewards), ...Object.keys(marketplace.computeProviders)];
    const jobMemoryMiB = config.runner.jobMemoryMiB;
    const runner = new KubernetesJobRunner(config.kubernetes, { ...deps, credentials, sites: config.sites, parties, dataDir: marketplace.dataDir, jobMemoryMiB });
    const sites = Object.fromEntries(Object.entries(config.sites).map(([party, site]) => [party, { cpus: site.cpus, memoryMiB: site.memoryMiB, ...(site.kubernetes === undefined ? {} : { kubernetes: site.kubernetes }) }]));
    return {
      runner,
      events: runner.events,
      siteUsage: { usage: () => Promise.resolve(undefined) },
      sitesStatus: () => ({ enforced: true, by: 'Kubernetes: each party\'s Jobs get its site\'s CPU and memory as requests and limits', sites }),
      memoryBounds: () => Promise.resolve({ jobMemoryMiB, osLimit: 'the Job\'s memory limit (Kubernetes)' }),
      whenWarm: () => runner.cleanedUp.then(() => undefined),
    };
  }
  const runner = createLocalJobRunner(config.runner, { ...deps, credentials, sites: config.sites });
  const sites = await runner.siteEnvelopes();
  reportSites(config.sites, sites.status(), marketplace, deps.logger);
  return { runner, events: runner.events, siteUsage: sites, sitesStatus: () => sites.status(), memoryBounds: () => runner.memoryBounds(), whenWarm: () => runner.whenWarm() };
}
