import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An experiment's stand-in for the parties' exporters: gauges of CPU and memory load per party,
 * set by the experiment at run time, scraped by a real Prometheus. Registered in a file_sd file
 * (other entries kept, atomic rename) and removed on close.
 */
export class PartyExporter {
  private readonly loads = new Map<string, { cpu: number; memory: number }>();
  private readonly server = http.createServer((_, res) => res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.exposition()));
  private readonly id = randomUUID();

  private constructor(private readonly targetsFile: string) {}

  static async start(targetsFile: string): Promise<PartyExporter> {
    const exporter = new PartyExporter(targetsFile);
    exporter.server.listen(0, '127.0.0.1');
    await once(exporter.server, 'listening');
    await exporter.register(true);
    return exporter;
  }

  /** The PromQL the daemon's Prometheus source reads these gauges with. */
  static readonly queries = {
    cpu: ['max by (party) (dynamos_bench_party_cpu_ratio)'],
    memory: ['max by (party) (dynamos_bench_party_memory_ratio)'],
  };

  set(party: string, cpu: number, memory = 0.3): void {
    this.loads.set(party, { cpu, memory });
  }

  async close(): Promise<void> {
    await this.register(false);
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private exposition(): string {
    const lines = ['# TYPE dynamos_bench_party_cpu_ratio gauge', '# TYPE dynamos_bench_party_memory_ratio gauge'];
    for (const [party, { cpu, memory }] of this.loads) {
      lines.push(`dynamos_bench_party_cpu_ratio{party="${party}"} ${cpu}`, `dynamos_bench_party_memory_ratio{party="${party}"} ${memory}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private async register(present: boolean): Promise<void> {
    const address = `127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    const groups = JSON.parse(await readFile(this.targetsFile, 'utf8').catch(() => '[]')) as { targets: string[]; labels?: Record<string, string> }[];
    const others = groups.filter((g) => g.labels?.['bench_exporter'] !== this.id);
    const next = present ? [...others, { targets: [address], labels: { bench_exporter: this.id } }] : others;
    const temp = `${this.targetsFile}.${this.id}.tmp`;
    await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`);
    await rename(temp, this.targetsFile);
  }
}
