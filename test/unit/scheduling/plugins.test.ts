import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  schedule,
  type NodeInfo,
  type PlacedPod,
  type PodToPlace,
  type Snapshot,
} from '../../../shared/scheduling/framework.js';
import { defaultSpreadScore, interPodAffinity, topologySpread } from '../../../shared/scheduling/plugins/inter-pod.js';
import { defaultPlugins } from '../../../shared/scheduling/plugins/index.js';
import { nodeAffinityFilter, nodeAffinityScore } from '../../../shared/scheduling/plugins/node-affinity.js';
import { nodeState } from '../../../shared/scheduling/plugins/node-state.js';
import { leastAllocated, mostAllocated, resourcesFit } from '../../../shared/scheduling/plugins/resources.js';
import { taintToleration, tolerates } from '../../../shared/scheduling/plugins/taint-toleration.js';
import { podRequests } from '../../../shared/model/resources.js';

/** Builders: a Ready 4-core node and a 100m pod unless a test says otherwise. */
function node(
  name: string,
  o: {
    labels?: Record<string, string>;
    taints?: unknown[];
    ready?: string;
    unschedulable?: boolean;
    cpu?: number;
    usedCpu?: number;
    pods?: PlacedPod[];
    maxPods?: number;
  } = {},
): NodeInfo {
  return {
    node: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: o.labels ?? {} },
      spec: { taints: o.taints, unschedulable: o.unschedulable },
      status: { conditions: [{ type: 'Ready', status: o.ready ?? 'True' }] },
    },
    allocatable: { cpuMilli: o.cpu ?? 4000, memoryBytes: 8 * 2 ** 30, pods: o.maxPods ?? 110 },
    requested: { cpuMilli: o.usedCpu ?? 0, memoryBytes: 0, pods: o.pods?.length ?? 0 },
    pods: o.pods ?? [],
  };
}
function pod(spec: Record<string, unknown> = {}, labels: Record<string, string> = { app: 'web' }): PodToPlace {
  const p = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default', uid: 'uid-p', labels },
    spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '100m', memory: '1Gi' } } }], ...spec },
  } as KubeObject & { metadata: { name: string; uid: string } };
  return { pod: p, requests: podRequests(p) };
}
const placed = (name: string, labels: Record<string, string>, namespace = 'default'): PlacedPod => ({
  uid: name,
  name,
  namespace,
  labels,
});
const snap = (...nodes: NodeInfo[]): Snapshot => ({ nodes });
const verdict = (s: { ok: boolean } & ({ ok: true } | { ok: false; reasons: string[] })) =>
  s.ok ? 'ok' : s.reasons.join(' | ');

describe('filters', () => {
  it.each<[string, NodeInfo, PodToPlace, string]>([
    ['ready node', node('n'), pod(), 'ok'],
    ['not ready', node('n', { ready: 'Unknown' }), pod(), 'node(s) were not ready'],
    ['cordoned', node('n', { unschedulable: true }), pod(), 'node(s) were unschedulable'],
    [
      'cordoned, tolerated',
      node('n', { unschedulable: true }),
      pod({ tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] }),
      'ok',
    ],
  ])('NodeState: %s', (_n, n, p, expected) => expect(verdict(nodeState.filter(p, n, snap(n)))).toBe(expected));

  it.each<[string, NodeInfo, PodToPlace, string]>([
    ['fits', node('n', { usedCpu: 3900 }), pod(), 'ok'],
    ['cpu exactly full', node('n', { usedCpu: 3901 }), pod(), 'Insufficient cpu'],
    [
      'memory too large',
      node('n'),
      pod({ containers: [{ name: 'c', image: 'x', resources: { requests: { memory: '9Gi' } } }] }),
      'Insufficient memory',
    ],
    [
      'both',
      node('n', { usedCpu: 4000 }),
      pod({ containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '1', memory: '9Gi' } } }] }),
      'Insufficient cpu | Insufficient memory',
    ],
    ['pod count', node('n', { maxPods: 1, pods: [placed('a', {})] }), pod(), 'Too many pods'],
    [
      'best effort on a full node',
      node('n', { usedCpu: 4000 }),
      pod({ containers: [{ name: 'c', image: 'x' }] }),
      'ok',
    ],
  ])('NodeResourcesFit: %s', (_n, n, p, expected) =>
    expect(verdict(resourcesFit.filter(p, n, snap(n)))).toBe(expected),
  );

  const zoneA = node('a', { labels: { zone: 'a', disk: 'ssd', gen: '5' } });
  it.each<[string, PodToPlace, string]>([
    ['nodeSelector matches', pod({ nodeSelector: { disk: 'ssd' } }), 'ok'],
    [
      'nodeSelector differs',
      pod({ nodeSelector: { disk: 'hdd' } }),
      "node(s) didn't match Pod's node affinity/selector",
    ],
    [
      'required In',
      pod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }],
            },
          },
        },
      }),
      'ok',
    ],
    [
      'required NotIn',
      pod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['a'] }] }],
            },
          },
        },
      }),
      "node(s) didn't match Pod's node affinity/selector",
    ],
    [
      'terms are ORed',
      pod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [
                { matchExpressions: [{ key: 'zone', operator: 'In', values: ['x'] }] },
                { matchExpressions: [{ key: 'gen', operator: 'Gt', values: ['4'] }] },
              ],
            },
          },
        },
      }),
      'ok',
    ],
    [
      'DoesNotExist',
      pod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: 'gpu', operator: 'DoesNotExist' }] }],
            },
          },
        },
      }),
      'ok',
    ],
    [
      'matchFields on the name',
      pod({
        affinity: {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['b'] }] }],
            },
          },
        },
      }),
      "node(s) didn't match Pod's node affinity/selector",
    ],
  ])('NodeAffinity: %s', (_n, p, expected) =>
    expect(verdict(nodeAffinityFilter.filter(p, zoneA, snap(zoneA)))).toBe(expected),
  );

  const tainted = node('t', {
    taints: [
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'soft', effect: 'PreferNoSchedule' },
    ],
  });
  it.each<[string, PodToPlace, string]>([
    ['untolerated', pod(), 'node(s) had untolerated taint {dedicated: gpu}'],
    [
      'Equal with value',
      pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
      'ok',
    ],
    [
      'wrong value',
      pod({ tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'cpu' }] }),
      'node(s) had untolerated taint {dedicated: gpu}',
    ],
    ['Exists on the key', pod({ tolerations: [{ key: 'dedicated', operator: 'Exists' }] }), 'ok'],
    ['wildcard Exists', pod({ tolerations: [{ operator: 'Exists' }] }), 'ok'],
    [
      'other effect',
      pod({ tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoExecute' }] }),
      'node(s) had untolerated taint {dedicated: gpu}',
    ],
  ])('TaintToleration: %s', (_n, p, expected) =>
    expect(verdict(taintToleration.filter(p, tainted, snap(tainted)))).toBe(expected),
  );

  it('an empty key without Exists tolerates nothing', () => {
    expect(tolerates({ operator: 'Equal', value: '' }, { key: 'k', effect: 'NoSchedule' })).toBe(false);
  });

  describe('inter-pod affinity', () => {
    const web = placed('web-1', { app: 'web' });
    const a1 = node('a1', { labels: { zone: 'a' }, pods: [web] });
    const a2 = node('a2', { labels: { zone: 'a' } });
    const b1 = node('b1', { labels: { zone: 'b' } });
    const s = snap(a1, a2, b1);
    const term = { labelSelector: { matchLabels: { app: 'web' } }, topologyKey: 'zone' };
    it.each<[string, PodToPlace, NodeInfo, string]>([
      [
        'affinity: same zone as a web pod',
        pod(
          { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } },
          { app: 'cache' },
        ),
        a2,
        'ok',
      ],
      [
        'affinity: other zone',
        pod(
          { affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } },
          { app: 'cache' },
        ),
        b1,
        "node(s) didn't match pod affinity rules",
      ],
      [
        'anti-affinity: zone with a web pod',
        pod({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } }),
        a2,
        "node(s) didn't match pod anti-affinity rules",
      ],
      [
        'anti-affinity: empty zone',
        pod({ affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } }),
        b1,
        'ok',
      ],
    ])('%s', (_n, p, n, expected) => expect(verdict(interPodAffinity.filter(p, n, s))).toBe(expected));

    it('lets the first pod of a self-selecting group go anywhere', () => {
      const empty = snap(node('x', { labels: { zone: 'a' } }));
      const first = pod({ affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [term] } } });
      expect(verdict(interPodAffinity.filter(first, empty.nodes[0] as NodeInfo, empty))).toBe('ok');
    });
  });

  describe('topology spread', () => {
    const c = {
      maxSkew: 1,
      topologyKey: 'zone',
      whenUnsatisfiable: 'DoNotSchedule',
      labelSelector: { matchLabels: { app: 'web' } },
    };
    const a = node('a', { labels: { zone: 'a' }, pods: [placed('w1', { app: 'web' }), placed('w2', { app: 'web' })] });
    const b = node('b', { labels: { zone: 'b' }, pods: [placed('w3', { app: 'web' })] });
    const bare = node('c');
    const s = snap(a, b, bare);
    it.each<[string, NodeInfo, string]>([
      ['zone a would reach skew 2', a, "node(s) didn't match pod topology spread constraints"],
      ['zone b keeps skew 1', b, 'ok'],
      ['a node without the key', bare, "node(s) didn't match pod topology spread constraints (missing required label)"],
    ])('%s', (_n, n, expected) =>
      expect(verdict(topologySpread.filter(pod({ topologySpreadConstraints: [c] }), n, s))).toBe(expected),
    );
  });
});

describe('scoring and the whole schedule()', () => {
  it('spreads by default and bin-packs with MostAllocated', () => {
    const s = snap(node('empty'), node('busy', { usedCpu: 3000 }));
    const p = pod();
    expect(leastAllocated.score(p, s.nodes[0] as NodeInfo, s)).toBeGreaterThan(
      leastAllocated.score(p, s.nodes[1] as NodeInfo, s),
    );
    expect(mostAllocated.score(p, s.nodes[1] as NodeInfo, s)).toBeGreaterThan(
      mostAllocated.score(p, s.nodes[0] as NodeInfo, s),
    );
    expect(schedule(p, s, defaultPlugins())).toMatchObject({ nodeName: 'empty' });
    expect(schedule(p, s, defaultPlugins('MostAllocated'))).toMatchObject({ nodeName: 'busy' });
  });

  it('prefers nodes that match preferred node affinity', () => {
    const s = snap(node('plain'), node('fast', { labels: { disk: 'ssd' } }));
    const p = pod({
      affinity: {
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            { weight: 50, preference: { matchExpressions: [{ key: 'disk', operator: 'In', values: ['ssd'] }] } },
          ],
        },
      },
    });
    expect(nodeAffinityScore.score(p, s.nodes[1] as NodeInfo, s)).toBe(50);
    expect(schedule(p, s, defaultPlugins())).toMatchObject({ nodeName: 'fast' });
  });

  it('avoids PreferNoSchedule taints when it can', () => {
    const s = snap(node('soft', { taints: [{ key: 'k', effect: 'PreferNoSchedule' }] }), node('clean'));
    expect(schedule(pod(), s, defaultPlugins())).toMatchObject({ nodeName: 'clean' });
  });

  it('explains why no node fits, counted per reason like Kubernetes', () => {
    const s = snap(
      node('a', { usedCpu: 4000 }),
      node('b', { usedCpu: 4000 }),
      node('c', { taints: [{ key: 'role', value: 'db', effect: 'NoSchedule' }] }),
      node('d', { ready: 'False' }),
    );
    const r = schedule(pod(), s, defaultPlugins());
    expect(r).toEqual({
      unschedulable: true,
      reasons: { 'Insufficient cpu': 2, 'node(s) had untolerated taint {role: db}': 1, 'node(s) were not ready': 1 },
      message:
        '0/4 nodes are available: 2 Insufficient cpu, 1 node(s) had untolerated taint {role: db}, 1 node(s) were not ready.',
    });
  });

  it('is deterministic for a pod, yet spreads different pods over equal nodes', () => {
    const s = snap(...Array.from({ length: 10 }, (_, i) => node(`n${i}`)));
    const choices = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const p = pod();
      p.pod.metadata.uid = `uid-${i}`;
      const first = schedule(p, s, defaultPlugins());
      expect(schedule(p, s, defaultPlugins())).toEqual(first);
      if ('nodeName' in first) choices.add(first.nodeName);
    }
    expect(choices.size).toBeGreaterThan(5);
  });

  it('counts init containers as Kubernetes does', () => {
    const r = podRequests({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {},
      spec: {
        initContainers: [{ name: 'i', image: 'x', resources: { requests: { cpu: '2', memory: '1Gi' } } }],
        containers: [
          { name: 'a', image: 'x', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
          { name: 'b', image: 'x', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
        ],
      },
    });
    expect(r).toEqual({ cpuMilli: 2000, memoryBytes: 2 * 2 ** 30, pods: 1 });
  });
});

describe('default spreading of a controller’s replicas', () => {
  const owned = (labels: Record<string, string>, spec: Record<string, unknown> = {}) => {
    const p = pod(spec, labels);
    p.pod.metadata.ownerReferences = [
      { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'rs1', controller: true },
    ];
    return p;
  };
  const host = (name: string, pods: PlacedPod[] = []) =>
    node(name, { labels: { 'kubernetes.io/hostname': name }, pods });

  it('places a replica away from its siblings when nodes are otherwise equal', () => {
    const s = snap(
      host('a', [placed('w1', { app: 'web', h: '1' }), placed('w2', { app: 'web', h: '1' })]),
      host('b', [placed('other', { app: 'db' })]),
    );
    const r = schedule(owned({ app: 'web', h: '1' }), s, defaultPlugins());
    expect('nodeName' in r && r.nodeName).toBe('b');
  });

  it('stays out of the way of explicit constraints and of bare pods', () => {
    const s = snap(host('a', [placed('w1', { app: 'web' })]), host('b'));
    const score = (p: PodToPlace, n: NodeInfo) => defaultSpreadScore.score(p, n, s);
    expect(score(owned({ app: 'web' }), s.nodes[0] as NodeInfo)).toBe(1);
    expect(score(pod({}, { app: 'web' }), s.nodes[0] as NodeInfo)).toBe(0);
    expect(
      score(
        owned(
          { app: 'web' },
          {
            topologySpreadConstraints: [
              { maxSkew: 1, topologyKey: 'x', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: {} },
            ],
          },
        ),
        s.nodes[0] as NodeInfo,
      ),
    ).toBe(0);
  });
});
