import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { decodeJwt } from 'jose';
import { SimulatedClock } from 'xstate';
import { printToken } from '../../daemon/cli/token.js';
import { sendRequest } from '../../daemon/cli/request.js';
import { daemonConfigSchema } from '../../daemon/config.js';
import type { DaemonConfigInput } from '../../daemon/config.js';
import { createDaemonAuth } from '../../daemon/daemon-auth.js';
import { LocalIssuer } from '../../daemon/local-issuer.js';
import type { Logger } from '../../knowledge/ports/logger.js';
import { analyst } from '../support/tokens.js';
import { worldStart } from './api-world.js';

/** A logger that keeps what it was told. */
function recordingLogger(): Logger & { readonly lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message });
  const logger = { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => logger };
  return logger;
}

/** Output of a command, kept. */
function captured() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, output: { out: (l: string) => void out.push(l), err: (l: string) => void err.push(l) } };
}

describe('verified requesters: the local issuer of the embedded default', () => {
  let dir: string;
  let clock: SimulatedClock;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'dynamos-issuer-'));
    clock = new SimulatedClock();
    clock.set(worldStart);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const config = (input: DaemonConfigInput = {}) => daemonConfigSchema.parse({ decisionLogFile: path.join(dir, 'decisions.jsonl'), ...input });

  it('creates the issuer key beside the decision log on first start (owner-only), and keeps it on the next', async () => {
    const logger = recordingLogger();
    const first = await createDaemonAuth(config(), { clock, logger });
    const keyFile = path.join(dir, 'keys', 'issuer.key.pem');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.ok(logger.lines.some((l) => l.level === 'info' && l.message.startsWith('created the local token issuer key')));
    const token = await first.localIssuer?.mint({ user: analyst, now: clock.now() }) as string;
    const second = await createDaemonAuth(config(), { clock, logger: recordingLogger() });
    assert.deepEqual(await second.authenticator.identify({ authorization: `Bearer ${token}` }), { name: analyst, roles: [], via: 'token' });
  });

  const planted: [string, (keys: string) => void, RegExp][] = [
    ['a key file others can read', (keys) => chmodSync(path.join(keys, 'issuer.key.pem'), 0o644), /issuer\.key\.pem can be read or written by others \(mode 644; chmod 600 it\)/],
    ['a keys directory others can write', (keys) => chmodSync(keys, 0o777), /keys can be written by others \(mode 777; chmod 700 it\)/],
  ];
  for (const [what, plant, message] of planted) {
    it(`refuses to trust ${what}: another user could have planted the key`, async () => {
      const keys = path.join(dir, 'keys');
      await LocalIssuer.open(keys);
      plant(keys);
      await assert.rejects(LocalIssuer.open(keys), (e: Error & { code?: string }) => e.code === 'CONFIG_INVALID' && message.test(e.message));
    });
  }

  it('runs no local issuer, and creates no key, when issuers are configured', async () => {
    const auth = await createDaemonAuth(config({ auth: { issuers: [{ issuer: 'https://idp.test', audience: 'dynamos', jwksUrl: 'https://idp.test/jwks' }] } }), { clock, logger: recordingLogger() });
    assert.equal(auth.localIssuer, undefined);
    assert.equal(existsSync(path.join(dir, 'keys')), false);
    assert.deepEqual(auth.authenticator.summary().issuers, ['https://idp.test']);
  });

  it('warns loudly at start when the body\'s user name is trusted, and not otherwise', async () => {
    const loud = recordingLogger();
    await createDaemonAuth(config({ auth: { trustBodyUserName: true } }), { clock, logger: loud });
    assert.ok(loud.lines.some((l) => l.level === 'warn' && /^INSECURE: auth\.trustBodyUserName is on/.test(l.message)), JSON.stringify(loud.lines));
    const quiet = recordingLogger();
    await createDaemonAuth(config(), { clock, logger: quiet });
    assert.deepEqual(quiet.lines.filter((l) => l.level === 'warn'), []);
  });

  it('refuses a TLS file it cannot read, naming the setting', async () => {
    await assert.rejects(createDaemonAuth(config({ tls: { certFile: path.join(dir, 'none.pem'), keyFile: path.join(dir, 'none.key') } }), { clock, logger: recordingLogger() }), (e: Error & { code?: string }) => {
      return e.code === 'CONFIG_INVALID' && /^tls\.certFile: cannot read .*none\.pem/.test(e.message);
    });
  });

  describe('dynamos token', () => {
    it('exits 2 with what to do when there is no key yet', async () => {
      const { err, out, output } = captured();
      assert.equal(await printToken({ user: analyst, role: [], ttl: 900_000, keysDir: path.join(dir, 'keys') }, output), 2);
      assert.match(err.join('\n'), /no local issuer key at .*issuer\.key\.pem: start the daemon once/);
      assert.deepEqual(out, []);
    });

    it('prints a token the daemon accepts, for the user and roles asked, for 15 minutes unless told', async () => {
      const auth = await createDaemonAuth(config(), { clock, logger: recordingLogger() });
      const { out, err, output } = captured();
      assert.equal(await printToken({ user: 'officer@uva.example', role: ['steward:UVA'], ttl: 900_000, decisionLog: path.join(dir, 'decisions.jsonl') }, output, clock.now()), 0);
      const token = out.join('');
      assert.deepEqual(await auth.authenticator.identify({ authorization: `Bearer ${token}` }), { name: 'officer@uva.example', roles: ['steward:UVA'], via: 'token' });
      const claims = decodeJwt(token);
      assert.equal((claims.exp as number) - (claims.iat as number), 900);
      assert.deepEqual([claims.iss, claims.aud], ['dynamos-local', 'dynamos']);
      assert.match(err.join('\n'), /^token for officer@uva\.example \(roles steward:UVA\) from .*issuer\.key\.pem, valid until 2030-01-01T12:15:00\.000Z$/);
    });
  });

  describe('dynamos request: which token it sends', () => {
    let server: Server;
    let url: string;
    let seen: (string | undefined)[];
    let body: string;
    before(async () => {
      server = createServer((req, res) => {
        seen.push(req.headers.authorization);
        req.resume().on('end', () => res.writeHead(401, { 'content-type': 'application/json' }).end('{"code":"UNAUTHENTICATED","message":"recorded"}'));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    after(() => new Promise<void>((resolve) => server.close(() => resolve())));
    beforeEach(() => {
      seen = [];
      body = path.join(dir, 'request.json');
      writeFileSync(body, JSON.stringify({ user: { userName: analyst } }));
    });

    const cases: { rule: string; withKey: boolean; token?: string; env?: string; sends: RegExp | undefined; says?: RegExp }[] = [
      { rule: '--token first', withKey: true, token: 'from.the.flag', env: 'from.the.env', sends: /^Bearer from\.the\.flag$/ },
      { rule: 'DYNAMOS_TOKEN next', withKey: true, env: 'from.the.env', sends: /^Bearer from\.the\.env$/ },
      { rule: 'else one minted for the body\'s user with the local key, said on stderr', withKey: true, sends: /^Bearer eyJ/, says: /^signed in as analyst@uva\.example with the local issuer's key \(.*issuer\.key\.pem\)$/ },
      { rule: 'else none', withKey: false, sends: undefined },
    ];
    for (const c of cases) {
      it(c.rule, async () => {
        if (c.withKey) await LocalIssuer.open(path.join(dir, 'keys'));
        const { err, output } = captured();
        const status = await sendRequest(body, { url, keysDir: path.join(dir, 'keys'), ...(c.token === undefined ? {} : { token: c.token }) }, output, c.env === undefined ? {} : { DYNAMOS_TOKEN: c.env });
        assert.equal(status, 1);
        assert.equal(seen.length, 1);
        if (c.sends === undefined) assert.equal(seen[0], undefined);
        else assert.match(seen[0] ?? '', c.sends);
        if (c.says !== undefined) assert.match(err.join('\n'), c.says);
        else assert.deepEqual(err, []);
      });
    }

    it('mints a token that names the body\'s user', async () => {
      await LocalIssuer.open(path.join(dir, 'keys'));
      await sendRequest(body, { url, keysDir: path.join(dir, 'keys') }, captured().output, {});
      assert.equal(decodeJwt((seen[0] ?? '').replace(/^Bearer /, '')).sub, analyst);
    });
  });
});
