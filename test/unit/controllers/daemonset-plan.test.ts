import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  daemonPod,
  nodeShouldRunDaemonPod,
  planDaemonSet,
  targetNodeOf,
} from '../../../shared/controllers/daemonset/plan.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const OLD = 'oldhash';
const NEW = 'newhash';

type DsOpts = {
  nodeSelector?: Record<string, string>;
  maxUnavailable?: number | string;
  maxSurge?: number | string;
  onDelete?: boolean;
  tolerations?: unknown[];
  /** The template generation (2 is the NEW template's, 1 the OLD one's). */
  gen?: string;
};
const ds = (o: DsOpts = {}) =>
  ({
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: {
      name: 'agent',
      namespace: 'kube-system',
      uid: 'ds-uid',
      generation: 2,
      annotations: { 'deprecated.daemonset.template.generation': o.gen ?? '2' },
    },
    spec: {
      selector: { matchLabels: { app: 'agent' } },
      template: {
        metadata: { labels: { app: 'agent' } },
        spec: {
          containers: [{ name: 'c', image: 'x' }],
          ...(o.nodeSelector ? { nodeSelector: o.nodeSelector } : {}),
          ...(o.tolerations ? { tolerations: o.tolerations } : {}),
        },
      },
      updateStrategy: o.onDelete
        ? { type: 'OnDelete' }
        : {
            type: 'RollingUpdate',
            rollingUpdate: { maxUnavailable: o.maxUnavailable ?? 1, maxSurge: o.maxSurge ?? 0 },
          },
    },
  }) as KubeObject & { metadata: { name: string; uid: string } };

const node = (
  name: string,
  o: { labels?: Record<string, string>; taints?: unknown[]; ready?: boolean } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name, labels: { 'kubernetes.io/hostname': name, ...o.labels } },
  spec: { taints: o.taints },
  status: { conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});

type PodOpts = { hash?: string; ready?: boolean; phase?: string; deleting?: boolean; age?: number; bound?: boolean };
function pod(nodeName: string, o: PodOpts = {}): KubeObject {
  const p = daemonPod(ds(), nodeName, o.hash ?? NEW);
  const generationLabel = (o.hash ?? NEW) === NEW ? '2' : '1';
  return {
    ...p,
    metadata: {
      ...p.metadata,
      labels: { ...p.metadata.labels, 'pod-template-generation': generationLabel },
      creationTimestamp: new Date(NOW - (o.age ?? 60_000)).toISOString(),
      ...(o.deleting ? { deletionTimestamp: new Date(NOW).toISOString() } : {}),
    },
    spec: { ...p.spec, ...(o.bound === false ? {} : { nodeName }) },
    status: {
      phase: o.phase ?? 'Running',
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          lastTransitionTime: new Date(NOW - 60_000).toISOString(),
        },
      ],
    },
  };
}
const nodesOf = (pods: KubeObject[]) => pods.map(targetNodeOf).sort();

describe('planDaemonSet', () => {
  it('makes one pod per node, pinned by node affinity, with the daemon tolerations and revision labels', () => {
    const plan = planDaemonSet(ds(), [node('a'), node('b')], [], NEW, NOW);
    expect(nodesOf(plan.create)).toEqual(['a', 'b']);
    const [p] = plan.create;
    expect(p?.metadata).toMatchObject({
      generateName: 'agent-',
      labels: { app: 'agent', 'controller-revision-hash': NEW, 'pod-template-generation': '2' },
      ownerReferences: [{ kind: 'DaemonSet', uid: 'ds-uid', controller: true }],
    });
    expect((p?.spec as any).nodeName).toBeUndefined();
    expect((p?.spec as any).affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution).toEqual({
      nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['a'] }] }],
    });
    expect((p?.spec as any).tolerations.map((t: any) => `${t.key}:${t.effect}`)).toEqual([
      'node.kubernetes.io/not-ready:NoExecute',
      'node.kubernetes.io/unreachable:NoExecute',
      'node.kubernetes.io/disk-pressure:NoSchedule',
      'node.kubernetes.io/memory-pressure:NoSchedule',
      'node.kubernetes.io/pid-pressure:NoSchedule',
      'node.kubernetes.io/unschedulable:NoSchedule',
    ]);
    // Two reconciles of the same state name the same pod.
    expect(planDaemonSet(ds(), [node('a')], [], NEW, NOW).create[0]?.metadata.name).toBe(
      planDaemonSet(ds(), [node('a')], [], NEW, NOW).create[0]?.metadata.name,
    );
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 2, currentNumberScheduled: 0, numberUnavailable: 2 });
  });

  it('follows nodeSelector, taints (NoSchedule keeps a pod, NoExecute removes it), cordons and readiness', () => {
    const noSched = { key: 'dedicated', value: 'x', effect: 'NoSchedule' };
    const noExec = { key: 'dedicated', value: 'x', effect: 'NoExecute' };
    expect(nodeShouldRunDaemonPod(ds({ nodeSelector: { disk: 'ssd' } }), node('a'))).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    expect(
      nodeShouldRunDaemonPod(ds({ nodeSelector: { disk: 'ssd' } }), node('a', { labels: { disk: 'ssd' } })).shouldRun,
    ).toBe(true);
    expect(nodeShouldRunDaemonPod(ds(), node('a', { taints: [noSched] }))).toEqual({
      shouldRun: false,
      shouldContinueRunning: true,
    });
    expect(nodeShouldRunDaemonPod(ds(), node('a', { taints: [noExec] }))).toEqual({
      shouldRun: false,
      shouldContinueRunning: false,
    });
    expect(
      nodeShouldRunDaemonPod(
        ds({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }),
        node('a', { taints: [noExec] }),
      ).shouldRun,
    ).toBe(true);
    // Cordoned: daemon pods tolerate it. Not ready: no new pod, but the one there stays.
    const cordon = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };
    expect(nodeShouldRunDaemonPod(ds(), node('a', { taints: [cordon] })).shouldRun).toBe(true);
    expect(nodeShouldRunDaemonPod(ds(), node('a', { ready: false }))).toEqual({
      shouldRun: false,
      shouldContinueRunning: true,
    });

    const nodes = [node('a', { taints: [noSched] }), node('b', { taints: [noExec] }), node('c')];
    const plan = planDaemonSet(ds(), nodes, [pod('a'), pod('b')], NEW, NOW);
    expect(nodesOf(plan.create)).toEqual(['c']);
    expect(plan.delete).toEqual([pod('b').metadata.name]);
    expect(plan.status).toMatchObject({ desiredNumberScheduled: 1, numberMisscheduled: 2 });
  });

  it('keeps the oldest of two pods on a node, deletes failed pods after a pause, and pods pinned to a gone node', () => {
    const young = {
      ...pod('a', { age: 1_000 }),
      metadata: { ...pod('a').metadata, name: 'agent-young', creationTimestamp: new Date(NOW - 1_000).toISOString() },
    };
    expect(planDaemonSet(ds(), [node('a')], [pod('a'), young], NEW, NOW).delete).toEqual(['agent-young']);
    const failed = {
      ...pod('a'),
      status: {
        phase: 'Failed',
        conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date(NOW - 2_000).toISOString() }],
      },
    };
    const early = planDaemonSet(ds(), [node('a')], [failed], NEW, NOW);
    expect(early.delete).toEqual([]);
    expect(early.requeueAfterMs).toBe(8_000);
    const late = planDaemonSet(ds(), [node('a')], [failed], NEW, NOW + 9_000);
    expect(late.delete).toEqual([failed.metadata.name]);
    expect(late.events[0]).toMatchObject({
      type: 'Warning',
      reason: 'FailedDaemonPod',
      message: `Found failed daemon pod kube-system/${failed.metadata.name} on node a, will try to kill it`,
    });
    const orphan = pod('gone', { bound: false });
    expect(planDaemonSet(ds(), [node('a')], [pod('a'), orphan], NEW, NOW).delete).toEqual([orphan.metadata.name]);
  });

  it('rolls an update within maxUnavailable, counting pods that are already unavailable', () => {
    const nodes = ['a', 'b', 'c', 'd'].map((n) => node(n));
    const old = nodes.map((n) => pod(n.metadata.name ?? '', { hash: OLD }));
    expect(planDaemonSet(ds(), nodes, old, NEW, NOW).delete).toHaveLength(1);
    expect(planDaemonSet(ds({ maxUnavailable: 2 }), nodes, old, NEW, NOW).delete).toHaveLength(2);
    expect(planDaemonSet(ds({ maxUnavailable: '50%' }), nodes, old, NEW, NOW).delete).toHaveLength(2);
    // One node's new pod is not ready yet: nothing else goes.
    const midway = [pod('a', { ready: false }), ...old.slice(1)];
    expect(planDaemonSet(ds(), nodes, midway, NEW, NOW).delete).toEqual([]);
    // An old pod that is not available is replaced whatever the budget.
    const sick = [pod('a', { ready: false }), pod('b', { hash: OLD, ready: false }), ...old.slice(2)];
    expect(planDaemonSet(ds(), nodes, sick, NEW, NOW).delete).toEqual([pod('b', { hash: OLD }).metadata.name]);
    expect(planDaemonSet(ds({ onDelete: true }), nodes, old, NEW, NOW).delete).toEqual([]);
  });

  it('surges a new pod beside the old within maxSurge, and deletes the old once the new is available', () => {
    const nodes = ['a', 'b', 'c'].map((n) => node(n));
    const old = nodes.map((n) => pod(n.metadata.name ?? '', { hash: OLD }));
    const first = planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes, old, NEW, NOW);
    expect(nodesOf(first.create)).toEqual(['a']);
    expect(first.delete).toEqual([]);
    const surged = [...old, pod('a', { ready: false })];
    expect(planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes, surged, NEW, NOW).create).toEqual([]);
    const ready = [...old, pod('a')];
    expect(planDaemonSet(ds({ maxUnavailable: 0, maxSurge: 1 }), nodes, ready, NEW, NOW).delete).toEqual([
      old[0]?.metadata.name,
    ]);
  });

  /**
   * Reconciles on stale and duplicated views while pods become ready, fail and go, and nodes come and
   * go: once reconciles see the final state, every node that should run a pod runs exactly one, at
   * the new revision, and an update never had more than maxUnavailable nodes without an available pod
   * in a view it acted on.
   */
  it('converges to one up-to-date pod per eligible node under any interleaving', () => {
    fc.assert(
      fc.property(
        fc.record({
          nodes: fc.integer({ min: 0, max: 5 }),
          steps: fc.array(
            fc.record({
              lag: fc.nat({ max: 2 }),
              event: fc.constantFrom('reconcile', 'ready', 'fail', 'gone', 'join', 'leave', 'roll'),
            }),
            { minLength: 1, maxLength: 40 },
          ),
        }),
        ({ nodes: n, steps }) => {
          let nodes = Array.from({ length: n }, (_, i) => node(`n${i}`));
          let joined = n;
          let hash = OLD;
          const world = new Map<string, KubeObject>();
          const history: Map<string, KubeObject>[] = [new Map()];
          const reconcile = (view: Map<string, KubeObject>, at = NOW) => {
            const plan = planDaemonSet(ds({ gen: hash === NEW ? '2' : '1' }), nodes, [...view.values()], hash, at);
            const deleting = plan.delete.filter(
              (d) => view.get(d)?.status?.phase === 'Running' && !view.get(d)?.metadata.deletionTimestamp,
            );
            if (plan.create.length === 0 && deleting.length) {
              // A rolling update's deletes: the view had at most maxUnavailable (1) nodes without an available pod afterwards.
              const down = nodes.filter((x) => {
                const here = [...view.values()].filter(
                  (p) =>
                    targetNodeOf(p) === x.metadata.name &&
                    !p.metadata.deletionTimestamp &&
                    !plan.delete.includes(p.metadata.name ?? ''),
                );
                return !here.some(
                  (p) => p.status?.phase === 'Running' && (p.status?.conditions as any[])?.[0]?.status === 'True',
                );
              });
              expect(down.length).toBeLessThanOrEqual(1);
            }
            for (const p of plan.create)
              if (!world.has(p.metadata.name ?? ''))
                world.set(p.metadata.name ?? '', { ...p, status: { phase: 'Pending' } });
            for (const d of plan.delete) world.delete(d);
          };
          const first = (f: (p: KubeObject) => boolean) => [...world.values()].find(f);
          for (const { lag, event } of steps) {
            if (event === 'reconcile')
              reconcile(history[Math.max(0, history.length - 1 - lag)] as Map<string, KubeObject>);
            if (event === 'ready') {
              const p = first((x) => x.status?.phase === 'Pending');
              if (p)
                world.set(p.metadata.name ?? '', {
                  ...p,
                  spec: { ...p.spec, nodeName: targetNodeOf(p) },
                  status: pod('x').status,
                });
            }
            if (event === 'fail') {
              const p = first((x) => x.status?.phase === 'Running');
              if (p) world.set(p.metadata.name ?? '', { ...p, status: { phase: 'Failed', conditions: [] } });
            }
            if (event === 'gone') {
              const p = first(() => true);
              if (p) world.delete(p.metadata.name ?? '');
            }
            if (event === 'join') nodes = [...nodes, node(`n${joined++}`)];
            if (event === 'leave' && nodes.length) {
              const [gone, ...rest] = nodes;
              nodes = rest;
              for (const [k, p] of [...world]) if (targetNodeOf(p) === gone?.metadata.name) world.delete(k);
            }
            if (event === 'roll') hash = NEW;
            history.push(new Map(world));
          }
          for (let i = 0; i < 4 * (nodes.length + 2); i++) {
            for (const [k, p] of [...world])
              if (p.status?.phase === 'Pending')
                world.set(k, { ...p, spec: { ...p.spec, nodeName: targetNodeOf(p) }, status: pod('x').status });
            reconcile(new Map(world), NOW + 60_000);
          }
          const byNode = nodes.map((x) => [...world.values()].filter((p) => targetNodeOf(p) === x.metadata.name));
          for (const pods of byNode) {
            expect(pods).toHaveLength(1);
            expect(pods[0]?.metadata.labels?.['controller-revision-hash']).toBe(hash);
          }
          expect(world.size).toBe(nodes.length);
        },
      ),
    );
  });
});
