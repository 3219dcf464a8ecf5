import { stringify } from 'yaml';
import type { Manifests } from './build-manifests.js';

export interface ManifestSources {
  readonly settingsFile: string;
  /** The marketplace file; undefined: the bundled example. */
  readonly marketplaceFile: string | undefined;
}

/**
 * The manifests as one multi-document YAML stream for `kubectl apply -f -`: a comment header
 * naming what the operator must make first, then each object, `---` between them.
 */
export function renderManifests(m: Manifests, sources: ManifestSources): string {
  const documents = m.objects.map((o) => stringify(o.toJSON(), { lineWidth: 0 }));
  return `${header(m, sources).join('\n')}\n${documents.join('---\n')}`;
}

function header(m: Manifests, sources: ManifestSources): string[] {
  const cluster = m.context === undefined ? "the daemon's cluster" : `the cluster of context ${m.context}`;
  const lines = [
    `# DYNAMOS cluster mode, ${cluster} (docs/kubernetes.md).`,
    `# Made by \`dynamos manifests --settings ${sources.settingsFile}${m.context === undefined ? '' : ` --context ${m.context}`}\``,
    `# from those settings and ${sources.marketplaceFile === undefined ? 'the bundled example marketplace' : `the marketplace ${sources.marketplaceFile}`}.`,
  ];
  if (m.operatorObjects.length > 0) {
    lines.push('#', '# These are referred to but made by the operator (docs/kubernetes.md says how):');
    for (const o of m.operatorObjects) {
      const keys = o.keys.length === 0 ? '' : ` (keys ${o.keys.join(', ')})`;
      lines.push(`#   ${o.kind} ${o.namespace}/${o.name}${keys}${o.optional ? ', optional' : ''}: ${o.purpose}`);
    }
  }
  const others = m.contexts.filter((c) => c !== m.context);
  if (m.context === undefined && others.length > 0) {
    lines.push('#', "# Parties in clusters of their own get their namespaces and the runner's Role from:");
    for (const c of others) lines.push(`#   dynamos manifests --settings ${sources.settingsFile} --context ${c}`);
  }
  return lines;
}
