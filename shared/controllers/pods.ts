import { isFinished, phaseOf } from '../model/pod-state.js';
import type { KubeObject } from '../model/types.js';
import { findCondition, isPodReady } from '../model/conditions.js';
import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';

export { isFinished, phaseOf };

/** Pod facts every workload controller reads. */

export const isTerminating = (pod: KubeObject) => !!pod.metadata.deletionTimestamp;
/** Counts toward a ReplicaSet's replicas: not finished and not on its way out. */
export const isActive = (pod: KubeObject) => !isTerminating(pod) && !isFinished(pod);

const readyCondition = (pod: KubeObject) => findCondition(pod, 'Ready');

export const isReady = isPodReady;

/** Ready for at least minReadySeconds at `now` (Kubernetes' "available"). */
export function isAvailable(pod: KubeObject, minReadySeconds: number, now: number): boolean {
  const c = readyCondition(pod);
  if (c?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = c.lastTransitionTime ? Date.parse(c.lastTransitionTime) : NaN;
  return Number.isFinite(since) && since + minReadySeconds * 1000 <= now;
}

/** When a ready-but-not-yet-available pod becomes available, in ms from now (for a delayed requeue). */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: number): number | undefined {
  const c = readyCondition(pod);
  if (c?.status !== 'True' || minReadySeconds <= 0 || !c.lastTransitionTime) return undefined;
  const at = Date.parse(c.lastTransitionTime) + minReadySeconds * 1000;
  return at > now ? at - now : undefined;
}

/** A pod from a workload's template, controlled by that workload (what ReplicaSets and Jobs create). */
export function podFromTemplate(
  owner: KubeObject & { metadata: { name: string; uid: string } },
  name: string,
  template: PodTemplateSpec | undefined,
): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      // Kubernetes' controllers create with generateName `<owner>-` (kumo picks the name itself, so a
      // retried create is recognised); it is kept on the pod as there, and names it in admission errors.
      generateName: `${owner.metadata.name}-`,
      namespace: owner.metadata.namespace,
      labels: { ...template?.metadata?.labels },
      ...(template?.metadata?.annotations ? { annotations: { ...template.metadata.annotations } } : {}),
      ownerReferences: [
        {
          apiVersion: owner.apiVersion,
          kind: owner.kind,
          name: owner.metadata.name,
          uid: owner.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone({ ...template?.spec }),
  };
}

/**
 * isAvailable, noting when a ready pod that is not available yet will be (a workload's reconcile looks
 * again at the earliest of them).
 */
export function availabilityOf(minReadySeconds: number, now: number) {
  const waits: number[] = [];
  const available = (pod: KubeObject) => {
    if (isAvailable(pod, minReadySeconds, now)) return true;
    const ms = msUntilAvailable(pod, minReadySeconds, now);
    if (ms !== undefined) waits.push(ms);
    return false;
  };
  return { available, waits };
}
