import { badRequest, expired } from './api-errors.js';
import type { KubeObject } from './kube-object.js';
import type { ObjectStore } from './object-store.js';
import type { ResourceInfo } from './resources.js';
import { apiVersionOf } from './resources.js';
import type { FieldRequirement, LabelRequirement } from './selectors.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors.js';

export interface ListQuery {
  readonly labelSelector?: string | undefined;
  readonly fieldSelector?: string | undefined;
  readonly limit?: string | undefined;
  readonly continue?: string | undefined;
  readonly resourceVersion?: string | undefined;
  readonly resourceVersionMatch?: string | undefined;
}

export interface ObjectList {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  readonly items: KubeObject[];
}

/** What selects an object for a list or a watch. */
export interface Selection {
  readonly labels: readonly LabelRequirement[];
  readonly fields: readonly FieldRequirement[];
}

export function parseSelection(info: ResourceInfo, query: Pick<ListQuery, 'labelSelector' | 'fieldSelector'>): Selection {
  return { labels: parseLabelSelector(query.labelSelector), fields: parseFieldSelector(query.fieldSelector, info) };
}

export function selects(selection: Selection, object: KubeObject): boolean {
  return matchesLabels(selection.labels, object.metadata.labels) && matchesFields(selection.fields, object);
}

/** The continue token's content, shaped as the apiserver's (base64 JSON of a version, a revision and a start key). */
interface ContinueToken {
  readonly v: 'meta.k8s.io/v1';
  readonly rv: number;
  readonly start: string;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}\u0000${object.metadata.name ?? ''}`;
}

function decodeContinue(token: string): ContinueToken {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as ContinueToken;
    if (parsed.v !== 'meta.k8s.io/v1' || !Number.isInteger(parsed.rv) || typeof parsed.start !== 'string') throw new Error('not a continue token');
    return parsed;
  } catch {
    throw badRequest('continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)');
  }
}

/**
 * A list, paginated as the apiserver does: every page of one list shows the objects as they were
 * at the first page's resourceVersion; a token older than the kept history is answered 410.
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#retrieving-large-results-sets-in-chunks
 */
export function listObjects(store: ObjectStore, info: ResourceInfo, namespace: string | undefined, query: ListQuery): ObjectList {
  const selection = parseSelection(info, query);
  const limit = query.limit === undefined || query.limit === '' ? 0 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 0) throw badRequest(`limit: Invalid value: "${query.limit}": must be a non-negative integer`);
  let revision = store.resourceVersion;
  let start = '';
  if (query.continue !== undefined && query.continue !== '') {
    const token = decodeContinue(query.continue);
    revision = token.rv;
    start = token.start;
  } else if (query.resourceVersionMatch === 'Exact' && query.resourceVersion !== undefined) {
    revision = Number(query.resourceVersion);
    if (!Number.isInteger(revision)) throw badRequest(`resourceVersion: Invalid value: "${query.resourceVersion}": must be an integer`);
  }
  const state = revision === store.resourceVersion ? store.list(info.plural, namespace) : store.listAt(info.plural, namespace, revision);
  if (state === 'expired') {
    throw expired(
      query.continue === undefined
        ? `too old resource version: ${revision} (${store.oldestResumable + 1})`
        : 'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
    );
  }
  const matching = state.filter((object) => keyOf(object) >= start && selects(selection, object)).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
  const page = limit > 0 ? matching.slice(0, limit) : matching;
  const more = matching.length > page.length;
  const last = page.at(-1);
  const metadata: ObjectList['metadata'] = { resourceVersion: String(revision) };
  if (more && last !== undefined) {
    const token: ContinueToken = { v: 'meta.k8s.io/v1', rv: revision, start: `${keyOf(last)}\u0000` };
    metadata.continue = Buffer.from(JSON.stringify(token)).toString('base64');
    // The apiserver counts what remains only when no selector filters the list.
    if (selection.labels.length === 0 && selection.fields.length === 0) metadata.remainingItemCount = matching.length - page.length;
  }
  // Items of a typed list carry no kind or apiVersion: the list's kind says it.
  const items = page.map(({ apiVersion: _a, kind: _k, ...rest }) => rest as KubeObject);
  return { apiVersion: apiVersionOf(info), kind: `${info.kind}List`, metadata, items };
}
