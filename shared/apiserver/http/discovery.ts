import { apiVersionOf, groupVersions, RESOURCE_TYPES } from '../../model/kinds.js';
import { servedVerbs } from './aggregated-discovery.js';
import { METRICS_GROUP, METRICS_RESOURCES, METRICS_VERBS, METRICS_VERSION } from '../metrics-api.js';
import { AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, REVIEW_RESOURCES, REVIEW_VERBS } from '../review-resources.js';

/** Legacy discovery documents (APIVersions, APIGroupList, APIResourceList). */

/** The Kubernetes version kumo's API corresponds to (the kubectl dispatcher picks its client by `minor`). */
export const KUBERNETES_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-kumo' };

export function versionInfo() {
  return {
    ...KUBERNETES_VERSION,
    gitCommit: 'kumo',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'n/a',
    compiler: 'n/a',
    platform: 'aws/lambda',
  };
}

export const apiVersions = () => ({
  kind: 'APIVersions',
  apiVersion: 'v1',
  versions: ['v1'],
  serverAddressByClientCIDRs: [],
});

/** The served group/versions: the kinds', the metrics API's and the reviews'. */
const allGroupVersions = () => [
  ...groupVersions(),
  { group: METRICS_GROUP, version: METRICS_VERSION },
  { group: AUTHENTICATION_GROUP, version: 'v1' },
  { group: AUTHORIZATION_GROUP, version: 'v1' },
];

function groupDoc(group: string) {
  const versions = allGroupVersions()
    .filter((gv) => gv.group === group)
    .map((gv) => ({ groupVersion: apiVersionOf(gv), version: gv.version }));
  return { name: group, versions, preferredVersion: versions[0] };
}

export const apiGroup = (group: string) => ({ kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group) });

export function apiGroupList() {
  const groups = [...new Set(allGroupVersions().map((gv) => gv.group))].filter((g) => g !== '');
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
}

export function apiResourceList(group: string, version: string) {
  if (group === METRICS_GROUP)
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: `${METRICS_GROUP}/${METRICS_VERSION}`,
      resources: METRICS_RESOURCES.map((r) => ({ ...r, singularName: '', verbs: METRICS_VERBS })),
    };
  if (group === AUTHORIZATION_GROUP || group === AUTHENTICATION_GROUP)
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: `${group}/${version}`,
      resources: REVIEW_RESOURCES.filter((r) => r.group === group).map((r) => ({
        name: r.name,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: REVIEW_VERBS,
      })),
    };
  const types = RESOURCE_TYPES.filter((t) => t.group === group && t.version === version);
  const resources = types.flatMap((t) => [
    {
      name: t.plural,
      singularName: t.singular,
      namespaced: t.namespaced,
      kind: t.kind,
      verbs: servedVerbs(t),
      ...(t.shortNames.length ? { shortNames: t.shortNames } : {}),
      ...(t.categories.length ? { categories: t.categories } : {}),
    },
    ...t.subresources.map((s) => ({
      name: `${t.plural}/${s.name}`,
      singularName: '',
      namespaced: t.namespaced,
      // A subresource of another group/version (deployments/scale is autoscaling/v1) names both.
      ...(s.group !== t.group || s.version !== t.version ? { group: s.group, version: s.version } : {}),
      kind: s.kind,
      verbs: s.verbs,
    })),
  ]);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf({ group, version }), resources };
}
