import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  DEFAULT_LIFECYCLE,
  msUntilNextStaleLease,
  planEvictions,
  planNodes,
  toleratedMs,
  type NodeFacts,
} from '../../../shared/controllers/nodelifecycle/plan.js';
import { TAINT_NODE_UNREACHABLE as UNREACHABLE_TAINT } from '../../../shared/model/well-known.js';

const NOW = 1_000_000;
const node = (
  name: string,
  ageMs: number | undefined,
  o: { tainted?: boolean; ready?: string; expired?: boolean } = {},
): NodeFacts => ({
  name,
  ...(ageMs === undefined
    ? {}
    : { lease: { nodeName: name, epoch: 1, renewedAtMs: NOW - ageMs, holder: 'h', expired: o.expired ?? false } }),
  ready: o.ready ?? 'True',
  ...(o.tainted ? { taintedAtMs: NOW - 1000 } : {}),
});

describe('planNodes', () => {
  it.each<
    [
      string,
      NodeFacts[],
      { markUnreachable: string[]; markReachable: string[]; evictFrom: string[]; evictionsPaused: boolean },
    ]
  >([
    [
      'fresh leases change nothing',
      [node('a', 5_000), node('b', 39_000)],
      { markUnreachable: [], markReachable: [], evictFrom: [], evictionsPaused: false },
    ],
    [
      'a lease older than the grace marks its node',
      [node('a', 41_000), node('b', 1_000), node('c', 1_000)],
      { markUnreachable: ['a'], markReachable: [], evictFrom: [], evictionsPaused: false },
    ],
    [
      'a marked node is evicted from, not marked again',
      [node('a', 60_000, { tainted: true, ready: 'Unknown' }), node('b', 1_000)],
      { markUnreachable: [], markReachable: [], evictFrom: ['a'], evictionsPaused: false },
    ],
    [
      'a node back with a fresh lease is untainted',
      [node('a', 1_000, { tainted: true, ready: 'True' })],
      { markUnreachable: [], markReachable: ['a'], evictFrom: [], evictionsPaused: false },
    ],
    [
      'nodes without an agent are left alone',
      [node('manual', undefined)],
      { markUnreachable: [], markReachable: [], evictFrom: [], evictionsPaused: false },
    ],
    [
      'most nodes dead at once pauses evictions',
      [node('a', 60_000, { tainted: true, ready: 'Unknown' }), node('b', 60_000), node('c', 1_000)],
      { markUnreachable: ['b'], markReachable: [], evictFrom: [], evictionsPaused: true },
    ],
    [
      'one dead node of two is not a disruption',
      [node('a', 60_000, { tainted: true, ready: 'Unknown' }), node('b', 1_000)],
      { markUnreachable: [], markReachable: [], evictFrom: ['a'], evictionsPaused: false },
    ],
  ])('%s', (_, nodes, expected) => {
    expect(planNodes(nodes, NOW, DEFAULT_LIFECYCLE)).toEqual(expected);
  });
});

const pod = (name: string, tolerations?: unknown[], phase = 'Running'): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: name },
  spec: { tolerations },
  status: { phase },
});

describe('evictions', () => {
  it.each<[string, unknown[] | undefined, number | undefined]>([
    ['no toleration: the default', undefined, 30_000],
    [
      'tolerationSeconds of the unreachable taint',
      [{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }],
      5_000,
    ],
    ['tolerating forever', [{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute' }], undefined],
    ['a blanket Exists toleration', [{ operator: 'Exists' }], undefined],
    [
      'another key does not count',
      [{ key: 'other', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 1 }],
      30_000,
    ],
  ])('%s', (_, tolerations, expected) => {
    expect(toleratedMs(pod('p', tolerations), 30_000)).toBe(expected);
  });

  it('evicts pods whose toleration ran out, says when the next one is due, and leaves finished pods', () => {
    const taintedAt = NOW - 10_000;
    const plan = planEvictions(
      [
        pod('default'),
        pod('short', [{ key: UNREACHABLE_TAINT, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }]),
        pod('done', undefined, 'Succeeded'),
        pod('forever', [{ operator: 'Exists' }]),
      ],
      taintedAt,
      NOW,
      30_000,
    );
    expect(plan.evict.map((p) => p.metadata.name)).toEqual(['short']);
    expect(plan.nextInMs).toBe(20_000);
  });
});

describe('msUntilNextStaleLease', () => {
  it.each<[string, NodeFacts[], number | undefined]>([
    ['healthy leases schedule nothing before the next regular check', [node('a', 5_000), node('b', 15_000)], undefined],
    [
      'a lease due within the check period but not late for its heartbeat schedules nothing (no endless chains)',
      [node('a', 19_000)],
      undefined,
    ],
    [
      'a lease that goes stale before the next check gets a check of its own, at grace exactly',
      [node('a', 30_000), node('b', 35_000), node('c', 2_000)],
      5_000,
    ],
    [
      'already stale or fenced leases are the regular plan’s, not scheduled again',
      [node('a', 45_000), node('b', 39_000, { expired: true })],
      undefined,
    ],
    ['nodes without a lease are ignored', [node('manual', undefined)], undefined],
  ])('%s', (_, nodes, expected) => {
    expect(msUntilNextStaleLease(nodes, NOW, DEFAULT_LIFECYCLE)).toBe(expected);
  });
});
