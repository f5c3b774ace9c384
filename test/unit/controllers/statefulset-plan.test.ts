import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  ordinalOf,
  planStatefulSet,
  revisionOf,
  statefulPod,
  type Revision,
} from '../../../shared/controllers/statefulset/plan.js';
import {
  excessRevisions,
  newRevision,
  revisionTemplate,
  sortRevisions,
  equalRevisions,
  revisionNumber,
} from '../../../shared/controllers/history.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const template = (image: string) => ({
  metadata: { labels: { app: 'web' } },
  spec: { containers: [{ name: 'c', image }] },
});
const V1: Revision = { name: 'web-v1', template: template('nginx:1') };
const V2: Revision = { name: 'web-v2', template: template('nginx:2') };

type SetOpts = {
  replicas?: number;
  parallel?: boolean;
  partition?: number;
  maxUnavailable?: number | string;
  onDelete?: boolean;
  minReadySeconds?: number;
  start?: number;
  currentReplicas?: number;
};
const sts = (o: SetOpts = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: { name: 'web', namespace: 'default', uid: 'sts-uid', generation: 2 },
    spec: {
      replicas: o.replicas ?? 3,
      serviceName: 'web-svc',
      podManagementPolicy: o.parallel ? 'Parallel' : 'OrderedReady',
      minReadySeconds: o.minReadySeconds ?? 0,
      ...(o.start !== undefined ? { ordinals: { start: o.start } } : {}),
      selector: { matchLabels: { app: 'web' } },
      template: template('nginx:2'),
      updateStrategy: o.onDelete
        ? { type: 'OnDelete' }
        : {
            type: 'RollingUpdate',
            rollingUpdate: {
              partition: o.partition ?? 0,
              ...(o.maxUnavailable !== undefined ? { maxUnavailable: o.maxUnavailable } : {}),
            },
          },
    },
    status: { currentReplicas: o.currentReplicas ?? 0 },
  }) as KubeObject & { metadata: { name: string; uid: string } };

type PodOpts = { ready?: boolean; phase?: string; deleting?: boolean; readySince?: number; revision?: Revision };
function pod(ordinal: number, o: PodOpts = {}): KubeObject {
  const p = statefulPod(sts(), o.revision ?? V1, ordinal);
  const ready = o.ready ?? true;
  return {
    ...p,
    metadata: {
      ...p.metadata,
      creationTimestamp: new Date(NOW - 60_000).toISOString(),
      ...(o.deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
    },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: ready ? 'True' : 'False',
          lastTransitionTime: new Date(o.readySince ?? NOW - 60_000).toISOString(),
        },
      ],
    },
  };
}
const names = (pods: KubeObject[]) => pods.map((p) => p.metadata.name);

describe('planStatefulSet', () => {
  it('makes <set>-0 first, with its identity: hostname, subdomain, pod-name and pod-index labels, revision, owner', () => {
    const plan = planStatefulSet(sts(), [], V1, V1, NOW);
    expect(names(plan.create)).toEqual(['web-0']);
    const [p] = plan.create;
    expect(p?.metadata).toMatchObject({
      name: 'web-0',
      generateName: 'web-',
      labels: {
        app: 'web',
        'statefulset.kubernetes.io/pod-name': 'web-0',
        'apps.kubernetes.io/pod-index': '0',
        'controller-revision-hash': 'web-v1',
      },
      ownerReferences: [{ kind: 'StatefulSet', name: 'web', uid: 'sts-uid', controller: true }],
    });
    expect(p?.spec).toMatchObject({ hostname: 'web-0', subdomain: 'web-svc' });
  });

  it('OrderedReady: the next ordinal only once every one before it is Running and Ready (and available)', () => {
    expect(names(planStatefulSet(sts(), [pod(0, { ready: false })], V1, V1, NOW).create)).toEqual([]);
    expect(names(planStatefulSet(sts(), [pod(0, { phase: 'Pending', ready: false })], V1, V1, NOW).create)).toEqual([]);
    expect(names(planStatefulSet(sts(), [pod(0)], V1, V1, NOW).create)).toEqual(['web-1']);
    expect(names(planStatefulSet(sts(), [pod(0), pod(1)], V1, V1, NOW).create)).toEqual(['web-2']);
    // A gap is refilled before anything above it moves.
    expect(names(planStatefulSet(sts(), [pod(0), pod(2)], V1, V1, NOW).create)).toEqual(['web-1']);
    // minReadySeconds: ready for 5 s of 10 → wait, and look again when it becomes available.
    const young = planStatefulSet(sts({ minReadySeconds: 10 }), [pod(0, { readySince: NOW - 5_000 })], V1, V1, NOW);
    expect(young.create).toEqual([]);
    expect(young.requeueAfterMs).toBe(5_000);
    // Parallel never waits on a pod, but still looks again when one becomes available.
    const parallel = planStatefulSet(
      sts({ minReadySeconds: 10, parallel: true, replicas: 1 }),
      [pod(0, { readySince: NOW - 5_000 })],
      V1,
      V1,
      NOW,
    );
    expect(parallel.requeueAfterMs).toBe(5_000);
    expect(parallel.status).toMatchObject({ readyReplicas: 1, availableReplicas: 0 });
  });

  it('Parallel: every missing ordinal at once, and every pod beyond the count goes at once', () => {
    expect(names(planStatefulSet(sts({ parallel: true }), [], V1, V1, NOW).create)).toEqual([
      'web-0',
      'web-1',
      'web-2',
    ]);
    const down = planStatefulSet(
      sts({ parallel: true, replicas: 1 }),
      [pod(0), pod(1, { ready: false }), pod(2)],
      V1,
      V1,
      NOW,
    );
    expect(down.delete.sort()).toEqual(['web-1', 'web-2']);
  });

  it('scales down from the highest ordinal, one at a time, only while the others are healthy', () => {
    const pods = [pod(0), pod(1), pod(2), pod(3)];
    expect(planStatefulSet(sts({ replicas: 2 }), pods, V1, V1, NOW).delete).toEqual(['web-3']);
    // The one going is still terminating: wait for it.
    const going = [pod(0), pod(1), pod(2), pod(3, { deleting: true })];
    expect(planStatefulSet(sts({ replicas: 2 }), going, V1, V1, NOW).delete).toEqual([]);
    // A replica that is not ready holds scale-down back.
    const sick = [pod(0, { ready: false }), pod(1), pod(2)];
    expect(planStatefulSet(sts({ replicas: 2 }), sick, V1, V1, NOW).delete).toEqual([]);
    // The lowest unhealthy pod beyond the count may go, so an unready extra cannot deadlock scale-down.
    const unreadyExtra = [pod(0), pod(1), pod(2, { ready: false })];
    expect(planStatefulSet(sts({ replicas: 2 }), unreadyExtra, V1, V1, NOW).delete).toEqual(['web-2']);
  });

  it('deletes a failed or succeeded pod and makes its replacement only once it is gone', () => {
    const failed = planStatefulSet(sts(), [pod(0), pod(1, { phase: 'Failed', ready: false }), pod(2)], V1, V1, NOW);
    expect(failed.delete).toEqual(['web-1']);
    expect(failed.create).toEqual([]);
    expect(names(planStatefulSet(sts(), [pod(0), pod(2)], V1, V1, NOW).create)).toEqual(['web-1']);
  });

  it('rolls an update from the highest ordinal down, one pod at a time, each after the one before is healthy', () => {
    const all = [pod(0), pod(1), pod(2)];
    expect(planStatefulSet(sts(), all, V1, V2, NOW).delete).toEqual(['web-2']);
    // web-2 came back at v2 but is not ready yet: nothing else goes.
    const waiting = [pod(0), pod(1), pod(2, { revision: V2, ready: false })];
    expect(planStatefulSet(sts(), waiting, V1, V2, NOW).delete).toEqual([]);
    // So also under Parallel, where creating and scaling never wait.
    expect(planStatefulSet(sts({ parallel: true }), waiting, V1, V2, NOW).delete).toEqual([]);
    const next = [pod(0), pod(1), pod(2, { revision: V2 })];
    expect(planStatefulSet(sts(), next, V1, V2, NOW).delete).toEqual(['web-1']);
    // A missing ordinal is made at the update revision.
    expect(
      planStatefulSet(sts(), [pod(0), pod(2, { revision: V2 })], V1, V2, NOW).create[0]?.metadata.labels,
    ).toMatchObject({ 'controller-revision-hash': 'web-v2' });
  });

  it('leaves ordinals below the partition on the current revision, and makes them there', () => {
    const pods = [pod(0), pod(1), pod(2, { revision: V2 })];
    expect(planStatefulSet(sts({ partition: 2 }), pods, V1, V2, NOW).delete).toEqual([]);
    const plan = planStatefulSet(sts({ partition: 2 }), [pod(0), pod(2, { revision: V2 })], V1, V2, NOW);
    expect(plan.create.map(revisionOf)).toEqual(['web-v1']);
  });

  it('maxUnavailable replaces that many at once, counting pods already unhealthy', () => {
    const all = [pod(0), pod(1), pod(2), pod(3)];
    expect(planStatefulSet(sts({ replicas: 4, maxUnavailable: 2 }), all, V1, V2, NOW).delete).toEqual([
      'web-3',
      'web-2',
    ]);
    const oneDown = [pod(0), pod(1), pod(2), pod(3, { revision: V2, ready: false })];
    // (Parallel: OrderedReady would wait for web-3 before any update.)
    expect(
      planStatefulSet(sts({ replicas: 4, maxUnavailable: 2, parallel: true }), oneDown, V1, V2, NOW).delete,
    ).toEqual(['web-2']);
    expect(planStatefulSet(sts({ replicas: 4, maxUnavailable: '50%' }), all, V1, V2, NOW).delete).toHaveLength(2);
  });

  it('OnDelete replaces nothing itself; a pod someone deleted comes back at the update revision', () => {
    const pods = [pod(0), pod(1), pod(2)];
    expect(planStatefulSet(sts({ onDelete: true }), pods, V1, V2, NOW).delete).toEqual([]);
    const plan = planStatefulSet(sts({ onDelete: true }), [pod(0), pod(2)], V1, V2, NOW);
    expect(plan.create.map(revisionOf)).toEqual(['web-v2']);
    // OnDelete never declares the update complete.
    expect(planStatefulSet(sts({ onDelete: true }), [pod(0, { revision: V2 })], V1, V2, NOW).status).toMatchObject({
      currentRevision: 'web-v1',
    });
  });

  it('reports status by revision, and makes the update revision current once every pod is on it and ready', () => {
    const mid = planStatefulSet(sts(), [pod(0), pod(1), pod(2, { revision: V2 })], V1, V2, NOW).status;
    expect(mid).toMatchObject({
      observedGeneration: 2,
      replicas: 3,
      readyReplicas: 3,
      availableReplicas: 3,
      currentReplicas: 2,
      updatedReplicas: 1,
      currentRevision: 'web-v1',
      updateRevision: 'web-v2',
    });
    const done = planStatefulSet(
      sts(),
      [0, 1, 2].map((i) => pod(i, { revision: V2 })),
      V1,
      V2,
      NOW,
    ).status;
    expect(done).toMatchObject({
      currentReplicas: 3,
      updatedReplicas: 3,
      currentRevision: 'web-v2',
      updateRevision: 'web-v2',
    });
  });

  it('counts ordinals from spec.ordinals.start and ignores pods whose names are not its ordinals', () => {
    const plan = planStatefulSet(
      sts({ start: 5, replicas: 2, parallel: true }),
      [pod(5), pod(0), { ...pod(1), metadata: { ...pod(1).metadata, name: 'webby-1' } }],
      V1,
      V1,
      NOW,
    );
    expect(names(plan.create)).toEqual(['web-6']);
    // web-0 is outside [5, 7): condemned.
    expect(plan.delete).toEqual(['web-0']);
    expect(ordinalOf('web', 'web-12')).toBe(12);
    expect(ordinalOf('web', 'web-x')).toBeUndefined();
    expect(ordinalOf('web', 'webapp-1')).toBeUndefined();
  });

  it('puts back identity labels someone removed', () => {
    const bare = pod(1);
    const { ['statefulset.kubernetes.io/pod-name']: _n, ...labels } = bare.metadata.labels ?? {};
    const plan = planStatefulSet(
      sts(),
      [pod(0), { ...bare, metadata: { ...bare.metadata, labels } }, pod(2)],
      V1,
      V1,
      NOW,
    );
    expect(plan.relabel.map((p) => p.metadata.labels?.['statefulset.kubernetes.io/pod-name'])).toEqual(['web-1']);
  });

  it('does nothing but report status while the set is being deleted', () => {
    const deleting = { ...sts(), metadata: { ...sts().metadata, deletionTimestamp: new Date(NOW).toISOString() } };
    const plan = planStatefulSet(deleting, [pod(0)], V1, V2, NOW);
    expect([plan.create, plan.delete]).toEqual([[], []]);
    expect(plan.status).toMatchObject({ replicas: 1 });
  });

  /**
   * Reconciles on duplicated and stale events, while pods become ready, die and get deleted by others
   * and the template changes. OrderedReady never makes an ordinal before every lower one is ready in
   * the view it acted on, an update never takes down a pod below the partition, and once reconciles
   * see the final state the set converges to exactly its ordinals, all at the update revision.
   */
  it('converges to exactly its ordinals at the update revision under any interleaving, in order', () => {
    fc.assert(
      fc.property(
        fc.record({
          replicas: fc.integer({ min: 0, max: 5 }),
          parallel: fc.boolean(),
          partition: fc.integer({ min: 0, max: 2 }),
          steps: fc.array(
            fc.record({
              lag: fc.nat({ max: 2 }),
              event: fc.constantFrom('reconcile', 'ready', 'die', 'gone', 'kill', 'roll'),
            }),
            { minLength: 1, maxLength: 40 },
          ),
        }),
        ({ replicas, parallel, partition, steps }) => {
          const world = new Map<string, KubeObject>();
          const history: Map<string, KubeObject>[] = [new Map()];
          let update = V1;
          const set = () => sts({ replicas, parallel, partition });
          const reconcile = (view: Map<string, KubeObject>) => {
            const plan = planStatefulSet(set(), [...view.values()], V1, update, NOW);
            for (const p of plan.create) {
              const ordinal = ordinalOf('web', p.metadata.name ?? '') as number;
              if (!parallel)
                for (let i = 0; i < ordinal; i++) {
                  const lower = view.get(`web-${i}`);
                  expect(lower?.status?.phase === 'Running' && !lower.metadata.deletionTimestamp).toBe(true);
                }
              if (!world.has(p.metadata.name ?? ''))
                world.set(p.metadata.name ?? '', { ...p, status: { phase: 'Pending', conditions: [] } });
            }
            for (const n of plan.delete) {
              const p = world.get(n);
              const ordinal = ordinalOf('web', n) as number;
              const forUpdate = ordinal < replicas && p?.status?.phase === 'Running';
              if (forUpdate) expect(ordinal).toBeGreaterThanOrEqual(partition);
              if (p)
                world.set(n, { ...p, metadata: { ...p.metadata, deletionTimestamp: new Date(NOW).toISOString() } });
            }
          };
          const first = (f: (p: KubeObject) => boolean) => [...world.values()].find(f);
          for (const { lag, event } of steps) {
            if (event === 'reconcile')
              reconcile(history[Math.max(0, history.length - 1 - lag)] as Map<string, KubeObject>);
            const alive = (p: KubeObject) => !p.metadata.deletionTimestamp;
            if (event === 'ready') {
              const p = first((x) => alive(x) && x.status?.phase === 'Pending');
              if (p)
                world.set(
                  p.metadata.name ?? '',
                  pod(ordinalOf('web', p.metadata.name ?? '') as number, {
                    revision: revisionOf(p) === V2.name ? V2 : V1,
                  }),
                );
            }
            if (event === 'die') {
              const p = first((x) => alive(x) && x.status?.phase === 'Running');
              if (p) world.set(p.metadata.name ?? '', { ...p, status: { phase: 'Failed', conditions: [] } });
            }
            if (event === 'gone') {
              const p = first((x) => !alive(x));
              if (p) world.delete(p.metadata.name ?? '');
            }
            if (event === 'kill') {
              const p = first(alive);
              if (p)
                world.set(p.metadata.name ?? '', {
                  ...p,
                  metadata: { ...p.metadata, deletionTimestamp: new Date(NOW).toISOString() },
                });
            }
            if (event === 'roll') update = V2;
            history.push(new Map(world));
          }
          // Converge: terminating pods finish, new pods become ready, reconciles see the present.
          for (let i = 0; i < 6 * (replicas + 2); i++) {
            for (const [n, p] of [...world]) {
              if (p.metadata.deletionTimestamp) world.delete(n);
              else if (p.status?.phase === 'Pending')
                world.set(n, pod(ordinalOf('web', n) as number, { revision: revisionOf(p) === V2.name ? V2 : V1 }));
            }
            reconcile(new Map(world));
          }
          for (const [n, p] of [...world]) if (p.metadata.deletionTimestamp) world.delete(n);
          expect([...world.keys()].sort()).toEqual(Array.from({ length: replicas }, (_, i) => `web-${i}`).sort());
          for (const p of world.values()) {
            const ordinal = ordinalOf('web', p.metadata.name ?? '') as number;
            // Below the partition a pod keeps whatever revision it was made at; above, the update's.
            if (ordinal >= partition) expect(revisionOf(p)).toBe(update.name);
          }
        },
      ),
    );
  });
});

describe('ControllerRevision history', () => {
  const owner = sts();
  it('names a revision after its set and the hash of its data, and holds the template to put back', () => {
    const a = newRevision(owner, template('nginx:1'), 1);
    const b = newRevision(owner, template('nginx:2'), 2);
    expect(a.metadata.name).toMatch(/^web-[bcdfghjklmnpqrstvwxz2456789]{1,10}$/);
    expect(a.metadata.name).not.toBe(b.metadata.name);
    expect(newRevision(owner, template('nginx:1'), 7).metadata.name).toBe(a.metadata.name);
    expect(newRevision(owner, template('nginx:1'), 1, 1).metadata.name).not.toBe(a.metadata.name);
    expect(a.data).toEqual({ spec: { template: { $patch: 'replace', ...template('nginx:1') } } });
    expect(Object.keys((a.data as any).spec.template)[0]).toBe('$patch');
    expect(revisionTemplate(a)).toEqual(template('nginx:1'));
    expect(a.metadata.labels).toMatchObject({ app: 'web', 'controller.kubernetes.io/hash': expect.any(String) });
    expect(a.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'StatefulSet', uid: 'sts-uid', controller: true });
  });

  it('finds an equal revision whatever the key order or null creationTimestamp, and truncates only dead ones', () => {
    const revs = [3, 1, 2].map((n) => newRevision(owner, template(`nginx:${n}`), n));
    const sorted = sortRevisions(revs);
    expect(sorted.map(revisionNumber)).toEqual([1, 2, 3]);
    const reordered = {
      spec: { containers: [{ image: 'nginx:2', name: 'c' }] },
      metadata: { creationTimestamp: null, labels: { app: 'web' } },
    };
    expect(equalRevisions(sorted, reordered as any).map(revisionNumber)).toEqual([2]);
    const live = new Set([sorted[2]?.metadata.name ?? '']);
    expect(excessRevisions(sorted, live, 1)).toEqual([sorted[0]?.metadata.name]);
    expect(excessRevisions(sorted, live, 10)).toEqual([]);
    expect(excessRevisions(sorted, live, -1)).toEqual([]);
  });
});
