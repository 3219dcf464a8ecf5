import type { SitesSettings, SitesStatus } from '../adapters/local/sites/index.js';
import type { Marketplace } from '../knowledge/marketplace/load-marketplace.js';
import type { Logger } from '../knowledge/ports/logger.js';

/** The declared sites whose party the marketplace does not name (as a steward or a compute provider). */
export function sitesOfUnknownParties(sites: SitesSettings, marketplace: Marketplace): string[] {
  return Object.keys(sites).filter((party) => !Object.hasOwn(marketplace.dataStewards, party) && !Object.hasOwn(marketplace.computeProviders, party));
}

/**
 * A warning, not CONFIG_INVALID: the marketplace changes while the daemon runs (its file is
 * watched, agreements change over the API) but the sites are fixed at start, so a site may name a
 * party that joins later or has just left. Refusing to start for one and not at a reload would be
 * inconsistent; what matters is that the operator sees it, at start and at every reload, since a
 * misspelt name leaves the real party unbounded.
 */
export function warnOfUnknownSiteParties(sites: SitesSettings, marketplace: Marketplace, logger: Logger): void {
  const unknown = sitesOfUnknownParties(sites, marketplace);
  if (unknown.length === 0) return;
  const known = [...Object.keys(marketplace.dataStewards), ...Object.keys(marketplace.computeProviders)];
  logger.warn('sites are declared for parties the marketplace does not name: no job runs in them (names are case-sensitive)', { unknown, parties: known, marketplace: marketplace.name });
}

/** At start: what the sites hold, or why they do not, in which case their jobs run unbounded. */
export function reportSites(sites: SitesSettings, status: SitesStatus, marketplace: Marketplace, logger: Logger): void {
  if (Object.keys(sites).length === 0) return;
  warnOfUnknownSiteParties(sites, marketplace, logger);
  const notes = status.notes.length === 0 ? {} : { notes: status.notes };
  if (!status.enforced) {
    logger.warn('the sites\' envelopes do not hold in full: their jobs run without the bounds the reason names', { reason: status.reason, ...notes });
    return;
  }
  logger.info('each site\'s jobs run in its envelope', { sites: Object.keys(status.sites), cgroups: status.cgroupVersion, ...(status.bridge === undefined ? {} : { bridge: status.bridge }), ...notes });
}
