import { randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KubernetesRunnerConfigInput } from '../../adapters/kubernetes/config.js';
import { dnsLabelOf } from '../../adapters/kubernetes/names.js';
import { packageRoot } from '../../daemon/package-root.js';
import type { SiteSettingsInput } from '../../knowledge/site-settings.js';
import type { FakeCluster } from './fake-cluster.js';
import { startFakeCluster } from './fake-cluster.js';

/** The image the jobs of a fake cluster run: this checkout, with its built `dist/`. */
export const exampleImage = 'dynamos-ts:dev';

export interface ExampleCluster {
  readonly cluster: FakeCluster;
  /** What a daemon's settings need for cluster mode on this fake: `kubernetes` and `sites`. */
  readonly settings: { readonly kubernetes: KubernetesRunnerConfigInput; readonly sites: Record<string, SiteSettingsInput> };
  close(): Promise<void>;
}

/**
 * A fake cluster for a marketplace: a namespace per party, this checkout as the jobs' image, and
 * the stewards' tables on a claim backed by `dataDir`, as an operator would set one up
 * (docs/kubernetes.md). Its kubeconfig is written into `scratch`.
 */
export async function startExampleCluster(opts: {
  readonly parties: readonly string[];
  readonly stewards: readonly string[];
  readonly dataDir: string;
  readonly scratch: string;
  /** Each party's site: its node's capacity, and its containers' cgroups when root. */
  readonly sites?: Readonly<Record<string, { readonly cpus?: number; readonly memoryMiB?: number }>>;
  readonly daemonName?: string;
}): Promise<ExampleCluster> {
  const namespaces = Object.fromEntries(opts.parties.map((party) => [dnsLabelOf(party), { ...(opts.sites?.[party] === undefined ? {} : { site: opts.sites[party] }) }]));
  // Pods listen on their IP at a fixed port: a network of its own keeps two fakes running at once
  // (two test processes, a benchmark beside the tests) from taking each other's addresses.
  const podNetwork = `127.${randomInt(2, 255)}`;
  const cluster = await startFakeCluster({ namespaces, podNetwork, images: { [exampleImage]: packageRoot() }, persistentVolumes: { 'steward-tables': opts.dataDir } });
  const kubeconfig = path.join(opts.scratch, `kubeconfig-${cluster.name}-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(kubeconfig, cluster.kubeconfig, { mode: 0o600 });
  const sites: Record<string, SiteSettingsInput> = Object.fromEntries(
    opts.parties.map((party) => [
      party,
      {
        ...(opts.sites?.[party] ?? {}),
        ...(opts.stewards.includes(party) ? { kubernetes: { tables: { persistentVolumeClaim: 'steward-tables' } } } : {}),
      },
    ]),
  );
  return {
    cluster,
    settings: { kubernetes: { image: exampleImage, kubeconfig, jobTtlSeconds: 30, terminationGracePeriodSeconds: 2, ...(opts.daemonName === undefined ? {} : { daemonName: opts.daemonName }) }, sites },
    close: () => cluster.close(),
  };
}
