import type { PolicyRule } from '../model/rbac.js';
import { RBAC_GROUP } from '../model/rbac.js';
import type { KubeObject } from '../model/types.js';
import { SYSTEM_AUTHENTICATED, SYSTEM_MASTERS } from './principal.js';

/**
 * The ClusterRoles and ClusterRoleBindings every Kubernetes cluster starts with
 * (plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go, as reconciled in testdata/cluster-roles.yaml;
 * taken from the 1.35 policy, whose events and DRA rules kumo's API simply does not serve yet).
 * admin, edit and view aggregate the `system:aggregate-to-*` roles and any other ClusterRole carrying
 * their labels, as a chart's CRD roles do; kumo's authorizer resolves the aggregation itself.
 */

const BOOTSTRAPPING = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const AUTOUPDATE = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(
  name: string,
  rules: PolicyRule[],
  labels: Record<string, string>,
  aggregateFrom?: Record<string, string>,
): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: { name, labels: { ...BOOTSTRAPPING, ...labels }, annotations: { ...AUTOUPDATE } },
    ...(aggregateFrom ? { aggregationRule: { clusterRoleSelectors: [{ matchLabels: aggregateFrom }] } } : {}),
    rules,
  };
}

function bindToGroups(name: string, groups: string[]): KubeObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...BOOTSTRAPPING }, annotations: { ...AUTOUPDATE } },
    roleRef: { apiGroup: RBAC_GROUP, kind: 'ClusterRole', name },
    subjects: groups.map((g) => ({ apiGroup: RBAC_GROUP, kind: 'Group', name: g })),
  };
}

export const BOOTSTRAP_CLUSTER_ROLES: readonly KubeObject[] = [
  clusterRole(
    'cluster-admin',
    [
      { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
      { nonResourceURLs: ['*'], verbs: ['*'] },
    ],
    {},
  ),
  clusterRole('admin', [], {}, { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' }),
  clusterRole(
    'edit',
    [],
    { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
    { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
  ),
  clusterRole(
    'view',
    [],
    { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
    { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
  ),
  clusterRole(
    'system:aggregate-to-admin',
    [
      { apiGroups: ['authorization.k8s.io'], resources: ['localsubjectaccessreviews'], verbs: ['create'] },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['rolebindings', 'roles'],
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      },
    ],
    { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' },
  ),
  clusterRole(
    'system:aggregate-to-edit',
    [
      {
        apiGroups: [''],
        resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['impersonate'] },
      {
        apiGroups: [''],
        resources: ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
      {
        apiGroups: [''],
        resources: [
          'configmaps',
          'persistentvolumeclaims',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'secrets',
          'serviceaccounts',
          'services',
          'services/proxy',
        ],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      { apiGroups: [''], resources: ['serviceaccounts/token'], verbs: ['create'] },
      {
        apiGroups: ['', 'events.k8s.io'],
        resources: ['events'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['apps'],
        resources: [
          'daemonsets',
          'deployments',
          'deployments/rollback',
          'deployments/scale',
          'replicasets',
          'replicasets/scale',
          'statefulsets',
          'statefulsets/scale',
        ],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['batch'],
        resources: ['cronjobs', 'jobs'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['extensions'],
        resources: [
          'daemonsets',
          'deployments',
          'deployments/rollback',
          'deployments/scale',
          'ingresses',
          'networkpolicies',
          'replicasets',
          'replicasets/scale',
          'replicationcontrollers/scale',
        ],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['policy'],
        resources: ['poddisruptionbudgets'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['ingresses', 'networkpolicies'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
      {
        apiGroups: ['coordination.k8s.io'],
        resources: ['leases'],
        verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
      },
      {
        apiGroups: ['resource.k8s.io'],
        resources: ['resourceclaims', 'resourceclaimtemplates'],
        verbs: ['create', 'delete', 'deletecollection', 'patch', 'update'],
      },
    ],
    { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' },
  ),
  clusterRole(
    'system:aggregate-to-view',
    [
      {
        apiGroups: [''],
        resources: [
          'configmaps',
          'endpoints',
          'persistentvolumeclaims',
          'persistentvolumeclaims/status',
          'pods',
          'replicationcontrollers',
          'replicationcontrollers/scale',
          'serviceaccounts',
          'services',
          'services/status',
        ],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: [''],
        resources: [
          'bindings',
          'limitranges',
          'namespaces/status',
          'pods/log',
          'pods/status',
          'replicationcontrollers/status',
          'resourcequotas',
          'resourcequotas/status',
        ],
        verbs: ['get', 'list', 'watch'],
      },
      { apiGroups: [''], resources: ['namespaces'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['', 'events.k8s.io'], resources: ['events'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['get', 'list', 'watch'] },
      {
        apiGroups: ['apps'],
        resources: [
          'controllerrevisions',
          'daemonsets',
          'daemonsets/status',
          'deployments',
          'deployments/scale',
          'deployments/status',
          'replicasets',
          'replicasets/scale',
          'replicasets/status',
          'statefulsets',
          'statefulsets/scale',
          'statefulsets/status',
        ],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['autoscaling'],
        resources: ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['batch'],
        resources: ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['extensions'],
        resources: [
          'daemonsets',
          'daemonsets/status',
          'deployments',
          'deployments/scale',
          'deployments/status',
          'ingresses',
          'ingresses/status',
          'networkpolicies',
          'replicasets',
          'replicasets/scale',
          'replicasets/status',
          'replicationcontrollers/scale',
        ],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['policy'],
        resources: ['poddisruptionbudgets', 'poddisruptionbudgets/status'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['networking.k8s.io'],
        resources: ['ingresses', 'ingresses/status', 'networkpolicies'],
        verbs: ['get', 'list', 'watch'],
      },
      {
        apiGroups: ['resource.k8s.io'],
        resources: ['resourceclaims', 'resourceclaims/status', 'resourceclaimtemplates'],
        verbs: ['get', 'list', 'watch'],
      },
    ],
    { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
  ),
  clusterRole(
    'system:discovery',
    [
      {
        nonResourceURLs: [
          '/api',
          '/api/*',
          '/apis',
          '/apis/*',
          '/healthz',
          '/livez',
          '/openapi',
          '/openapi/*',
          '/readyz',
          '/version',
          '/version/',
        ],
        verbs: ['get'],
      },
    ],
    {},
  ),
  clusterRole(
    'system:basic-user',
    [
      {
        apiGroups: ['authorization.k8s.io'],
        resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'],
        verbs: ['create'],
      },
      { apiGroups: ['authentication.k8s.io'], resources: ['selfsubjectreviews'], verbs: ['create'] },
    ],
    {},
  ),
  clusterRole(
    'system:public-info-viewer',
    [{ nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'], verbs: ['get'] }],
    {},
  ),
];

export const BOOTSTRAP_CLUSTER_ROLE_BINDINGS: readonly KubeObject[] = [
  bindToGroups('cluster-admin', [SYSTEM_MASTERS]),
  bindToGroups('system:discovery', [SYSTEM_AUTHENTICATED]),
  bindToGroups('system:basic-user', [SYSTEM_AUTHENTICATED]),
  bindToGroups('system:public-info-viewer', [SYSTEM_AUTHENTICATED, 'system:unauthenticated']),
];
