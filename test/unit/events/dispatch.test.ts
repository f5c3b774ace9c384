import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { keysForChange } from '../../../shared/events/dispatch.js';
import { dispatchChanges } from '../../../shared/events/dispatcher.js';
import type { QueueName, WorkQueue } from '../../../shared/queue/work-queue.js';

const owned = {
  ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true }],
};
const podOf = (o: { nodeName?: string; phase?: string; image?: string; deleting?: boolean } = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'p',
    namespace: 'default',
    uid: 'u1',
    ...owned,
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: { containers: [{ name: 'c', image: o.image ?? 'x' }], ...(o.nodeName ? { nodeName: o.nodeName } : {}) },
  status: { phase: o.phase ?? 'Pending' },
});
const nodeOf = (ready: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1' },
  spec: {},
  status: { conditions: [{ type: 'Ready', status: ready }], ...extra },
});
const keys = (old?: KubeObject, cur?: KubeObject) => keysForChange({ old, new: cur }).map((k) => `${k.queue}:${k.key}`);

describe('keysForChange', () => {
  it('routes claims and volumes to the binder, the scheduler, the pending claims and the volume’s node', () => {
    const claim = (extra: Record<string, unknown> = {}, status = 'Pending'): KubeObject => ({
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'data', namespace: 'default', uid: 'c1' },
      spec: { accessModes: ['ReadWriteOnce'], ...extra },
      status: { phase: status },
    });
    // A new claim: its own key, and waiting pods may now find it.
    expect(keys(undefined, claim())).toEqual(['controllers:PersistentVolumeClaim/default/data', 'scheduler:wakeup']);
    // Bound: its volume follows, and pods waiting for it are looked at again.
    expect(keys(claim(), claim({ volumeName: 'pv1' }, 'Bound'))).toEqual([
      'controllers:PersistentVolumeClaim/default/data',
      'controllers:PersistentVolume//pv1',
      'scheduler:wakeup',
    ]);
    // An annotation only: the binder looks, the scheduler does not.
    expect(keys(claim(), { ...claim(), metadata: { ...claim().metadata, annotations: { a: 'b' } } })).toEqual([
      'controllers:PersistentVolumeClaim/default/data',
    ]);
    const pv = (extra: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: 'pv1', ...meta },
      spec: { capacity: { storage: '1Gi' }, ...extra },
    });
    // A new free volume: pending claims may take it.
    expect(keys(undefined, pv())).toEqual(['controllers:PersistentVolume//pv1', 'controllers:pendingclaims']);
    // Reserved for a claim: that claim binds.
    expect(keys(pv(), pv({ claimRef: { namespace: 'default', name: 'data' } }))).toEqual([
      'controllers:PersistentVolume//pv1',
      'controllers:PersistentVolumeClaim/default/data',
    ]);
    // A kumo local volume being deleted: its node removes the directory.
    const local = (deleting: boolean) =>
      pv(
        {
          claimRef: { namespace: 'default', name: 'data', uid: 'c1' },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n1'] }] },
              ],
            },
          },
        },
        {
          annotations: { 'pv.kubernetes.io/provisioned-by': 'kumo.dev/local' },
          finalizers: ['kubernetes.io/pv-protection', 'kumo.dev/local-volume-cleanup'],
          ...(deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
        },
      );
    expect(keys(local(false), local(true))).toEqual(['controllers:PersistentVolume//pv1', 'node:n1']);
    // A class appears: pending claims may go on.
    expect(keys(undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'x' } })).toEqual(
      ['controllers:pendingclaims'],
    );
    // A pod that used a claim is gone: a claim being deleted may be freed.
    const user: KubeObject = {
      ...podOf({ nodeName: 'n1' }),
      spec: { ...podOf().spec, nodeName: 'n1', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] },
    };
    expect(keys(user, undefined)).toContain('controllers:PersistentVolumeClaim/default/data');
  });

  it('a ClusterRole whose rules, labels or aggregationRule change brings one aggregation of them all', () => {
    const role = (labels: Record<string, string>, verbs: string[]): KubeObject => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'crd-editor', labels },
      rules: [{ apiGroups: ['x.io'], resources: ['widgets'], verbs }],
    });
    const edit = { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' };
    // Each also bumps the RBAC generation: the API containers' copies are stale.
    const both = ['controllers:ClusterRole//*', 'controllers:rbacchanged'];
    expect(keys(undefined, role(edit, ['get']))).toEqual(both);
    expect(keys(role(edit, ['get']), role(edit, ['get', 'list']))).toEqual(both);
    expect(keys(role({}, ['get']), role(edit, ['get']))).toEqual(both);
    // Annotations and the like are nothing the aggregation reads.
    const annotated = {
      ...role(edit, ['get']),
      metadata: { ...role(edit, ['get']).metadata, annotations: { a: 'b' } },
    };
    expect(keys(role(edit, ['get']), annotated)).toEqual([]);
    expect(keys(role(edit, ['get']), undefined)).toContain('controllers:ClusterRole//*');
    // A binding's subjects are what the authorizer reads: a change bumps the generation, a new annotation does not.
    const crb = (users: string[], annotations?: Record<string, string>): KubeObject => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'b', ...(annotations ? { annotations } : {}) },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: users.map((name) => ({ kind: 'User', name })),
    });
    expect(keys(crb(['a']), crb(['a', 'b']))).toEqual(['controllers:rbacchanged']);
    expect(keys(crb(['a']), crb(['a'], { x: 'y' }))).toEqual([]);
  });

  it('brings a namespace back when its kube-root-ca.crt changes or goes, or its default ServiceAccount goes', () => {
    const cm = (name: string, ca: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name, namespace: 'team' },
      data: { 'ca.crt': ca },
    });
    const sa = (name: string): KubeObject => ({
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name, namespace: 'team' },
    });
    expect(keys(cm('kube-root-ca.crt', 'a'), cm('kube-root-ca.crt', 'b'))).toEqual(['controllers:Namespace//team']);
    expect(keys(cm('kube-root-ca.crt', 'a'), undefined)).toContain('controllers:Namespace//team');
    expect(keys(cm('settings', 'a'), cm('settings', 'b'))).toEqual([]);
    expect(keys(sa('default'), undefined)).toContain('controllers:Namespace//team');
    expect(keys(undefined, sa('default'))).toEqual([]);
    expect(keys(sa('robot'), undefined)).not.toContain('controllers:Namespace//team');
  });

  it("an autoscaler's own status write brings no reconcile (its evaluation chain does); a spec change does", () => {
    const hpa = (generation: number, status: Record<string, unknown> = {}): KubeObject => ({
      apiVersion: 'autoscaling/v2',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web', namespace: 'default', uid: 'h1', generation },
      spec: { maxReplicas: generation + 1 },
      status,
    });
    expect(keys(undefined, hpa(1))).toEqual(['controllers:HorizontalPodAutoscaler/default/web']);
    expect(keys(hpa(1), hpa(1, { desiredReplicas: 2 }))).toEqual([]);
    expect(keys(hpa(1), hpa(2))).toEqual(['controllers:HorizontalPodAutoscaler/default/web']);
  });

  it.each<[string, KubeObject | undefined, KubeObject | undefined, string[]]>([
    [
      'a new pod goes to its owner and the scheduler',
      undefined,
      podOf(),
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'scheduler:Pod/default/p',
        'controllers:Service/default/*',
      ],
    ],
    [
      'a status-only change of a waiting pod does not wake the scheduler',
      podOf(),
      { ...podOf(), status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False' }] } },
      ['controllers:Service/default/*'],
    ],
    [
      'a spec change of a waiting pod does',
      podOf(),
      podOf({ image: 'y' }),
      ['scheduler:Pod/default/p', 'controllers:Service/default/*'],
    ],
    [
      'binding wakes the node’s agent, not the owner (nothing it counts changed)',
      podOf(),
      podOf({ nodeName: 'n1' }),
      ['controllers:Service/default/*', 'node:n1'],
    ],
    [
      'an agent’s status write does not wake it',
      podOf({ nodeName: 'n1', phase: 'Pending' }),
      podOf({ nodeName: 'n1', phase: 'Running' }),
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'controllers:Service/default/*',
      ],
    ],
    [
      'a bound pod that finishes releases its share',
      podOf({ nodeName: 'n1', phase: 'Running' }),
      podOf({ nodeName: 'n1', phase: 'Succeeded' }),
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'controllers:Service/default/*',
        'scheduler:release/n1/u1',
      ],
    ],
    [
      'a bound pod that is deleted releases its share and wakes its agent',
      podOf({ nodeName: 'n1' }),
      undefined,
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'controllers:Service/default/*',
        'scheduler:release/n1/u1',
        'node:n1',
      ],
    ],
    [
      'a bound pod marked for deletion wakes its agent',
      podOf({ nodeName: 'n1' }),
      podOf({ nodeName: 'n1', deleting: true }),
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'controllers:Service/default/*',
        'node:n1',
      ],
    ],
    [
      'a pod being deleted is not scheduled',
      undefined,
      podOf({ deleting: true }),
      [
        'controllers:ReplicaSet/default/web-abc',
        'controllers:PodDisruptionBudget/default/*',
        'controllers:Service/default/*',
      ],
    ],
    [
      'a new node wakes the scheduler and the DaemonSets',
      undefined,
      nodeOf('True'),
      ['controllers:Node//n1', 'scheduler:wakeup', 'controllers:daemonsets'],
    ],
    ['a heartbeat does not', nodeOf('True'), nodeOf('True', { heartbeat: 'later' }), ['controllers:Node//n1']],
    [
      'a node turning Ready does',
      nodeOf('Unknown'),
      nodeOf('True'),
      ['controllers:Node//n1', 'scheduler:wakeup', 'controllers:daemonsets'],
    ],
    [
      'a deleted node brings the lifecycle controller (its pods and ledger go)',
      nodeOf('True'),
      undefined,
      ['controllers:Node//n1', 'controllers:NodeLifecycle//cluster', 'controllers:daemonsets'],
    ],
    [
      'a deleted owner calls the garbage collector',
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', uid: 'd1' } },
      undefined,
      ['controllers:Deployment/default/web', 'controllers:gc/Deployment/default/web/d1'],
    ],
    [
      'so does an owner waiting on an orphan finalizer',
      undefined,
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: {
          name: 'web',
          namespace: 'default',
          uid: 'd1',
          deletionTimestamp: '2026-01-01T00:00:00Z',
          finalizers: ['orphan'],
        },
      },
      ['controllers:Deployment/default/web', 'controllers:gc/Deployment/default/web/d1'],
    ],
    ['events go nowhere', undefined, { apiVersion: 'v1', kind: 'Event', metadata: { name: 'e' } }, []],
    [
      'a kind no controller reconciles costs no message of its own',
      undefined,
      { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l', namespace: 'default' } },
      [],
    ],
    [
      'but tells its owner, and the garbage collector when it goes',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: {
          name: 'c',
          namespace: 'default',
          uid: 'c1',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }],
        },
      },
      undefined,
      ['controllers:Deployment/default/web', 'controllers:gc/ConfigMap/default/c/c1'],
    ],
    [
      'other kinds go to their controller',
      undefined,
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' } },
      ['controllers:Deployment/default/web'],
    ],
    [
      'an owned ReplicaSet goes to its own controller and to its Deployment',
      undefined,
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: 'web-abc',
          namespace: 'default',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }],
        },
      },
      ['controllers:ReplicaSet/default/web-abc', 'controllers:Deployment/default/web'],
    ],
    [
      "a StatefulSet's ControllerRevision tells only the StatefulSet (no controller reconciles revisions)",
      undefined,
      {
        apiVersion: 'apps/v1',
        kind: 'ControllerRevision',
        metadata: {
          name: 'db-abc',
          namespace: 'default',
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'db', uid: 's1', controller: true }],
        },
      },
      ['controllers:StatefulSet/default/db'],
    ],
  ])('%s', (_n, old, cur, expected) => expect(keys(old, cur)).toEqual(expected));
});

describe('dispatchChanges', () => {
  const recording = () => {
    const sent: Record<string, string[]> = {};
    const queue: WorkQueue = {
      enqueue: async (q: QueueName, ks: string[]) => {
        (sent[q] ??= []).push(...ks);
      },
    };
    return { sent, queue };
  };

  it('sends each key once per batch', async () => {
    const { sent, queue } = recording();
    const records = [podOf(), podOf({ image: 'y' }), podOf({ image: 'z' })].map((p, i, all) => ({
      id: String(i),
      change: { old: i ? all[i - 1] : undefined, new: p },
    }));
    expect(await dispatchChanges(records, queue)).toBeUndefined();
    expect(sent).toEqual({
      controllers: ['ReplicaSet/default/web-abc', 'PodDisruptionBudget/default/*', 'Service/default/*'],
      scheduler: ['Pod/default/p'],
    });
  });

  it('reports the first record whose queue failed, so the stream resumes there', async () => {
    const queue: WorkQueue = {
      enqueue: async (q) => (q === 'scheduler' ? Promise.reject(new Error('throttled')) : undefined),
    };
    const records = [
      {
        id: 'a',
        change: {
          new: { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'x' } } as KubeObject,
        },
      },
      { id: 'b', change: { new: podOf() } },
      { id: 'c', change: { new: podOf({ image: 'q' }) } },
    ];
    expect(await dispatchChanges(records, queue)).toBe('b');
  });

  it('sends the same set of keys however the records are duplicated or reordered', async () => {
    const changes = [
      { new: podOf() },
      { old: podOf(), new: podOf({ nodeName: 'n1' }) },
      { old: podOf({ nodeName: 'n1' }), new: undefined },
      { new: nodeOf('True') },
      { new: { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j', namespace: 'default' } } as KubeObject },
    ];
    const once = recording();
    await dispatchChanges(
      changes.map((change, i) => ({ id: String(i), change })),
      once.queue,
    );
    const expected = Object.fromEntries(Object.entries(once.sent).map(([q, ks]) => [q, [...new Set(ks)].sort()]));
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat({ max: changes.length - 1 }), { minLength: changes.length * 2, maxLength: 30 }),
        async (picks) => {
          const order = [...new Set([...picks, ...changes.keys()])].concat(picks);
          const run = recording();
          await dispatchChanges(
            order.map((i, n) => ({ id: String(n), change: changes[i] as (typeof changes)[number] })),
            run.queue,
          );
          expect(Object.fromEntries(Object.entries(run.sent).map(([q, ks]) => [q, [...new Set(ks)].sort()]))).toEqual(
            expected,
          );
        },
      ),
    );
  });
});
