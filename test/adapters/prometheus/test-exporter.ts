import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Signal } from '../../../knowledge/ports/metrics-source.js';
import type { PartyState } from '../../contract/metrics-source.contract.js';

/** Which Kepler writes a party's power: the ≤ 0.9 total, or the ≥ 0.10 per-zone counters. */
export type KeplerGeneration = 'kepler-0.9' | 'kepler-0.10' | 'kepler-0.10-pods';

export interface ExportedParty extends PartyState {
  readonly kepler?: KeplerGeneration;
  /** Expose cAdvisor's metrics for cpu and memory instead of node_exporter's. */
  readonly cadvisor?: boolean;
}

interface Party {
  readonly state: ExportedParty;
  readonly since: number;
}

const cpus = 2;
const memTotal = 16 * 2 ** 30;

/**
 * A tiny exporter a real Prometheus scrapes: `/metrics/<party>` answers what node_exporter,
 * cAdvisor, the RabbitMQ exporter and Kepler would for one machine of that party, with values
 * the test chose. Counters grow at the chosen rate from the moment the party is added, so
 * `rate()` reads back the chosen value. A signal with an age is exposed with an explicit
 * timestamp that far in the past, as a lagging exporter (cAdvisor) does. Each party is its own
 * file_sd target carrying the `party` label, the way a deployment relabels its targets.
 */
export class TestExporter {
  private readonly parties = new Map<string, Party>();
  private readonly server: http.Server;
  private readonly id = randomUUID();

  private constructor(private readonly targetsFile: string) {
    this.server = http.createServer((req, res) => this.answer(req, res));
  }

  static async start(targetsFile: string): Promise<TestExporter> {
    const exporter = new TestExporter(targetsFile);
    exporter.server.listen(0, '127.0.0.1');
    await once(exporter.server, 'listening');
    return exporter;
  }

  get address(): string {
    return `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Adds parties and registers them as targets; party names must be new. */
  add(parties: Readonly<Record<string, ExportedParty>>): void {
    for (const [name, state] of Object.entries(parties)) {
      if (this.parties.has(name)) throw new Error(`party ${name} already exported`);
      this.parties.set(name, { state, since: Date.now() });
    }
    this.writeTargets();
  }

  async close(): Promise<void> {
    this.parties.clear();
    this.writeTargets();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Our target groups in the shared file_sd file, keeping every other suite's; atomic rename. */
  private writeTargets(): void {
    let groups: { targets: string[]; labels?: Record<string, string> }[] = [];
    try {
      groups = JSON.parse(readFileSync(this.targetsFile, 'utf8')) as typeof groups;
    } catch {
      groups = [];
    }
    const others = groups.filter((g) => g.labels?.['test_exporter'] !== this.id);
    const ours = [...this.parties.keys()].map((party) => ({
      targets: [this.address],
      labels: { party, test_exporter: this.id, __metrics_path__: `/metrics/${encodeURIComponent(party)}` },
    }));
    const tmp = `${this.targetsFile}.${process.pid}.${this.id}.tmp`;
    writeFileSync(tmp, `${JSON.stringify([...others, ...ours], null, 2)}\n`);
    renameSync(tmp, this.targetsFile);
  }

  private answer(req: http.IncomingMessage, res: http.ServerResponse): void {
    const match = /^\/metrics\/([^/?]+)/.exec(req.url ?? '');
    const party = match === null ? undefined : this.parties.get(decodeURIComponent(match[1] as string));
    if (party === undefined) {
      res.writeHead(404).end('no such party\n');
    } else if (party.state.up === 0) {
      res.writeHead(500).end('this party is down\n');
    } else {
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(party, Date.now()));
    }
  }
}

/** The exposition text of one party at wall time `now`. */
function exposition(party: Party, now: number): string {
  const s = party.state;
  const lines: string[] = [];
  /** Seconds the party has existed at the signal's observation time, and that time's suffix. */
  const at = (signal: Signal) => {
    const age = s.ageMs?.[signal];
    const observed = now - (age ?? 0);
    return { t: 1000 + (observed - party.since) / 1000, stamp: age === undefined ? '' : ` ${observed}` };
  };
  if (s.cpu !== undefined) {
    const { t, stamp } = at('cpu');
    if (s.cadvisor === true) {
      lines.push(`container_cpu_usage_seconds_total{image="job",name="a"} ${s.cpu * cpus * t * 0.5}${stamp}`);
      lines.push(`container_cpu_usage_seconds_total{image="job",name="b"} ${s.cpu * cpus * t * 0.5}${stamp}`);
      // The root cgroup holds the same work again: the default query must not count it.
      lines.push(`container_cpu_usage_seconds_total{image="",id="/"} ${s.cpu * cpus * t}${stamp}`);
      lines.push(`machine_cpu_cores ${cpus}`);
    } else {
      for (let cpu = 0; cpu < cpus; cpu++) {
        lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="idle"} ${(1 - s.cpu) * t}${stamp}`);
        lines.push(`node_cpu_seconds_total{cpu="${cpu}",mode="user"} ${s.cpu * t}${stamp}`);
      }
    }
  }
  if (s.memory !== undefined) {
    const { stamp } = at('memory');
    if (s.cadvisor === true) {
      lines.push(`container_memory_working_set_bytes{image="job",name="a"} ${s.memory * memTotal}${stamp}`);
      lines.push(`container_memory_working_set_bytes{image="",id="/"} ${s.memory * memTotal}${stamp}`);
      lines.push(`machine_memory_bytes ${memTotal}`);
    } else {
      lines.push(`node_memory_MemTotal_bytes ${memTotal}`);
      lines.push(`node_memory_MemAvailable_bytes ${(1 - s.memory) * memTotal}${stamp}`);
    }
  }
  if (s.queueDepth !== undefined) {
    const { stamp } = at('queueDepth');
    const first = Math.floor(s.queueDepth / 2);
    lines.push(`rabbitmq_queue_messages{queue="requests",vhost="/"} ${first}${stamp}`);
    lines.push(`rabbitmq_queue_messages{queue="results",vhost="/"} ${s.queueDepth - first}${stamp}`);
  }
  if (s.powerWatts !== undefined) {
    const { t, stamp } = at('powerWatts');
    const joules = s.powerWatts * t;
    switch (s.kepler ?? 'kepler-0.9') {
      case 'kepler-0.9':
        lines.push(`kepler_container_joules_total{container_name="job",container_namespace="dynamos"} ${joules}${stamp}`);
        break;
      case 'kepler-0.10':
      case 'kepler-0.10-pods': {
        const metric = s.kepler === 'kepler-0.10' ? 'kepler_container_cpu_joules_total' : 'kepler_pod_cpu_joules_total';
        lines.push(`${metric}{container_name="job",zone="package"} ${joules * 0.8}${stamp}`);
        lines.push(`${metric}{container_name="job",zone="dram"} ${joules * 0.2}${stamp}`);
        // Inside the package: adding it would count 60 % twice.
        lines.push(`${metric}{container_name="job",zone="core"} ${joules * 0.6}${stamp}`);
        break;
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
