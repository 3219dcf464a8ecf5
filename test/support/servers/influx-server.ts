import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDebianPackages } from './debian-packages.js';
import { freeLoopbackPort } from './free-port.js';
import { answersOk } from './http-probe.js';
import { ServerProcess } from './server-process.js';
import { TempDirServer } from './temp-dir-server.js';

/**
 * A private InfluxDB 1.x for tests: HTTP API on a free loopback port, the RPC (backup) service on
 * another, meta/data/wal in a temp dir, usage reporting and self-monitoring off, and no UDP,
 * Graphite, collectd or OpenTSDB listeners.
 */
export class InfluxServer extends TempDirServer {
  static readonly debianPackage = { name: 'influxdb', binary: '/usr/bin/influxd' };

  /** apt-installs influxdb when it is missing. */
  static ensureInstalled(): void {
    ensureDebianPackages([InfluxServer.debianPackage]);
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const dir = await this.makeDir('dynamos-influx-');
    const [httpPort, rpcPort] = await Promise.all([freeLoopbackPort(), freeLoopbackPort()]);
    this.port = httpPort;
    const q = (p: string) => JSON.stringify(path.join(dir, p));
    writeFileSync(path.join(dir, 'influxdb.conf'), [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]', `  dir = ${q('meta')}`,
      '[data]', `  dir = ${q('data')}`, `  wal-dir = ${q('wal')}`, '  query-log-enabled = false',
      '[monitor]', '  store-enabled = false',
      '[http]', '  enabled = true', `  bind-address = "127.0.0.1:${httpPort}"`, '  log-enabled = false',
      '[[graphite]]', '  enabled = false',
      '[[collectd]]', '  enabled = false',
      '[[opentsdb]]', '  enabled = false',
      '[[udp]]', '  enabled = false',
      '',
    ].join('\n'));
    this.server = new ServerProcess({
      command: InfluxServer.debianPackage.binary,
      args: ['-config', path.join(dir, 'influxdb.conf')],
      env: process.env, cwd: dir, logFile: path.join(dir, 'influxd.out'),
    });
    await this.server.waitUntilReady('InfluxDB', () => answersOk(`${this.url}/ping`), timeoutMs);
  }
}
