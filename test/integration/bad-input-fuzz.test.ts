import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../shared/apiserver/http/handler.js';
import { RESOURCE_TYPES } from '../../shared/model/kinds.js';
import type { KubeObject } from '../../shared/model/types.js';
import { makeConfigMap, makeDeployment, makePod } from '../support/fixtures.js';
import { freshStack, type TestStack } from '../support/stack.js';

const LOOPBACK = '127.0.0.1';

/**
 * Whatever a client sends, the answer is a Status or an object, never a 5xx: random JSON in every
 * position of a manifest, against the real handler and DynamoDB Local.
 */
let stack: TestStack;
beforeAll(async () => {
  stack = await freshStack();
});

const pathFor = (t: (typeof RESOURCE_TYPES)[number]) => {
  const base = t.group ? `/apis/${t.group}/${t.version}` : `/api/${t.version}`;
  return t.namespaced ? `${base}/namespaces/default/${t.plural}` : `${base}/${t.plural}`;
};

const anyType = fc.constantFrom(...RESOURCE_TYPES);

/** A valid manifest of each kind; the fuzzer breaks one field at a time, which reaches deeper than random noise. */
const VALID: Record<string, KubeObject> = {
  Namespace: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'ok' } },
  Node: {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'ok', labels: { zone: 'a' } },
    spec: { taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] },
  },
  Pod: makePod()
    .named('ok')
    .with((o) => ((o.spec as any).containers[0].resources = { requests: { cpu: '1' } }))
    .build(),
  Service: {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { selector: { app: 'web' }, ports: [{ port: 80 }] },
  },
  ConfigMap: makeConfigMap('ok'),
  Secret: {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'ok', namespace: 'default' },
    data: { k: 'dg==' },
    stringData: { s: 'v' },
  },
  Endpoints: {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { name: 'ok', namespace: 'default' },
    subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 80 }] }],
  },
  Event: {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: 'ok', namespace: 'default' },
    involvedObject: { kind: 'Pod', name: 'p' },
    reason: 'Test',
    type: 'Normal',
  },
  Deployment: makeDeployment('ok'),
  ReplicaSet: { ...makeDeployment('ok'), apiVersion: 'apps/v1', kind: 'ReplicaSet' },
  Job: {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
  },
  ServiceAccount: {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: 'ok', namespace: 'default' },
    secrets: [{ name: 's' }],
    automountServiceAccountToken: false,
  },
  Lease: {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15, renewTime: '2026-01-01T00:00:00.000000Z' },
  },
  PriorityClass: {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'ok' },
    value: 10,
    globalDefault: false,
    description: 'd',
  },
  NetworkPolicy: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { podSelector: { matchLabels: { a: 'b' } }, ingress: [{ ports: [{ port: 80 }] }] },
  },
  LimitRange: {
    apiVersion: 'v1',
    kind: 'LimitRange',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { limits: [{ type: 'Container', max: { cpu: '1' } }] },
  },
  ResourceQuota: {
    apiVersion: 'v1',
    kind: 'ResourceQuota',
    metadata: { name: 'ok', namespace: 'default' },
    spec: { hard: { pods: '10' }, scopes: ['BestEffort'] },
  },
  IPAddress: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IPAddress',
    metadata: { name: '10.96.200.1' },
    spec: { parentRef: { group: '', resource: 'services', namespace: 'default', name: 'ok' } },
  },
  EndpointSlice: {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 'ok', namespace: 'default', labels: { 'kubernetes.io/service-name': 'ok' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['10.88.0.2'], conditions: { ready: true } }],
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
  },
  Ingress: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name: 'ok', namespace: 'default' },
    spec: {
      tls: [{ hosts: ['a.test'], secretName: 's' }],
      rules: [
        {
          host: 'a.test',
          http: {
            paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'ok', port: { number: 80 } } } }],
          },
        },
      ],
    },
  },
  IngressClass: {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: 'ok' },
    spec: { controller: 'example.com/ingress' },
  },
  ReplicationController: {
    apiVersion: 'v1',
    kind: 'ReplicationController',
    metadata: { name: 'ok' },
    spec: {
      replicas: 1,
      selector: { app: 'web' },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  },
  StatefulSet: {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'ok' },
    spec: {
      replicas: 2,
      serviceName: 'web',
      podManagementPolicy: 'Parallel',
      ordinals: { start: 1 },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 1, maxUnavailable: '50%' } },
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } },
    },
  },
  DaemonSet: {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: { name: 'ok' },
    spec: {
      minReadySeconds: 1,
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 0, maxSurge: '10%' } },
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { nodeSelector: { disk: 'ssd' }, containers: [{ name: 'c', image: 'nginx' }] },
      },
    },
  },
  CronJob: {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'ok' },
    spec: {
      schedule: '*/5 * * * mon-fri',
      timeZone: 'Europe/Berlin',
      startingDeadlineSeconds: 30,
      concurrencyPolicy: 'Forbid',
      successfulJobsHistoryLimit: 2,
      jobTemplate: {
        metadata: { labels: { app: 'r' } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
      },
    },
  },
  ControllerRevision: {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: 'ok' },
    data: { spec: { template: { $patch: 'replace', metadata: { labels: { app: 'web' } } } } },
    revision: 1,
  },
  PersistentVolumeClaim: {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name: 'ok' },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'fast', resources: { requests: { storage: '1Gi' } } },
  },
  PersistentVolume: {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name: 'ok' },
    spec: {
      capacity: { storage: '1Gi' },
      accessModes: ['ReadWriteOnce'],
      persistentVolumeReclaimPolicy: 'Retain',
      hostPath: { path: '/tmp/ok' },
    },
  },
  StorageClass: {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'ok' },
    provisioner: 'kumo.dev/local',
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  },
  Role: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: 'ok' },
    rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }],
  },
  ClusterRole: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name: 'ok' },
    rules: [{ nonResourceURLs: ['/healthz'], verbs: ['get'] }],
  },
  RoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: 'ok' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'User', name: 'alice' }],
  },
  ClusterRoleBinding: {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'ok' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
    subjects: [{ kind: 'ServiceAccount', name: 'robot', namespace: 'default' }],
  },
  HorizontalPodAutoscaler: {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'ok' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } },
        {
          type: 'ContainerResource',
          containerResource: {
            name: 'memory',
            container: 'app',
            target: { type: 'AverageValue', averageValue: '100Mi' },
          },
        },
      ],
      behavior: {
        scaleDown: { stabilizationWindowSeconds: 60, policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }] },
      },
    },
  },
  PodDisruptionBudget: {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name: 'ok' },
    spec: {
      maxUnavailable: '25%',
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['a'] }] },
      unhealthyPodEvictionPolicy: 'AlwaysAllow',
    },
  },
};

/** Every path in a JSON value, plus one new key under each object. */
function pathsOf(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...prefix, i])));
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...prefix, k]));
    out.push([...prefix, 'extra']);
  }
  return out.filter((p) => p.length > 0 && !(p.length === 1 && (p[0] === 'apiVersion' || p[0] === 'kind')));
}

function setAt(o: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(o) as Record<string | number, unknown>;
  let cur = copy;
  for (const k of path.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[path[path.length - 1] as string] = value;
  return copy;
}

const broken = anyType.chain((t) => {
  const base = VALID[t.kind] as KubeObject;
  return fc
    .tuple(
      fc.constant(t),
      fc.constantFrom(...pathsOf(base)),
      fc.oneof(fc.jsonValue(), fc.string({ maxLength: 300 }), fc.constantFrom(null, 123, [], {}, '', 'x'.repeat(300))),
    )
    .map(([type, path, value]) => ({ type, body: setAt(base, path, value) }));
});

describe('no input produces a 5xx', () => {
  it('create, replace and patch with random manifests', async () => {
    await fc.assert(
      fc.asyncProperty(broken, fc.constantFrom('POST', 'PUT', 'PATCH', 'STATUS'), async ({ type: t, body }, verb) => {
        // STATUS: a PUT to the status subresource (agents and controllers write there).
        const method = verb === 'STATUS' ? 'PUT' : verb;
        const path =
          verb === 'POST'
            ? pathFor(t)
            : verb === 'STATUS' && t.hasStatus
              ? `${pathFor(t)}/ok/status`
              : `${pathFor(t)}/ok`;
        const res = await handleApiRequest(
          {
            sourceIp: LOOPBACK, // the offline development mode: tokenless loopback requests act as cluster-admin
            method,
            path,
            query: new URLSearchParams(),
            headers: { 'content-type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' },
            body: JSON.stringify(body),
          },
          stack.api,
        );
        expect(res.statusCode, res.body).toBeLessThan(500);
        if (res.statusCode >= 400) expect(JSON.parse(res.body)).toMatchObject({ kind: 'Status', code: res.statusCode });
        // Whatever was stored must still print as a Table (kubectl get) without a 5xx.
        const table = await handleApiRequest(
          {
            sourceIp: LOOPBACK,
            method: 'GET',
            path: pathFor(t),
            query: new URLSearchParams(),
            headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' },
          },
          stack.api,
        );
        expect(table.statusCode, table.body).toBe(200);
      }),
      {
        numRuns: 1000,
        // Found by this property once (a 500): fields named like Object.prototype members.
        examples: [
          [
            {
              type: RESOURCE_TYPES.find((t) => t.kind === 'Secret') as (typeof RESOURCE_TYPES)[number],
              body: JSON.parse(
                '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"ok","toString":{},"__proto__":{"a":1}},"data":{"k":"dg=="}}',
              ),
            },
            'POST',
          ],
        ],
      },
    );
  });

  it('random query strings on lists', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyType,
        fc.string(),
        fc.string(),
        fc.string(),
        fc.string(),
        async (t, labelSelector, fieldSelector, limit, cont) => {
          const query = new URLSearchParams({ labelSelector, fieldSelector, limit, continue: cont });
          const res = await handleApiRequest(
            { sourceIp: LOOPBACK, method: 'GET', path: pathFor(t), query, headers: {} },
            stack.api,
          );
          expect(res.statusCode, res.body).toBeLessThan(500);
        },
      ),
      { numRuns: 200 },
    );
  });
});
