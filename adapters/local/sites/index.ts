export type { SiteEnvelopes, SiteEnvelopesOptions, SiteStatus, SitesStatus, SiteUsage } from './site-envelopes.js';
export { openSiteEnvelopes } from './site-envelopes.js';
export type { SiteSettings, SiteSettingsInput, SitesSettings, SitesSettingsInput } from './site-settings.js';
export { siteSettingsSchema, sitesSettingsSchema } from './site-settings.js';
