import { hashedSuffix } from '../../util/names.js';
import type { KubeObject } from '../../model/types.js';
import { isActive, isAvailable, isReady, msUntilAvailable, phaseOf, podFromTemplate } from '../pods.js';
import { replicaSetSpec } from '../../model/typed.js';

/**
 * The ReplicaSet controller's decision, pure: given the ReplicaSet, the pods it owns and the time,
 * which pods to create and delete and what its status should say. Pod names are deterministic
 * (`<rs>-<slot hash>`, taking the lowest slots no pod holds), so two reconciles working from the
 * same state pick the same names and the second create collides instead of making a twin.
 */

export interface ReplicaSetPlan {
  create: KubeObject[];
  delete: string[];
  status: Record<string, unknown>;
  /** Reconcile again after this many ms (a pod becomes available after minReadySeconds). */
  requeueAfterMs?: number;
}

/** Pods created or deleted by one reconcile at most (kube-controller-manager's burstReplicas); the rest the next. */
export const BURST = 500;

/** The name of slot `i` of a ReplicaSet: stable for its uid, different across ReplicaSets of one name. */
export function slotName(rsName: string, rsUid: string, slot: number): string {
  return `${rsName}-${hashedSuffix(`${rsUid}/${slot}`, 5, { rehash: false })}`;
}

/**
 * Deletion order, as Kubernetes ranks pods to scale down: unscheduled before scheduled, pending
 * before unknown before running, not ready before ready, then the most recently created first.
 */
export function deletionRank(a: KubeObject, b: KubeObject): number {
  const scheduled = (p: KubeObject) => (p.spec?.nodeName ? 1 : 0);
  const phase = (p: KubeObject) => ({ Pending: 0, Unknown: 1, Running: 2 })[phaseOf(p)] ?? 0;
  const ready = (p: KubeObject) => (isReady(p) ? 1 : 0);
  return (
    scheduled(a) - scheduled(b) ||
    phase(a) - phase(b) ||
    ready(a) - ready(b) ||
    Date.parse(b.metadata.creationTimestamp ?? '') - Date.parse(a.metadata.creationTimestamp ?? '') ||
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')
  );
}

export function planReplicaSet(
  rs: KubeObject & { metadata: { name: string; uid: string } },
  owned: KubeObject[],
  now: number,
  /** Names no new pod may take besides the owned ones' (pods just let go keep theirs). */
  otherNames: readonly string[] = [],
): ReplicaSetPlan {
  const spec = replicaSetSpec(rs);
  const want = spec.replicas ?? 1;
  const minReady = spec.minReadySeconds ?? 0;
  const active = owned.filter(isActive);
  const plan: ReplicaSetPlan = { create: [], delete: [], status: {} };

  if (active.length < want && !rs.metadata.deletionTimestamp) {
    const taken = new Set([...owned.map((p) => p.metadata.name), ...otherNames]);
    for (let slot = 0; plan.create.length < Math.min(want - active.length, BURST); slot++) {
      const name = slotName(rs.metadata.name, rs.metadata.uid, slot);
      if (taken.has(name)) continue;
      plan.create.push(podFromTemplate(rs, name, spec.template));
    }
  } else if (active.length > want) {
    plan.delete = [...active]
      .sort(deletionRank)
      .slice(0, Math.min(active.length - want, BURST))
      .map((p) => p.metadata.name ?? '');
  }
  // More to do than one burst: the next reconcile follows at once.
  const capped = plan.create.length + plan.delete.length === BURST && Math.abs(active.length - want) > BURST;

  const deleting = new Set(plan.delete);
  const remaining = active.filter((p) => !deleting.has(p.metadata.name ?? ''));
  const waits = remaining.map((p) => msUntilAvailable(p, minReady, now)).filter((ms): ms is number => ms !== undefined);
  if (capped) plan.requeueAfterMs = 0;
  else if (waits.length) plan.requeueAfterMs = Math.min(...waits);
  const templateLabels = spec.template?.metadata?.labels ?? {};
  // Pods being deleted by this very plan no longer count: a Deployment reading this status must not
  // believe they still serve.
  plan.status = {
    replicas: remaining.length,
    fullyLabeledReplicas: remaining.filter((p) =>
      Object.entries(templateLabels).every(([k, v]) => p.metadata.labels?.[k] === v),
    ).length,
    readyReplicas: remaining.filter(isReady).length,
    availableReplicas: remaining.filter((p) => isAvailable(p, minReady, now)).length,
    observedGeneration: rs.metadata.generation ?? 1,
  };
  return plan;
}
