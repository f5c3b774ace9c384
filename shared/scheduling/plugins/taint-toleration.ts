import type { KubeObject } from '../../model/types.js';
import { OK, reject, type FilterPlugin, type ScorePlugin, normalizeToMax } from '../framework.js';

export interface Taint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}
export interface Toleration {
  key?: string;
  /** Exists or Equal (validation refuses others; an unknown one tolerates nothing). */
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export const taintsOf = (node: KubeObject) => (node.spec?.taints ?? []) as Taint[];
export const tolerationsOf = (pod: KubeObject) => (pod.spec?.tolerations ?? []) as Toleration[];

/** Kubernetes' ToleratesTaint: an empty key with Exists tolerates everything; an empty effect matches all effects. */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  const op = t.operator || 'Equal';
  if (op === 'Exists') return true;
  return op === 'Equal' && (t.value ?? '') === (taint.value ?? '');
}

export const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter({ pod }, { node }) {
    const tolerations = tolerationsOf(pod);
    const untolerated = taintsOf(node).find(
      (taint) => taint.effect !== 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint)),
    );
    return untolerated ? reject(`node(s) had untolerated taint {${untolerated.key}: ${untolerated.value ?? ''}}`) : OK;
  },
};

/** Fewer untolerated PreferNoSchedule taints is better. */
export const taintTolerationScore: ScorePlugin = {
  name: 'TaintToleration',
  weight: 3,
  score({ pod }, { node }) {
    const tolerations = tolerationsOf(pod);
    return taintsOf(node).filter(
      (taint) => taint.effect === 'PreferNoSchedule' && !tolerations.some((t) => tolerates(t, taint)),
    ).length;
  },
  normalize: (scores) => normalizeToMax(scores, true),
};
