import { readFileSync } from 'node:fs';
import { Authenticator } from './api/authenticator.js';
import type { TlsMaterial } from './api/http-server.js';
import { TokenVerifier } from './api/token-verifier.js';
import { trustedIssuersOf } from './api/trusted-issuers.js';
import type { TlsSettings } from './api/auth-settings.js';
import { DynamosError } from '../knowledge/errors.js';
import type { Clock } from '../knowledge/ports/clock.js';
import type { Logger } from '../knowledge/ports/logger.js';
import type { DaemonConfig } from './config.js';
import { keysDirOf } from './config.js';
import { LocalIssuer } from './local-issuer.js';

/** How the daemon knows its callers: the authenticator, the local issuer when it runs one, HTTPS. */
export interface DaemonAuth {
  readonly authenticator: Authenticator;
  /** Present when no issuer is configured: the daemon mints and trusts its own tokens. */
  readonly localIssuer: LocalIssuer | undefined;
  readonly tls: TlsMaterial | undefined;
}

/**
 * Builds the daemon's identity checks from its settings (docs/designs/007-verified-requesters.md):
 * the configured issuers, or the local issuer (its key created on first start); the TLS files;
 * and a loud warning when the body's user name is trusted.
 * @throws DynamosError CONFIG_INVALID when a key or TLS file cannot be read
 */
export async function createDaemonAuth(config: DaemonConfig, deps: { clock: Clock; logger: Logger }): Promise<DaemonAuth> {
  const { auth } = config;
  let localIssuer: LocalIssuer | undefined;
  if (auth.issuers.length === 0) {
    const opened = await LocalIssuer.open(keysDirOf(config));
    if (opened.created) deps.logger.info('created the local token issuer key: protect it, whoever reads it can act as anyone', { key: opened.privateFile });
    localIssuer = opened;
  }
  const issuers = localIssuer === undefined ? trustedIssuersOf(auth) : [localIssuer.trusted()];
  const tls = config.tls === undefined ? undefined : tlsMaterialOf(config.tls);
  const authenticator = new Authenticator({
    verifier: new TokenVerifier(issuers, { clock: deps.clock, clockToleranceSeconds: auth.clockToleranceSeconds, logger: deps.logger }),
    adminToken: config.adminToken,
    trustBodyUserName: auth.trustBodyUserName,
    clientCertificates: tls?.clientCa !== undefined,
    ...(localIssuer === undefined ? {} : { hint: 'on this machine, `dynamos token --user NAME` mints one' }),
  });
  if (auth.trustBodyUserName) {
    deps.logger.warn('INSECURE: auth.trustBodyUserName is on: a request without a credential is believed to come from whoever its body names, so anyone who reaches this daemon can act as any requester; use it for experiments only');
  }
  deps.logger.info('requesters are identified', { ...authenticator.summary() });
  return { authenticator, localIssuer, tls };
}

function tlsMaterialOf(tls: TlsSettings): TlsMaterial {
  const read = (key: keyof TlsSettings, file: string) => {
    try {
      return readFileSync(file, 'utf8');
    } catch (cause) {
      const message = `cannot read ${file}: ${(cause as Error).message}`;
      throw new DynamosError('CONFIG_INVALID', `tls.${key}: ${message}`, { retryable: false, cause, details: { problems: [{ path: `tls.${key}`, message }] } });
    }
  };
  return {
    cert: read('certFile', tls.certFile),
    key: read('keyFile', tls.keyFile),
    clientCa: tls.clientCaFile === undefined ? undefined : read('clientCaFile', tls.clientCaFile),
  };
}
