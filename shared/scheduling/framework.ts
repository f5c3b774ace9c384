import type { KubeObject } from '../model/types.js';
import type { Resources } from '../model/resources.js';
import type { TopologySelectorTerm } from 'kubernetes-types/core/v1.js';
import { shardOf } from '../util/hash.js';

const shardHash = (s: string) => shardOf(s, 0x7fffffff);

/** Scores within this fraction of the best are treated as equal (see schedule()). */
export const NEAR_TIE = 0.03;

/**
 * The scheduling framework, shaped like kube-scheduler's: Filter plugins say whether a pod may go
 * on a node (a rejection is a Status with a reason, not an exception), Score plugins rank the nodes
 * that remain. `schedule` is pure: the same pod and snapshot always give the same answer.
 */

/** A pod already bound to a node, as far as placement rules need to know it. */
export interface PlacedPod {
  uid: string;
  namespace: string;
  name: string;
  labels: Record<string, string>;
}

export interface NodeInfo {
  node: KubeObject & { metadata: { name: string } };
  allocatable: Resources;
  requested: Resources;
  pods: PlacedPod[];
}

export interface Snapshot {
  nodes: NodeInfo[];
}

/** A filter's verdict; a rejection carries Kubernetes' reason texts (a node may fail on several resources at once). */
export type FilterStatus = { ok: true } | { ok: false; reasons: string[] };
export const OK: FilterStatus = { ok: true };
export const reject = (...reasons: string[]): FilterStatus => ({ ok: false, reasons });

/** What the pod's PersistentVolumeClaims need of a node (read before scheduling; absent: the pod has none). */
export interface PodVolumeFacts {
  /** Volumes bound to the pod's claims: their node affinity is a filter. */
  bound: KubeObject[];
  /** Claims whose class binds on first consumer and that are not bound yet. */
  delayed: {
    claim: KubeObject;
    provisioner?: string;
    selectedNode?: string;
    /** The class's allowedTopologies: where it may provision (none: anywhere). */
    allowedTopologies?: TopologySelectorTerm[];
  }[];
  /** Unbound volumes a delayed claim could take. */
  candidates: KubeObject[];
  /** Local volume bytes already promised on each node: other claims given that node and not yet provisioned. */
  promisedLocal: Record<string, number>;
}

export interface PodToPlace {
  pod: KubeObject & { metadata: { name: string; uid: string } };
  requests: Resources;
  volumes?: PodVolumeFacts;
}

export interface FilterPlugin {
  name: string;
  filter(p: PodToPlace, node: NodeInfo, snapshot: Snapshot): FilterStatus;
}

export interface ScorePlugin {
  name: string;
  weight: number;
  /** 0..100 for one node; `normalize` may rescale over all feasible nodes afterwards. */
  score(p: PodToPlace, node: NodeInfo, snapshot: Snapshot): number;
  normalize?(scores: number[]): number[];
}

export interface Plugins {
  filters: FilterPlugin[];
  scores: ScorePlugin[];
}

export type ScheduleResult =
  { nodeName: string; score: number } | { unschedulable: true; message: string; reasons: Record<string, number> };

/** Rescales raw scores so the best node gets 100 (the DefaultNormalizeScore of kube-scheduler). */
export function normalizeToMax(scores: number[], reverse = false): number[] {
  const max = Math.max(0, ...scores);
  if (max === 0) return scores.map(() => (reverse ? 100 : 0));
  return scores.map((s) => {
    const n = Math.floor((s * 100) / max);
    return reverse ? 100 - n : n;
  });
}

/** "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) didn't match Pod's node affinity/selector." */
export function unschedulableMessage(total: number, reasons: Record<string, number>, preFilter?: string): string {
  // A PreFilter rejection names the pod's problem instead of counting nodes.
  if (preFilter) return `0/${total} nodes are available: ${preFilter}.`;
  const parts = Object.entries(reasons)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([reason, n]) => `${n} ${reason}`);
  return `0/${total} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}

export function schedule(p: PodToPlace, snapshot: Snapshot, plugins: Plugins): ScheduleResult {
  const feasible: NodeInfo[] = [];
  const reasons: Record<string, number> = {};
  for (const node of snapshot.nodes) {
    let rejected: string[] | undefined;
    for (const f of plugins.filters) {
      const s = f.filter(p, node, snapshot);
      if (!s.ok) {
        rejected = s.reasons;
        break;
      }
    }
    if (rejected === undefined) feasible.push(node);
    else for (const r of rejected) reasons[r] = (reasons[r] ?? 0) + 1;
  }
  if (feasible.length === 0)
    return { unschedulable: true, message: unschedulableMessage(snapshot.nodes.length, reasons), reasons };
  const totals = feasible.map(() => 0);
  for (const plugin of plugins.scores) {
    let scores = feasible.map((n) => plugin.score(p, n, snapshot));
    if (plugin.normalize) scores = plugin.normalize(scores);
    scores.forEach((s, i) => (totals[i] = (totals[i] ?? 0) + s * plugin.weight));
  }
  // The best score wins; nodes within NEAR_TIE of it count as tied, and ties break by a hash of pod
  // and node. The choice stays deterministic for a pod yet differs between pods, so concurrent
  // schedulers working from slightly stale snapshots spread over near-equal nodes instead of all
  // racing for the single emptiest one (optimistic binds then rarely conflict).
  const top = Math.max(...totals);
  const tie = (i: number) => shardHash(`${p.pod.metadata.uid}/${feasible[i]?.node.metadata.name ?? ''}`);
  let best = -1;
  for (let i = 0; i < feasible.length; i++) {
    if ((totals[i] ?? 0) < top - Math.abs(top) * NEAR_TIE) continue;
    if (best < 0 || tie(i) > tie(best)) best = i;
  }
  return { nodeName: feasible[Math.max(best, 0)]?.node.metadata.name ?? '', score: totals[Math.max(best, 0)] ?? 0 };
}
