import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { EventEmitter } from 'node:events';
import { LocalMetricsSource } from '../../adapters/local/local-metrics-source.js';
import { openSiteEnvelopes } from '../../adapters/local/sites/index.js';
import { systemClock } from '../../knowledge/ports/clock.js';
import { silentLogger } from '../../knowledge/ports/logger.js';
import { summarize } from './stats.js';

const parties = ['SURF', 'VU', 'UVA'];

/**
 * Isolation of sites: SURF's envelope (half a core) is saturated by a CPU-burning process while
 * VU and UVA idle in theirs; the local metrics source reads each party's own CPU from its groups,
 * once a second. Needs root (cgroups): without it, says why instead of a figure.
 */
export async function benchIsolation(readings: number): Promise<Record<string, unknown>> {
  const sites = await openSiteEnvelopes(
    { SURF: { cpus: 0.5, network: false }, VU: { cpus: 0.5, network: false }, UVA: { cpus: 0.5, network: false } },
    { runnerId: `bench-isolation-${process.pid}`, logger: silentLogger, clock: systemClock },
  );
  const status = sites.status();
  if (!status.enforced) {
    await sites.close();
    return { skipped: `site envelopes are not enforced here: ${status.reason ?? 'unknown reason'}` };
  }
  const burner = spawn(process.execPath, ['-e', 'for(;;);'], { stdio: 'ignore' });
  try {
    await once(burner, 'spawn');
    await sites.place('SURF', burner.pid as number);
    const source = new LocalMetricsSource({ events: new EventEmitter(), clock: systemClock, logger: silentLogger, sites });
    const cpu = new Map(parties.map((p) => [p, [] as number[]]));
    await source.read(parties);
    for (let i = 0; i < readings; i++) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const reading = await source.read(parties);
      for (const s of reading.samples) if (s.signal === 'cpu') cpu.get(s.party)?.push(s.value);
    }
    await source.close();
    return {
      note: 'SURF, VU and UVA each have a site of 0.5 CPU; a process burning CPU runs in SURF\'s. cpu is each party\'s measured load: its CPU-seconds over its quota, read once a second',
      saturatedSurfCpu: summarize(cpu.get('SURF') ?? []),
      idleVuCpu: summarize(cpu.get('VU') ?? []),
      idleUvaCpu: summarize(cpu.get('UVA') ?? []),
    };
  } finally {
    burner.kill('SIGKILL');
    await sites.close();
  }
}
