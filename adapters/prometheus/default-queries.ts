import type { Signal } from '../../knowledge/ports/metrics-source.js';

/**
 * One way to read a signal: a PromQL expression returning one series per party (grouped by the
 * party label) and, optionally, a second one returning per party the Unix time in seconds of the
 * newest raw sample the first rests on.
 *
 * Why the second query: an instant query stamps every result with the evaluation time, not with
 * the time the data was scraped, so staleness cannot be seen in the answer itself. Prometheus hides
 * most stale data by itself (staleness markers when a target or series disappears), but not samples
 * that carry their own timestamps (cAdvisor's do), nor data kept over a Prometheus restart, which
 * stays visible for the 5-minute lookback. `timestamp(<selector>)` returns the real sample time.
 *
 * Both may use `{{partyLabel}}` and `{{rateWindow}}`, replaced from the config.
 */
export interface QueryAlternative {
  readonly query: string;
  readonly sampledAt?: string;
}

const byParty = 'by ({{partyLabel}})';
const newest = (selector: string): string => `max ${byParty} (timestamp(${selector}))`;

/**
 * The queries tried, in order, for each signal; a party takes its value from the first
 * alternative that has a fresh series for it. See docs/monitoring.md for why each is written so.
 */
export const defaultQueries: Readonly<Record<Signal, readonly QueryAlternative[]>> = {
  cpu: [
    /**
     * node_exporter: busy fraction = 1 − idle fraction, averaged over every CPU of every node of the
     * party (each CPU's idle counter grows by at most 1 s per second).
     */
    {
      query: `1 - avg ${byParty} (rate(node_cpu_seconds_total{mode="idle"}[{{rateWindow}}]))`,
      sampledAt: newest('node_cpu_seconds_total{mode="idle"}'),
    },
    /**
     * cAdvisor (kubelet or standalone): CPU-seconds per second of the containers over the
     * machines' cores. `image!=""` keeps real containers and drops the cgroup hierarchy's
     * aggregates (root, slices, pods), which would count the same work twice or more.
     */
    {
      query: `sum ${byParty} (rate(container_cpu_usage_seconds_total{image!=""}[{{rateWindow}}])) / sum ${byParty} (machine_cpu_cores)`,
      sampledAt: newest('container_cpu_usage_seconds_total{image!=""}'),
    },
  ],
  memory: [
    /** node_exporter: used fraction of the party's memory, MemAvailable counting as free. */
    {
      query: `1 - sum ${byParty} (node_memory_MemAvailable_bytes) / sum ${byParty} (node_memory_MemTotal_bytes)`,
      sampledAt: newest('node_memory_MemAvailable_bytes'),
    },
    /** cAdvisor: the containers' working set (what the kernel cannot reclaim) over machine memory. */
    {
      query: `sum ${byParty} (container_memory_working_set_bytes{image!=""}) / sum ${byParty} (machine_memory_bytes)`,
      sampledAt: newest('container_memory_working_set_bytes{image!=""}'),
    },
  ],
  queueDepth: [
    /** RabbitMQ exporter (kbudde): ready + unacknowledged messages, over the party's queues. */
    { query: `sum ${byParty} (rabbitmq_queue_messages)`, sampledAt: newest('rabbitmq_queue_messages') },
    /** RabbitMQ's built-in `rabbitmq_prometheus` plugin: messages ready for delivery. */
    { query: `sum ${byParty} (rabbitmq_queue_messages_ready)`, sampledAt: newest('rabbitmq_queue_messages_ready') },
  ],
  powerWatts: [
    /** Kepler ≤ 0.9: joules per second of the party's containers, all components together. */
    {
      query: `sum ${byParty} (rate(kepler_container_joules_total[{{rateWindow}}]))`,
      sampledAt: newest('kepler_container_joules_total'),
    },
    /**
     * Kepler ≥ 0.10: per RAPL zone. `package` already contains `core` and `uncore`, so only
     * package + dram are added.
     */
    {
      query: `sum ${byParty} (rate(kepler_container_cpu_joules_total{zone=~"package|dram"}[{{rateWindow}}]))`,
      sampledAt: newest('kepler_container_cpu_joules_total'),
    },
    /** Kepler ≥ 0.10 exporting pods only. */
    {
      query: `sum ${byParty} (rate(kepler_pod_cpu_joules_total{zone=~"package|dram"}[{{rateWindow}}]))`,
      sampledAt: newest('kepler_pod_cpu_joules_total'),
    },
  ],
  up: [
    /** Prometheus's own scrape health: 1 when any of the party's targets answered its last scrape. */
    { query: `max ${byParty} (up)`, sampledAt: newest('up') },
  ],
};

/** Replaces `{{partyLabel}}` and `{{rateWindow}}` in a query. */
export function renderQuery(template: string, vars: { partyLabel: string; rateWindow: string }): string {
  return template.replaceAll('{{partyLabel}}', vars.partyLabel).replaceAll('{{rateWindow}}', vars.rateWindow);
}
