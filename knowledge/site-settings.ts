import { z } from 'zod';

/** A DNS-1123 label: what Kubernetes accepts as a namespace name. */
const dnsLabel = z
  .string()
  .max(63, 'must be at most 63 characters (a DNS label)')
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'must be a DNS label: lower-case letters, digits and "-", starting and ending with a letter or digit');

/**
 * Where a party's jobs run in cluster mode (docs/kubernetes.md): its namespace, optionally in a
 * cluster of its own (a context of the kubeconfig), and the volume holding a steward's tables.
 */
export const siteKubernetesSchema = z.strictObject({
  /** @default the party's name in lower case, made a DNS label */
  namespace: dnsLabel.optional(),
  /** A context of the daemon's kubeconfig: the party keeps its own cluster. @default the current context */
  context: z.string().min(1).optional(),
  /**
   * The volume with the steward's tables, mounted read-only into its jobs; table files resolve
   * inside it as they do in the data directory.
   */
  tables: z
    // Only a claim: a hostPath volume would break the Pod Security "restricted" profile the jobs meet.
    .strictObject({ persistentVolumeClaim: z.string().max(253).regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be a DNS subdomain: the name of a PersistentVolumeClaim') })
    .optional(),
});

/**
 * One party's site: the resources its jobs get on this machine, all of them together. A bound left
 * out is not enforced. See adapters/local/sites/site-envelopes.ts for how each is held.
 */
export const siteSettingsSchema = z
  .strictObject({
    /**
     * Cores the party's jobs may use together, e.g. 0.5 = half a core (a CPU quota per 100 ms).
     * The kernel's smallest quota is 1 ms per 100 ms period, hence at least 0.01.
     */
    cpus: z.number().min(0.01, 'must be at least 0.01 (the kernel\'s smallest CPU quota is 1 ms per 100 ms)').optional(),
    /** Memory (RAM and swap) the party's jobs may use together, in MiB. */
    memoryMiB: z.number().int().min(64).optional(),
    /** Rate of the party's network link in Mbit/s, each direction. Needs `network: true`. */
    linkMbit: z.number().positive().optional(),
    /** Runs the party's jobs in a network namespace of their own, reached through a bridge. */
    network: z.boolean().default(false),
    /** Cluster mode: where the party's Jobs run. CPU and memory become their requests and limits. */
    kubernetes: siteKubernetesSchema.optional(),
  })
  .superRefine((site, ctx) => {
    if (site.linkMbit !== undefined && !site.network) {
      ctx.addIssue({ code: 'custom', path: ['linkMbit'], message: 'a link rate needs a link of its own: set network: true' });
    }
  });

/** A party's name as the marketplace spells it. */
const partyName = z.string().min(1, 'must not be empty');

/** The sites of the deployment, by party. A party without one runs unbounded, on the host's network. */
export const sitesSettingsSchema = z.record(partyName, siteSettingsSchema).default({});

export type SiteKubernetes = z.output<typeof siteKubernetesSchema>;
export type SiteSettings = z.output<typeof siteSettingsSchema>;
export type SiteSettingsInput = z.input<typeof siteSettingsSchema>;
export type SitesSettings = z.output<typeof sitesSettingsSchema>;
export type SitesSettingsInput = z.input<typeof sitesSettingsSchema>;
