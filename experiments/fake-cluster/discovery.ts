import type { ResourceInfo } from './resources.js';
import { resources } from './resources.js';

/**
 * The discovery documents (`/api`, `/apis`, `/api/v1`, `/apis/batch/v1`) that kubectl and other
 * generic clients read before they call; @kubernetes/client-node's typed APIs do not need them.
 * https://kubernetes.io/docs/concepts/overview/kubernetes-api/#discovery-api
 * @returns undefined for any other path
 */
export function discoveryDocument(pathname: string): unknown {
  const verbs = (info: ResourceInfo) => (info.writable ? ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'] : ['get', 'list', 'watch']);
  const resourceList = (group: string, version: string) => ({
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group === '' ? version : `${group}/${version}`,
    resources: Object.values(resources)
      .filter((info) => info.group === group)
      .flatMap((info) => [
        { name: info.plural, singularName: info.kind.toLowerCase(), namespaced: info.namespaced, kind: info.kind, verbs: verbs(info) },
        { name: `${info.plural}/status`, singularName: '', namespaced: info.namespaced, kind: info.kind, verbs: ['get', 'patch', 'update'] },
        ...(info.plural === 'pods' ? [{ name: 'pods/log', singularName: '', namespaced: true, kind: 'Pod', verbs: ['get'] }] : []),
      ]),
  });
  switch (pathname) {
    case '/api':
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
    case '/apis':
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'batch', versions: [{ groupVersion: 'batch/v1', version: 'v1' }], preferredVersion: { groupVersion: 'batch/v1', version: 'v1' } }] };
    case '/api/v1':
      return resourceList('', 'v1');
    case '/apis/batch/v1':
      return resourceList('batch', 'v1');
    default:
      return undefined;
  }
}
