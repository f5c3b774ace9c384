import { scaledValue } from '../../model/int-or-percent.js';
import { conditionsOf, findCondition, isPodReady, type Condition } from '../../model/conditions.js';
import { isPlainObject } from '../../model/json.js';
import { budgetSelects } from '../../model/disruption-budget.js';
import type { KubeObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';

/**
 * A PodDisruptionBudget's status, as Kubernetes' disruption controller computes it
 * (pkg/controller/disruption/disruption.go: getExpectedPodCount, buildDisruptedPodMap,
 * countHealthyPods, updatePdbStatus). Pure: the controller reads the pods and their controllers' scale.
 */

/** An eviction recorded in status.disruptedPods counts as done for this long without the pod going (DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

/** What a selected pod's controller says about how many pods there should be. */
export type ScaleOf = (pod: KubeObject) => { controller: string; replicas: number } | 'unmanaged' | undefined;

export interface DisruptionPlan {
  status: Record<string, unknown>;
  /** Pods with no controller: they count as present, not towards the expected scale. */
  unmanaged: string[];
  /** Why the status could not be computed (the controller's failSafe: nothing may be disrupted). */
  error?: string;
  /** When an entry of disruptedPods expires and the counts change by themselves. */
  recheckAfterMs?: number;
}

/** intstr.GetScaledValueFromIntOrPercent, rounding up as the disruption controller asks. */
export const scaled = (v: unknown, total: number): number => scaledValue(v, total, true) ?? 0;

export function planDisruption(pdb: KubeObject, pods: KubeObject[], scaleOf: ScaleOf, nowMs: number): DisruptionPlan {
  const spec = pdb.spec ?? {};
  const selected = pods.filter((p) => budgetSelects(pdb, p));
  const unmanaged: string[] = [];
  let error: string | undefined;
  const expectedScale = (): number => {
    const byController = new Map<string, number>();
    for (const pod of selected) {
      const s = scaleOf(pod);
      if (s === 'unmanaged') unmanaged.push(pod.metadata.name ?? '');
      else if (!s) error ??= `found no controllers for pod "${pod.metadata.name}"`;
      else byController.set(s.controller, s.replicas);
    }
    return [...byController.values()].reduce((a, b) => a + b, 0);
  };
  let expected = 0;
  let desired = 0;
  if (spec.maxUnavailable !== undefined) {
    expected = expectedScale();
    desired = Math.max(0, expected - scaled(spec.maxUnavailable, expected));
  } else if (spec.minAvailable !== undefined) {
    if (typeof spec.minAvailable === 'number') {
      desired = spec.minAvailable;
      expected = selected.length;
    } else {
      expected = expectedScale();
      desired = scaled(spec.minAvailable, expected);
    }
  }

  // buildDisruptedPodMap: an eviction stays counted until its pod is deleting, or for DeletionTimeout.
  const recorded = isPlainObject(pdb.status?.disruptedPods) ? pdb.status.disruptedPods : {};
  const byName = new Map(selected.map((p) => [p.metadata.name, p]));
  const disrupted: Record<string, string> = {};
  let recheckAfterMs: number | undefined;
  for (const [name, at] of Object.entries(recorded)) {
    const pod = byName.get(name);
    const t = Date.parse(String(at));
    if (!pod || pod.metadata.deletionTimestamp || !Number.isFinite(t)) continue;
    const expires = t + DISRUPTED_POD_TIMEOUT_MS;
    if (expires <= nowMs) continue;
    disrupted[name] = String(at);
    recheckAfterMs = Math.min(recheckAfterMs ?? Infinity, expires - nowMs);
  }
  const healthy = selected.filter(
    (p) => !p.metadata.deletionTimestamp && !((p.metadata.name ?? '') in disrupted) && isPodReady(p),
  ).length;

  const allowed = error || expected <= 0 ? 0 : Math.max(0, healthy - desired);
  const generation = pdb.metadata.generation ?? 1;
  const condition: Condition = error
    ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: error }
    : allowed > 0
      ? { type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', message: '' }
      : { type: 'DisruptionAllowed', status: 'False', reason: 'InsufficientPods', message: '' };
  // apimeta.SetStatusCondition: other conditions stay; the transition time moves only when the status does.
  const otherConditions = conditionsOf(pdb).filter((c) => c.type !== 'DisruptionAllowed');
  const before = findCondition(pdb, 'DisruptionAllowed');
  const lastTransitionTime =
    before && before.status === condition.status && before.lastTransitionTime
      ? before.lastTransitionTime
      : rfc3339(new Date(nowMs));
  if (error)
    // failSafe: nothing may be disrupted, the rest of the last status stands.
    return {
      status: {
        ...pdb.status,
        disruptionsAllowed: 0,
        conditions: [
          ...otherConditions,
          { ...condition, observedGeneration: pdb.status?.observedGeneration ?? 0, lastTransitionTime },
        ],
      },
      unmanaged,
      error,
    };
  const status: Record<string, unknown> = {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: [...otherConditions, { ...condition, observedGeneration: generation, lastTransitionTime }],
  };
  return { status, unmanaged, ...(recheckAfterMs ? { recheckAfterMs } : {}) };
}
