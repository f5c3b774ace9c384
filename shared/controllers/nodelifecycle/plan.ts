import type { KubeObject } from '../../model/types.js';
import type { Lease } from '../../store/leases.js';
import { TAINT_NODE_UNREACHABLE } from '../../model/well-known.js';
import { nodeReadyStatus } from '../../model/conditions.js';
import { nodeSpec, podStatus } from '../../model/typed.js';

/** The taint a node gets when its agent stops renewing the lease (Kubernetes' own key). */

export interface LifecycleSettings {
  /** A lease older than this marks the node unreachable (kube-controller-manager's node-monitor-grace-period). */
  graceMs: number;
  /** How long pods that say nothing tolerate an unreachable node before eviction (Kubernetes adds 300 s; kumo 30 s). */
  defaultTolerationMs: number;
  /** When more than this share of nodes look dead at once, the control plane's own connectivity is the likelier fault: no evictions. */
  disruptionThreshold: number;
  /** Fewer nodes than this never count as a disruption (one dead node of two is just a dead node). */
  minNodesForDisruption: number;
  /** How often the sweep schedules a check of every node; a lease due to go stale sooner gets its own check. */
  checkPeriodMs: number;
  /** A lease older than this has missed a heartbeat (heartbeat + margin): only such leases get their own check. */
  missedHeartbeatMs: number;
}

export const DEFAULT_LIFECYCLE: LifecycleSettings = {
  graceMs: 40_000,
  defaultTolerationMs: 30_000,
  disruptionThreshold: 0.55,
  minNodesForDisruption: 3,
  checkPeriodMs: 15_000,
  missedHeartbeatMs: 20_000,
};

export interface NodeFacts {
  name: string;
  lease?: Lease;
  ready?: string;
  /** When the unreachable NoExecute taint was added, if it is there. */
  taintedAtMs?: number;
}

export interface NodePlan {
  markUnreachable: string[];
  markReachable: string[];
  /** Nodes to evict pods from now (tainted, and evictions are not paused). */
  evictFrom: string[];
  evictionsPaused: boolean;
}

export function factsOf(node: KubeObject, lease: Lease | undefined): NodeFacts {
  const taints = (nodeSpec(node).taints ?? []).filter(
    (t) => t.key === TAINT_NODE_UNREACHABLE && t.effect === 'NoExecute',
  );
  const ready = nodeReadyStatus(node);
  const added = taints[0] ? Date.parse(taints[0].timeAdded ?? '') : undefined;
  return {
    name: node.metadata.name ?? '',
    lease,
    ready,
    ...(taints[0] ? { taintedAtMs: Number.isNaN(added) ? 0 : added } : {}),
  };
}

/** Which nodes changed state; nodes without a lease (registered by hand, no agent) are left alone. */
export function planNodes(nodes: NodeFacts[], nowMs: number, s: LifecycleSettings): NodePlan {
  const withLease = nodes.filter((n) => n.lease);
  const stale = (n: NodeFacts) => !!n.lease && nowMs - n.lease.renewedAtMs > s.graceMs;
  const dead = withLease.filter(stale);
  const evictionsPaused =
    withLease.length >= s.minNodesForDisruption && dead.length / withLease.length > s.disruptionThreshold;
  return {
    markUnreachable: dead.filter((n) => n.taintedAtMs === undefined || n.ready !== 'Unknown').map((n) => n.name),
    markReachable: withLease
      .filter((n) => !stale(n) && !n.lease?.expired && n.taintedAtMs !== undefined)
      .map((n) => n.name),
    evictFrom: evictionsPaused
      ? []
      : withLease.filter((n) => stale(n) && n.taintedAtMs !== undefined).map((n) => n.name),
    evictionsPaused,
  };
}

/**
 * When the next lease that has missed a heartbeat goes stale, if that is sooner than the next regular
 * check: a node that stopped heartbeating is then noticed at grace exactly, not up to a check period
 * later. Only leases that already missed a heartbeat count, so healthy nodes schedule nothing and a
 * chain of such checks ends as soon as the node is marked (its lease fenced) or heartbeats again.
 */
export function msUntilNextStaleLease(nodes: NodeFacts[], nowMs: number, s: LifecycleSettings): number | undefined {
  let next: number | undefined;
  for (const n of nodes) {
    if (!n.lease || n.lease.expired || nowMs - n.lease.renewedAtMs <= s.missedHeartbeatMs) continue;
    const due = n.lease.renewedAtMs + s.graceMs - nowMs;
    if (due >= 0 && due < s.checkPeriodMs) next = Math.min(next ?? due, due);
  }
  return next;
}

interface Toleration {
  key?: string;
  operator?: string;
  effect?: string;
  tolerationSeconds?: number;
}

/** How long a pod tolerates the unreachable taint: undefined means forever. */
export function toleratedMs(pod: KubeObject, defaultMs: number): number | undefined {
  const matching = ((pod.spec?.tolerations ?? []) as Toleration[]).filter(
    (t) =>
      (t.effect === undefined || t.effect === '' || t.effect === 'NoExecute') &&
      ((t.operator === 'Exists' && (!t.key || t.key === TAINT_NODE_UNREACHABLE)) || t.key === TAINT_NODE_UNREACHABLE),
  );
  if (!matching.length) return defaultMs;
  if (matching.some((t) => t.tolerationSeconds === undefined)) return undefined;
  return Math.min(...matching.map((t) => Math.max(0, t.tolerationSeconds ?? 0) * 1000));
}

export interface EvictionPlan {
  evict: KubeObject[];
  /** When the next pod's toleration runs out, if any is still waiting. */
  nextInMs?: number;
}

/** Pods of a tainted node whose toleration has run out; finished pods stay (their Jobs count them). */
export function planEvictions(
  pods: KubeObject[],
  taintedAtMs: number,
  nowMs: number,
  defaultTolerationMs: number,
): EvictionPlan {
  const evict: KubeObject[] = [];
  let next: number | undefined;
  for (const p of pods) {
    const phase = podStatus(p).phase;
    if (phase === 'Succeeded' || phase === 'Failed') continue;
    const tolerated = toleratedMs(p, defaultTolerationMs);
    if (tolerated === undefined) continue;
    const due = taintedAtMs + tolerated - nowMs;
    if (due <= 0) evict.push(p);
    else next = Math.min(next ?? due, due);
  }
  return { evict, ...(next !== undefined ? { nextInMs: next } : {}) };
}
