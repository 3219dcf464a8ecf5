import { PodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import type { DaemonNames } from './manifest-names.js';
import { commonLabels, daemonSelector } from './manifest-names.js';

/** How the Prometheus operator finds the daemon's `/metrics`, if at all. */
export const monitorKinds = ['servicemonitor', 'podmonitor', 'none'] as const;
export type MonitorKind = (typeof monitorKinds)[number];

/** The interval the Grafana dashboards assume (grafana/provisioning/datasources/dynamos.yaml). */
const scrapeInterval = '15s';

/**
 * A ServiceMonitor (through the daemon's Service) or a PodMonitor (its pod directly) scraping
 * `/metrics` on the HTTP port. With HTTPS on the listener the scrape skips verifying the daemon's
 * certificate: the metrics carry no secret, and the CA that signed it is the operator's to add.
 */
export function monitorOf(kind: MonitorKind, names: DaemonNames, namespace: string, https: boolean): ServiceMonitor | PodMonitor | undefined {
  const metadata = { name: names.app, namespace, labels: commonLabels(names.daemon, 'daemon') };
  const endpoint = {
    port: 'http',
    path: '/metrics',
    interval: scrapeInterval,
    ...(https ? { scheme: 'https' as const, tlsConfig: { insecureSkipVerify: true } } : {}),
  };
  const selector = { matchLabels: daemonSelector(names.daemon) };
  switch (kind) {
    case 'servicemonitor':
      return new ServiceMonitor({ metadata, spec: { selector, namespaceSelector: { matchNames: [namespace] }, endpoints: [endpoint] } });
    case 'podmonitor':
      return new PodMonitor({ metadata, spec: { selector, namespaceSelector: { matchNames: [namespace] }, podMetricsEndpoints: [endpoint] } });
    case 'none':
      return undefined;
    default: {
      const _exhaustive: never = kind;
      return _exhaustive;
    }
  }
}
