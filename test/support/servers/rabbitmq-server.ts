import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ensureDebianPackages } from './debian-packages.js';
import { acceptsConnections, freeLoopbackPort, freeLoopbackPortRange } from './free-port.js';
import { RabbitMqControl, type RabbitMqCtlEnv } from './rabbitmq-control.js';
import { ServerProcess } from './server-process.js';

const scriptsDir = '/usr/lib/rabbitmq/bin';
const ctlDistPortCount = 10;

/**
 * A private RabbitMQ node for tests: its own Erlang node name, cookie (HOME), epmd on a free
 * loopback port (started by us in the foreground, so no system-wide epmd daemon is left behind),
 * AMQP and distribution listeners on free loopback ports, data and logs in a temp dir, no plugins.
 * Started through /usr/lib/rabbitmq/bin/rabbitmq-server, not the /usr/sbin wrappers.
 */
export class RabbitMqServer {
  static readonly debianPackage = { name: 'rabbitmq-server', binary: `${scriptsDir}/rabbitmq-server` };

  private dir: string | undefined;
  private broker: ServerProcess | undefined;
  private epmd: ServerProcess | undefined;
  private amqpPort = 0;
  private control: RabbitMqControl | undefined;

  /** apt-installs rabbitmq-server when it is missing. */
  static ensureInstalled(): void {
    ensureDebianPackages([RabbitMqServer.debianPackage]);
  }

  /** `amqp://guest:guest@127.0.0.1:PORT` (guest may log in over loopback, the broker's default). */
  get url(): string {
    return `amqp://guest:guest@127.0.0.1:${this.amqpPort}`;
  }

  get nodeName(): string {
    return this.requireControl().nodeName;
  }

  /** What `rabbitmqctl` needs to reach this node (tests get it as `RABBITMQ_CTL_ENV`). */
  env(): RabbitMqCtlEnv {
    return this.requireControl().ctlEnv;
  }

  async start(timeoutMs = 90_000): Promise<void> {
    if (this.broker !== undefined) throw new Error('RabbitMqServer already started');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'dynamos-rabbitmq-'));
    this.dir = dir;
    const [amqpPort, distPort, epmdPort, ctlDistPortMin] = await Promise.all([
      freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPort(), freeLoopbackPortRange(ctlDistPortCount),
    ]);
    this.amqpPort = amqpPort;
    for (const sub of ['home', 'mnesia', 'log']) mkdirSync(path.join(dir, sub));
    writeFileSync(path.join(dir, 'home', '.erlang.cookie'), randomBytes(20).toString('hex').toUpperCase(), { mode: 0o400 });
    writeFileSync(path.join(dir, 'rabbitmq.conf'), `listeners.tcp.default = 127.0.0.1:${amqpPort}\n`);
    writeFileSync(path.join(dir, 'enabled_plugins'), '[].\n');
    writeFileSync(path.join(dir, 'rabbitmq-env.conf'), '# empty: everything comes from the environment\n');
    const loopbackOnly = '-start_epmd false -kernel inet_dist_use_interface {127,0,0,1}';
    const env: Record<string, string> = {
      HOME: path.join(dir, 'home'),
      ERL_EPMD_PORT: String(epmdPort),
      ERL_EPMD_ADDRESS: '127.0.0.1',
      RABBITMQ_NODENAME: `dynamos-test-${process.pid}-${randomBytes(3).toString('hex')}@localhost`,
      RABBITMQ_CONF_ENV_FILE: path.join(dir, 'rabbitmq-env.conf'),
      RABBITMQ_CONFIG_FILE: path.join(dir, 'rabbitmq.conf'),
      RABBITMQ_ADVANCED_CONFIG_FILE: path.join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: path.join(dir, 'enabled_plugins'),
      RABBITMQ_MNESIA_BASE: path.join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: path.join(dir, 'log'),
      RABBITMQ_PID_FILE: path.join(dir, 'rabbitmq.pid'),
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: loopbackOnly,
      RABBITMQ_CTL_ERL_ARGS: loopbackOnly,
      RABBITMQ_CTL_DIST_PORT_MIN: String(ctlDistPortMin),
      RABBITMQ_CTL_DIST_PORT_MAX: String(ctlDistPortMin + ctlDistPortCount - 1),
    };
    this.control = new RabbitMqControl(env);
    const processEnv = { ...process.env, ...env };
    this.epmd = new ServerProcess({
      command: 'epmd', args: ['-port', String(epmdPort), '-address', '127.0.0.1'],
      env: processEnv, cwd: dir, logFile: path.join(dir, 'epmd.out'),
    });
    await this.epmd.waitUntilReady('epmd', () => acceptsConnections(epmdPort), 10_000);
    this.broker = new ServerProcess({
      command: `${scriptsDir}/rabbitmq-server`, args: [],
      env: processEnv, cwd: dir, logFile: path.join(dir, 'rabbitmq-server.out'),
    });
    await this.broker.waitUntilReady(`RabbitMQ node ${env['RABBITMQ_NODENAME']}`, () => acceptsConnections(amqpPort), timeoutMs);
    await this.control.awaitStartup(timeoutMs);
  }

  /** stop_app + start_app: clients lose their connections; durable queues and persistent messages survive. */
  async restart(): Promise<void> {
    await this.requireControl().restart();
  }

  /** Stops the node and its epmd, removes the temp dir. Safe to call twice or after a failed start. */
  async stop(): Promise<void> {
    const { broker, epmd, dir } = this;
    this.broker = undefined;
    this.epmd = undefined;
    this.dir = undefined;
    if (broker !== undefined) await broker.stop();
    if (epmd !== undefined) await epmd.stop(2_000);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  }

  private requireControl(): RabbitMqControl {
    if (this.control === undefined) throw new Error('RabbitMqServer not started');
    return this.control;
  }
}
