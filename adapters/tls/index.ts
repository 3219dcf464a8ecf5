export { createMarketplaceCa } from './marketplace-ca.js';
export type { CreateCaOptions, IssueOptions, MarketplaceCa, PemPair } from './marketplace-ca.js';
export { caCertFileName, caKeyFileName, loadMarketplaceCa, openMarketplaceCa } from './marketplace-ca-files.js';
