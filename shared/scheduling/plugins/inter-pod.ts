import { fromStructured, matchesLabels, type StructuredSelector } from '../../model/selectors.js';
import type { KubeObject } from '../../model/types.js';
import {
  OK,
  reject,
  normalizeToMax,
  type FilterPlugin,
  type NodeInfo,
  type PlacedPod,
  type ScorePlugin,
  type Snapshot,
} from '../framework.js';
import { LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE } from '../../model/well-known.js';

/**
 * Inter-pod affinity and anti-affinity on a topology key, and topology spread constraints. Both
 * count the pods in a topology domain (the nodes sharing a label value) that a selector matches.
 */

interface PodAffinityTerm {
  labelSelector?: StructuredSelector;
  topologyKey: string;
  namespaces?: string[];
}
interface WeightedTerm {
  weight: number;
  podAffinityTerm: PodAffinityTerm;
}
interface Affinity {
  podAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: WeightedTerm[];
  };
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTerm[];
    preferredDuringSchedulingIgnoredDuringExecution?: WeightedTerm[];
  };
}
interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: StructuredSelector;
}

const affinityOf = (pod: KubeObject) => (pod.spec?.affinity ?? {}) as Affinity;
const domainOf = (n: NodeInfo, key: string) => n.node.metadata.labels?.[key];

function termSelects(term: PodAffinityTerm, owner: KubeObject, p: PlacedPod): boolean {
  const namespaces = term.namespaces?.length ? term.namespaces : [owner.metadata.namespace ?? 'default'];
  return namespaces.includes(p.namespace) && matchesLabels(fromStructured(term.labelSelector), p.labels);
}

/** Pods matching `term` in the topology domain `value` of `term.topologyKey`. */
function countInDomain(
  term: PodAffinityTerm,
  owner: KubeObject,
  snapshot: Snapshot,
  value: string | undefined,
): number {
  if (value === undefined) return 0;
  let n = 0;
  for (const node of snapshot.nodes)
    if (domainOf(node, term.topologyKey) === value) n += node.pods.filter((p) => termSelects(term, owner, p)).length;
  return n;
}

export const interPodAffinity: FilterPlugin = {
  name: 'InterPodAffinity',
  filter({ pod }, node, snapshot) {
    const a = affinityOf(pod);
    for (const term of a.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (countInDomain(term, pod, snapshot, domainOf(node, term.topologyKey)) > 0) continue;
      // The first pod of a group that selects itself may go anywhere its topology key exists.
      const anyMatch = snapshot.nodes.some((n) => n.pods.some((p) => termSelects(term, pod, p)));
      const selectsItself = matchesLabels(fromStructured(term.labelSelector), pod.metadata.labels);
      if (anyMatch || !selectsItself || domainOf(node, term.topologyKey) === undefined)
        return reject("node(s) didn't match pod affinity rules");
    }
    for (const term of a.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []) {
      if (countInDomain(term, pod, snapshot, domainOf(node, term.topologyKey)) > 0)
        return reject("node(s) didn't match pod anti-affinity rules");
    }
    return OK;
  },
};

export const interPodAffinityScore: ScorePlugin = {
  name: 'InterPodAffinity',
  weight: 2,
  score({ pod }, node, snapshot) {
    const a = affinityOf(pod);
    let score = 0;
    for (const w of a.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      score +=
        w.weight * countInDomain(w.podAffinityTerm, pod, snapshot, domainOf(node, w.podAffinityTerm.topologyKey));
    for (const w of a.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [])
      score -=
        w.weight * countInDomain(w.podAffinityTerm, pod, snapshot, domainOf(node, w.podAffinityTerm.topologyKey));
    return score;
  },
  normalize(scores) {
    const min = Math.min(0, ...scores);
    return normalizeToMax(scores.map((s) => s - min));
  },
};

const constraintsOf = (pod: KubeObject) => (pod.spec?.topologySpreadConstraints ?? []) as SpreadConstraint[];

/** Matching pods per domain value of the constraint's key, over the nodes that have the key. */
function domainCounts(c: SpreadConstraint, pod: KubeObject, snapshot: Snapshot): Map<string, number> {
  const counts = new Map<string, number>();
  const sel = fromStructured(c.labelSelector);
  for (const n of snapshot.nodes) {
    const v = domainOf(n, c.topologyKey);
    if (v === undefined) continue;
    const matching = n.pods.filter(
      (p) => p.namespace === (pod.metadata.namespace ?? 'default') && matchesLabels(sel, p.labels),
    ).length;
    counts.set(v, (counts.get(v) ?? 0) + matching);
  }
  return counts;
}

export const topologySpread: FilterPlugin = {
  name: 'PodTopologySpread',
  filter({ pod }, node, snapshot) {
    for (const c of constraintsOf(pod)) {
      if (c.whenUnsatisfiable !== 'DoNotSchedule') continue;
      const value = domainOf(node, c.topologyKey);
      if (value === undefined)
        return reject("node(s) didn't match pod topology spread constraints (missing required label)");
      const counts = domainCounts(c, pod, snapshot);
      const min = Math.min(...counts.values());
      if ((counts.get(value) ?? 0) + 1 - min > c.maxSkew)
        return reject("node(s) didn't match pod topology spread constraints");
    }
    return OK;
  },
};

export const topologySpreadScore: ScorePlugin = {
  name: 'PodTopologySpread',
  weight: 2,
  /** Fewer matching pods in the node's domains is better. */
  score({ pod }, node, snapshot) {
    let total = 0;
    for (const c of constraintsOf(pod)) {
      if (c.whenUnsatisfiable !== 'ScheduleAnyway') continue;
      const v = domainOf(node, c.topologyKey);
      total += v === undefined ? 1000 : (domainCounts(c, pod, snapshot).get(v) ?? 0);
    }
    return total;
  },
  normalize: (scores) => normalizeToMax(scores, true),
};

/** Kubernetes' system-default spreading: hostname with maxSkew 3, zone with maxSkew 5, ScheduleAnyway. */
const DEFAULT_SPREAD_KEYS = [LABEL_HOSTNAME, LABEL_TOPOLOGY_ZONE];

const sameLabels = (a: Record<string, string>, b: Record<string, string>) => {
  const ka = Object.keys(a);
  return ka.length > 0 && ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
};

/**
 * Replicas of one controller spread over nodes and zones even when the pod says nothing about it
 * (kube-scheduler's default constraints): fewer siblings — pods of the namespace with exactly this
 * pod's labels, as a ReplicaSet's template gives them — in the node's domains is better.
 */
export const defaultSpreadScore: ScorePlugin = {
  name: 'DefaultPodTopologySpread',
  weight: 2,
  score({ pod }, node, snapshot) {
    if (constraintsOf(pod).length || !(pod.metadata.ownerReferences ?? []).some((r) => r.controller)) return 0;
    const labels = pod.metadata.labels ?? {};
    const namespace = pod.metadata.namespace ?? 'default';
    let total = 0;
    for (const key of DEFAULT_SPREAD_KEYS) {
      const v = domainOf(node, key);
      if (v === undefined) continue;
      for (const n of snapshot.nodes)
        if (domainOf(n, key) === v)
          total += n.pods.filter((p) => p.namespace === namespace && sameLabels(labels, p.labels)).length;
    }
    return total;
  },
  normalize: (scores) => normalizeToMax(scores, true),
};
