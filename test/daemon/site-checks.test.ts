import assert from 'node:assert/strict';
import type { SitesStatus } from '../../adapters/local/sites/index.js';
import { sitesSettingsSchema } from '../../adapters/local/sites/index.js';
import { reportSites, sitesOfUnknownParties } from '../../daemon/site-checks.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { marketplaceFrom } from '../support/fixtures.js';

interface Line {
  readonly level: string;
  readonly message: string;
  readonly fields: Record<string, unknown> | undefined;
}

function recordingLogger(): Logger & { readonly lines: Line[] } {
  const lines: Line[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, fields });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

const enforced: SitesStatus = { enforced: true, cgroupVersion: 'v1', notes: [], sites: { SURF: { cpus: 0.5 } } };

describe('what the daemon says of its sites at start', () => {
  const marketplace = marketplaceFrom();

  it('names the sites of parties the marketplace does not know, stewards and TTPs being known, case and all', () => {
    const sites = sitesSettingsSchema.parse({ SURF: {}, UVA: {}, Surf: {}, nobody: { cpus: 1 } });
    assert.deepEqual(sitesOfUnknownParties(sites, marketplace), ['Surf', 'nobody']);
    const logger = recordingLogger();
    reportSites(sites, enforced, marketplace, logger);
    const warning = logger.lines.find((l) => l.level === 'warn');
    assert.match(warning?.message ?? '', /sites are declared for parties the marketplace does not name/);
    assert.deepEqual(warning?.fields?.['unknown'], ['Surf', 'nobody']);
  });

  it('warns with the reason when the envelopes do not hold, and says nothing without sites', () => {
    const logger = recordingLogger();
    const reason = 'the site envelopes do not hold: cgroups: no cgroup cpu and memory controllers are writable by this user (uid 1000): …';
    reportSites(sitesSettingsSchema.parse({ SURF: { cpus: 0.5 } }), { enforced: false, reason, notes: [], sites: { SURF: { cpus: 0.5 } } }, marketplace, logger);
    assert.deepEqual(logger.lines.map((l) => [l.level, l.fields?.['reason']]), [['warn', reason]]);
    reportSites({}, { enforced: true, notes: [], sites: {} }, marketplace, logger);
    assert.equal(logger.lines.length, 1);
  });

  it('says which sites hold, with the notes an operator should read', () => {
    const logger = recordingLogger();
    reportSites(sitesSettingsSchema.parse({ SURF: { cpus: 0.5 } }), { ...enforced, notes: ['links are limited in rate only'] }, marketplace, logger);
    assert.deepEqual(logger.lines.map((l) => [l.level, l.fields?.['sites'], l.fields?.['notes']]), [['info', ['SURF'], ['links are limited in rate only']]]);
  });
});
