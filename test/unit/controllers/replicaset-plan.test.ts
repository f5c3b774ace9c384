import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { BURST, deletionRank, planReplicaSet, slotName } from '../../../shared/controllers/replicaset/plan.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const rs = (replicas: number, minReadySeconds = 0) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'web-abc', namespace: 'default', uid: 'rs-uid', generation: 3 },
    spec: {
      replicas,
      minReadySeconds,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
    },
  }) as KubeObject & { metadata: { name: string; uid: string } };

function pod(
  name: string,
  o: { node?: string; phase?: string; ready?: boolean; readySince?: number; created?: number; deleting?: boolean } = {},
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: 'default',
      labels: { app: 'web' },
      creationTimestamp: new Date(o.created ?? NOW - 60_000).toISOString(),
      ...(o.deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
    },
    spec: { nodeName: o.node },
    status: {
      phase: o.phase ?? 'Running',
      conditions:
        o.ready === undefined
          ? []
          : [
              {
                type: 'Ready',
                status: o.ready ? 'True' : 'False',
                lastTransitionTime: new Date(o.readySince ?? NOW - 60_000).toISOString(),
              },
            ],
    },
  };
}
const slots = (n: number) => Array.from({ length: n }, (_, i) => slotName('web-abc', 'rs-uid', i));

describe('planReplicaSet', () => {
  it('creates the missing pods with deterministic names, owner reference and template', () => {
    const plan = planReplicaSet(rs(3), [], NOW);
    expect(plan.create.map((p) => p.metadata.name)).toEqual(slots(3));
    expect(plan.create[0]?.metadata.ownerReferences).toEqual([
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'web-abc',
        uid: 'rs-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(plan.create[0]?.metadata.labels).toEqual({ app: 'web' });
    expect(plan.create[0]?.spec).toEqual({ containers: [{ name: 'c', image: 'x' }] });
    expect(plan.delete).toEqual([]);
  });

  it('creates or deletes at most one burst per reconcile and asks for the next at once', () => {
    const up = planReplicaSet(rs(BURST + 20), [], NOW);
    expect(up.create).toHaveLength(BURST);
    expect(up.requeueAfterMs).toBe(0);
    const rest = planReplicaSet(rs(BURST + 20), up.create, NOW);
    expect(rest.create).toHaveLength(20);
    expect(rest.requeueAfterMs).toBeUndefined();
    const down = planReplicaSet(
      rs(0),
      slots(BURST + 1).map((n) => pod(n, { node: 'n1', ready: true })),
      NOW,
    );
    expect(down.delete).toHaveLength(BURST);
    expect(down.requeueAfterMs).toBe(0);
    // Being deleted, a ReplicaSet short of pods creates none and must not spin.
    const deleting = {
      ...rs(BURST + 5),
      metadata: { ...rs(0).metadata, deletionTimestamp: new Date(NOW).toISOString() },
    };
    const idle = planReplicaSet(deleting, [], NOW);
    expect([idle.create, idle.delete, idle.requeueAfterMs]).toEqual([[], [], undefined]);
  });

  it('never reuses the name of a pod that still exists, even a terminating one', () => {
    const [s0, s1, s2] = slots(3);
    const plan = planReplicaSet(rs(2), [pod(s0 as string, { deleting: true }), pod(s1 as string)], NOW);
    expect(plan.create.map((p) => p.metadata.name)).toEqual([s2]);
  });

  it('does nothing when the count is right, and reports status', () => {
    const plan = planReplicaSet(
      rs(2),
      [pod('a', { ready: true }), pod('b', { ready: false }), pod('c', { phase: 'Succeeded' })],
      NOW,
    );
    expect(plan.create).toEqual([]);
    expect(plan.delete).toEqual([]);
    expect(plan.status).toEqual({
      replicas: 2,
      fullyLabeledReplicas: 2,
      readyReplicas: 1,
      availableReplicas: 1,
      observedGeneration: 3,
    });
  });

  it('deletes like Kubernetes: unscheduled, then pending, then not ready, then newest', () => {
    const pods = [
      pod('running-ready-old', { node: 'n', ready: true, created: NOW - 9000 }),
      pod('running-ready-new', { node: 'n', ready: true, created: NOW - 1000 }),
      pod('running-not-ready', { node: 'n', ready: false }),
      pod('pending-on-node', { node: 'n', phase: 'Pending' }),
      pod('unscheduled', { phase: 'Pending' }),
    ];
    expect([...pods].sort(deletionRank).map((p) => p.metadata.name)).toEqual([
      'unscheduled',
      'pending-on-node',
      'running-not-ready',
      'running-ready-new',
      'running-ready-old',
    ]);
    expect(planReplicaSet(rs(2), pods, NOW).delete).toEqual(['unscheduled', 'pending-on-node', 'running-not-ready']);
  });

  it('counts a pod available only after minReadySeconds, and asks to look again then', () => {
    const plan = planReplicaSet(rs(1, 30), [pod('a', { ready: true, readySince: NOW - 10_000 })], NOW);
    expect(plan.status).toMatchObject({ readyReplicas: 1, availableReplicas: 0 });
    expect(plan.requeueAfterMs).toBe(20_000);
    expect(planReplicaSet(rs(1, 30), [pod('a', { ready: true, readySince: NOW - 31_000 })], NOW).status).toMatchObject({
      availableReplicas: 1,
    });
  });

  /**
   * Reconciles run on duplicated and reordered events, against views that lag behind (the owner
   * index is eventually consistent). Whatever the interleaving, deterministic names mean the pods
   * that exist afterwards are exactly `replicas`, once every reconcile has seen the final state.
   */
  it('ends with exactly `replicas` pods under any interleaving of stale, duplicated reconciles', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.boolean()), { minLength: 1, maxLength: 25 }),
        (replicas, steps) => {
          const existing = new Map<string, KubeObject>();
          const snapshots: Map<string, KubeObject>[] = [new Map()];
          for (const [lag, deleteOne] of steps) {
            // A reconcile reads a view up to `lag` steps old, then writes with conditional creates.
            const view = snapshots[Math.max(0, snapshots.length - 1 - lag)] as Map<string, KubeObject>;
            const plan = planReplicaSet(rs(replicas), [...view.values()], NOW);
            for (const p of plan.create)
              if (!existing.has(p.metadata.name as string)) existing.set(p.metadata.name as string, p);
            for (const n of plan.delete) existing.delete(n);
            // Some other actor deletes a pod now and then (an eviction, kubectl delete).
            if (deleteOne && existing.size) existing.delete([...existing.keys()][0] as string);
            snapshots.push(new Map(existing));
          }
          // Converge: reconciles on the current state until nothing changes.
          for (let i = 0; i < 3; i++) {
            const plan = planReplicaSet(rs(replicas), [...existing.values()], NOW);
            for (const p of plan.create)
              if (!existing.has(p.metadata.name as string)) existing.set(p.metadata.name as string, p);
            for (const n of plan.delete) existing.delete(n);
          }
          expect(existing.size).toBe(replicas);
        },
      ),
    );
  });
});
