import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureDebianPackages } from './debian-packages.js';
import { freeLoopbackPort } from './free-port.js';
import { answersOk } from './http-probe.js';
import { ServerProcess } from './server-process.js';
import { TempDirServer } from './temp-dir-server.js';

/**
 * A private Prometheus for tests on a free loopback port, TSDB in a temp dir, scraping and
 * evaluating every second. Job `dynamos` scrapes whatever targets the tests write to
 * {@link targetsFile} (file service discovery: Prometheus watches the file); job `prometheus`
 * scrapes Prometheus itself and nothing else, so a known series (`up{job="prometheus"}`) exists.
 * `--web.enable-lifecycle` lets a test reload the config (`POST /-/reload`).
 */
export class PrometheusServer extends TempDirServer {
  static readonly debianPackage = { name: 'prometheus', binary: '/usr/bin/prometheus' };

  /** apt-installs prometheus when it is missing. */
  static ensureInstalled(): void {
    ensureDebianPackages([PrometheusServer.debianPackage]);
  }

  /** The file_sd JSON file of job `dynamos` (`[{ "targets": ["127.0.0.1:PORT"], "labels": {…} }]`). */
  get targetsFile(): string {
    if (this.dir === undefined) throw new Error('PrometheusServer not started');
    return path.join(this.dir, 'targets.json');
  }

  async start(timeoutMs = 60_000): Promise<void> {
    const dir = await this.makeDir('dynamos-prometheus-');
    this.port = await freeLoopbackPort();
    writeFileSync(this.targetsFile, '[]\n');
    writeFileSync(path.join(dir, 'prometheus.yml'), [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      '  scrape_timeout: 1s',
      'scrape_configs:',
      '  - job_name: dynamos',
      '    file_sd_configs:',
      `      - files: [${JSON.stringify(this.targetsFile)}]`,
      '  - job_name: prometheus',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${this.port}"]`,
      '',
    ].join('\n'));
    this.server = new ServerProcess({
      command: PrometheusServer.debianPackage.binary,
      args: [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${this.port}`,
        '--web.enable-lifecycle',
        '--log.level=warn',
      ],
      env: process.env, cwd: dir, logFile: path.join(dir, 'prometheus.out'),
    });
    await this.server.waitUntilReady('Prometheus', () => answersOk(`${this.url}/-/ready`), timeoutMs);
  }
}
