import { apiVersionOf, groupVersions, RESOURCE_TYPES, type ResourceType } from '../../model/kinds.js';
import { METRICS_GROUP, METRICS_RESOURCES, METRICS_VERBS, METRICS_VERSION } from '../metrics-api.js';
import { AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, REVIEW_RESOURCES, REVIEW_VERBS } from '../review-resources.js';

/**
 * Aggregated discovery (apidiscovery.k8s.io v2 and v2beta1): one document for /api and one for /apis
 * describing every resource, so kubectl learns the API in one request. The response's Content-Type
 * must repeat the negotiated `g=…;v=…;as=APIGroupDiscoveryList`, or kubectl reads it as legacy.
 */

/** The verbs a kind is served with, as discovery lists them (namespaces have no deletecollection in Kubernetes). */
export const servedVerbs = (t: { kind: string }) =>
  t.kind === 'Namespace'
    ? ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']
    : ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The discovery version the client asked for, or undefined when it wants the legacy documents. */
export function negotiatedDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const part of (accept ?? '').split(',')) {
    const params = Object.fromEntries(
      part
        .split(';')
        .slice(1)
        .map((p) => p.trim().split('=') as [string, string]),
    );
    if (
      params.g === 'apidiscovery.k8s.io' &&
      params.as === 'APIGroupDiscoveryList' &&
      (params.v === 'v2' || params.v === 'v2beta1')
    )
      return params.v;
  }
  return undefined;
}

export const discoveryContentType = (v: 'v2' | 'v2beta1') =>
  `application/json;g=apidiscovery.k8s.io;v=${v};as=APIGroupDiscoveryList`;

function resourceDoc(t: ResourceType) {
  return {
    resource: t.plural,
    responseKind: { group: t.group, version: t.version, kind: t.kind },
    scope: t.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: t.singular,
    verbs: servedVerbs(t),
    ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
    ...(t.categories.length ? { categories: t.categories } : {}),
    subresources: t.subresources.map((s) => ({
      subresource: s.name,
      responseKind: { group: s.group, version: s.version, kind: s.kind },
      verbs: s.verbs,
    })),
  };
}

/** metrics.k8s.io, as the kube-apiserver lists metrics-server's aggregated APIService. */
const metricsGroupDoc = {
  metadata: { name: METRICS_GROUP },
  versions: [
    {
      version: METRICS_VERSION,
      freshness: 'Current',
      resources: METRICS_RESOURCES.map((r) => ({
        resource: r.name,
        responseKind: { group: METRICS_GROUP, version: METRICS_VERSION, kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: '',
        verbs: METRICS_VERBS,
      })),
    },
  ],
};

/** The review resources' groups: create-only, nothing stored (access-reviews.ts). */
const reviewGroupDoc = (group: string) => ({
  metadata: { name: group },
  versions: [
    {
      version: 'v1',
      freshness: 'Current',
      resources: REVIEW_RESOURCES.filter((r) => r.group === group).map((r) => ({
        resource: r.name,
        responseKind: { group, version: 'v1', kind: r.kind },
        scope: r.namespaced ? 'Namespaced' : 'Cluster',
        singularResource: r.kind.toLowerCase(),
        verbs: REVIEW_VERBS,
      })),
    },
  ],
});

export function aggregatedDiscovery(core: boolean, v: 'v2' | 'v2beta1') {
  const groups = [...new Set(groupVersions().map((gv) => gv.group))].filter((g) => (core ? g === '' : g !== ''));
  return {
    kind: 'APIGroupDiscoveryList',
    apiVersion: `apidiscovery.k8s.io/${v}`,
    metadata: {},
    items: [
      ...groups.map((group) => ({
        metadata: { name: group },
        versions: groupVersions()
          .filter((gv) => gv.group === group)
          .map((gv) => ({
            version: gv.version,
            freshness: 'Current',
            resources: RESOURCE_TYPES.filter((t) => apiVersionOf(t) === apiVersionOf(gv)).map(resourceDoc),
          })),
      })),
      ...(core ? [] : [metricsGroupDoc, ...[AUTHENTICATION_GROUP, AUTHORIZATION_GROUP].map(reviewGroupDoc)]),
    ],
  };
}
