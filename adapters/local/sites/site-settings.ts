/** The sites' settings are shared with the Kubernetes runner, so they live in the knowledge layer. */
export type { SiteSettings, SiteSettingsInput, SitesSettings, SitesSettingsInput } from '../../../knowledge/site-settings.js';
export { siteSettingsSchema, sitesSettingsSchema } from '../../../knowledge/site-settings.js';
