import { ensureDebianPackages } from './debian-packages.js';
import { InfluxServer } from './influx-server.js';
import { PrometheusServer } from './prometheus-server.js';
import { RabbitMqServer } from './rabbitmq-server.js';

/** One server the tests use, as the script starts and stops it. */
interface TestServer {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Env vars for the test command; read after start. */
  env(): Record<string, string>;
  /** Where it listens, for the started line. */
  describe(): string;
}

/** The running servers and how to reach them. */
export interface RunningTestServers {
  /** RABBITMQ_URL, RABBITMQ_NODENAME, RABBITMQ_CTL_ENV, PROM_URL, PROM_TARGETS_FILE, INFLUX_URL. */
  readonly env: Readonly<Record<string, string>>;
  /** Stops every server (in parallel); never rejects, reports failures through `log`. */
  stop(): Promise<void>;
}

/**
 * Installs what is missing (one apt-get run), then starts RabbitMQ, Prometheus and InfluxDB in
 * parallel. When one fails to start, the others are stopped before this rejects.
 */
export async function startTestServers(log: (line: string) => void): Promise<RunningTestServers> {
  ensureDebianPackages([RabbitMqServer.debianPackage, PrometheusServer.debianPackage, InfluxServer.debianPackage]);
  const rabbit = new RabbitMqServer();
  const prometheus = new PrometheusServer();
  const influx = new InfluxServer();
  const servers: TestServer[] = [
    {
      name: 'rabbitmq', start: () => rabbit.start(), stop: () => rabbit.stop(),
      env: () => ({ RABBITMQ_URL: rabbit.url, RABBITMQ_NODENAME: rabbit.nodeName, RABBITMQ_CTL_ENV: JSON.stringify(rabbit.env()) }),
      describe: () => `${rabbit.url} (node ${rabbit.nodeName})`,
    },
    {
      name: 'prometheus', start: () => prometheus.start(), stop: () => prometheus.stop(),
      env: () => ({ PROM_URL: prometheus.url, PROM_TARGETS_FILE: prometheus.targetsFile }),
      describe: () => prometheus.url,
    },
    {
      name: 'influxdb', start: () => influx.start(), stop: () => influx.stop(),
      env: () => ({ INFLUX_URL: influx.url }),
      describe: () => influx.url,
    },
  ];
  const stopAll = async (which: readonly TestServer[]) => {
    await Promise.all(which.map(async (server) => {
      const began = Date.now();
      try {
        await server.stop();
        log(`${server.name} stopped in ${seconds(began)}`);
      } catch (error) {
        log(`${server.name} did not stop cleanly: ${(error as Error).message}`);
      }
    }));
  };
  const results = await Promise.allSettled(servers.map(async (server) => {
    const began = Date.now();
    await server.start();
    log(`${server.name} started in ${seconds(began)}: ${server.describe()}`);
  }));
  const failures = results.flatMap((r, i) => (r.status === 'rejected' ? [`${servers[i]?.name}: ${(r.reason as Error).message}`] : []));
  if (failures.length > 0) {
    // Stop all, not only the started ones: a half-started server has processes and a temp dir too.
    await stopAll(servers);
    throw new Error(`test servers failed to start:\n${failures.join('\n')}`);
  }
  return { env: Object.assign({}, ...servers.map((s) => s.env())) as Record<string, string>, stop: () => stopAll(servers) };
}

function seconds(since: number): string {
  return `${((Date.now() - since) / 1000).toFixed(1)} s`;
}
