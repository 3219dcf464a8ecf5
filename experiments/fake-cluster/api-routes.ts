import { ApiError, failure } from './api-errors.js';
import type { ResourceInfo } from './resources.js';
import { resources } from './resources.js';

/** A request path resolved to what it addresses. */
export interface ApiRoute {
  readonly info: ResourceInfo;
  /** The namespace in the path; undefined for cluster-scoped kinds and lists across all namespaces. */
  readonly namespace: string | undefined;
  readonly name: string | undefined;
  readonly subresource: 'status' | 'log' | undefined;
}

const groups: Readonly<Record<string, string>> = { '/api/v1': '', '/apis/batch/v1': 'batch' };

function notServed(): ApiError {
  return new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', { causes: [] }));
}

/**
 * Resolves a path as the apiserver's REST mapping does:
 * `/api/v1/namespaces/{ns}/pods/{name}[/status|/log]`, `/apis/batch/v1/namespaces/{ns}/jobs/…`,
 * `/api/v1/pods` and `/apis/batch/v1/jobs` (every namespace), `/api/v1/namespaces[/{name}]`,
 * `/api/v1/nodes[/{name}]`. https://kubernetes.io/docs/reference/using-api/api-concepts/#resource-uris
 */
export function resolveRoute(pathname: string): ApiRoute {
  const prefix = Object.keys(groups).find((p) => pathname === p || pathname.startsWith(`${p}/`));
  if (prefix === undefined) throw notServed();
  const group = groups[prefix] ?? '';
  const parts = pathname.slice(prefix.length).split('/').filter(Boolean).map(decodeURIComponent);
  const known = (plural: string | undefined): ResourceInfo => {
    const info = Object.values(resources).find((r) => r.plural === plural && r.group === group);
    if (info === undefined) throw notServed();
    return info;
  };
  if (parts[0] === 'namespaces' && parts.length >= 3) {
    const info = known(parts[2]);
    if (!info.namespaced || parts.length > 5) throw notServed();
    const subresource = parts[4];
    if (subresource !== undefined && !(subresource === 'status' || (subresource === 'log' && info.plural === 'pods'))) throw notServed();
    return { info, namespace: parts[1], name: parts[3], subresource };
  }
  const info = known(parts[0]);
  if (parts.length > 3 || (parts.length > 1 && info.namespaced)) throw notServed();
  const subresource = parts[2];
  if (subresource !== undefined && subresource !== 'status') throw notServed();
  return { info, namespace: undefined, name: parts[1], subresource };
}
