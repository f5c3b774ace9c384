import type { PersistentVolumeClaim, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from '../../model/types.js';
import { scaledValue } from '../../model/int-or-percent.js';
import { podSpec, statefulSetSpec, statefulSetStatus } from '../../model/typed.js';
import { LABEL_CONTROLLER_REVISION_HASH, LABEL_POD_INDEX, LABEL_STATEFULSET_POD_NAME } from '../../model/well-known.js';
import {
  availabilityOf,
  isAvailable,
  isReady,
  isTerminating,
  msUntilAvailable,
  phaseOf,
  podFromTemplate,
} from '../pods.js';
import { BURST } from '../replicaset/plan.js';

/**
 * The StatefulSet controller's decision, pure (Kubernetes' stateful_set_control.go updateStatefulSet):
 * pods `<set>-<ordinal>` with a stable identity, created in ordinal order and each only once the one
 * before is Running and Ready (OrderedReady) or all at once (Parallel); pods beyond the replica count
 * removed from the highest ordinal down; a RollingUpdate replacing pods from the highest ordinal down
 * to the partition, one at a time after each is healthy again (or up to maxUnavailable); OnDelete
 * replacing only pods someone deleted. Ordinals and revisions are what make it stable; no pod name is
 * random.
 */

/** A ControllerRevision as the plan reads it: its name (the pods' controller-revision-hash) and template. */
export interface Revision {
  name: string;
  template: PodTemplateSpec;
}

export interface StatefulSetPlan {
  /** Pods to create, lowest ordinal first. */
  create: KubeObject[];
  delete: string[];
  /** Pods whose identity labels are wrong (relabelled by hand), as they should be. */
  relabel: KubeObject[];
  status: Record<string, unknown>;
  /** Reconcile again after this many ms (a pod becomes available after minReadySeconds). */
  requeueAfterMs?: number;
}

type NamedSet = KubeObject & { metadata: { name: string; uid: string } };

/** getParentNameAndOrdinal: `<parent>-<ordinal>`, the ordinal a non-negative int32. */
export function ordinalOf(setName: string, podName: string): number | undefined {
  const m = /^(.*)-([0-9]+)$/.exec(podName);
  if (!m || m[1] !== setName) return undefined;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) && n <= 2147483647 ? n : undefined;
}

export const revisionOf = (pod: KubeObject) => pod.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH];

/** newStatefulSetPod: the template's pod named for its ordinal, its identity in labels and DNS name. */
export function statefulPod(set: NamedSet, revision: Revision, ordinal: number): KubeObject {
  const name = `${set.metadata.name}-${ordinal}`;
  const pod = podFromTemplate(set, name, revision.template);
  pod.metadata.labels = {
    ...pod.metadata.labels,
    [LABEL_STATEFULSET_POD_NAME]: name,
    [LABEL_POD_INDEX]: String(ordinal),
    [LABEL_CONTROLLER_REVISION_HASH]: revision.name,
  };
  const serviceName = statefulSetSpec(set).serviceName;
  pod.spec = { ...pod.spec, hostname: name, ...(serviceName ? { subdomain: serviceName } : {}) };
  // updateStorage: each claim template is a volume of that name, the ordinal's own claim (replacing a
  // template volume of the same name).
  const templates = claimTemplatesOf(set);
  if (templates.length) {
    const claimed = new Set(templates.map((t) => t.metadata?.name));
    const volumes = (podSpec(pod).volumes ?? []).filter((v) => !claimed.has(v.name));
    pod.spec.volumes = [
      ...volumes,
      ...templates.map((t) => ({
        name: t.metadata?.name ?? '',
        persistentVolumeClaim: { claimName: claimNameFor(set, t, ordinal) },
      })),
    ];
  }
  return pod;
}

/** The claim templates of a set (volumeClaimTemplates). */
export const claimTemplatesOf = (set: KubeObject): PersistentVolumeClaim[] =>
  (statefulSetSpec(set).volumeClaimTemplates ?? []) as PersistentVolumeClaim[];

/** getPersistentVolumeClaimName: `<template>-<set>-<ordinal>`. */
export const claimNameFor = (set: KubeObject, template: PersistentVolumeClaim, ordinal: number) =>
  `${template.metadata?.name ?? ''}-${set.metadata.name ?? ''}-${ordinal}`;

/** identityMatches: the labels that name the pod and its ordinal are as the controller set them. */
function identityMatches(pod: KubeObject, ordinal: number): boolean {
  const labels = pod.metadata.labels ?? {};
  return labels[LABEL_STATEFULSET_POD_NAME] === pod.metadata.name && labels[LABEL_POD_INDEX] === String(ordinal);
}

const runningAndReady = (p: KubeObject) => phaseOf(p) === 'Running' && isReady(p);
const healthy = (p: KubeObject | undefined) => !!p && runningAndReady(p) && !isTerminating(p);

/** A RollingUpdate's maxUnavailable against the replica count: percentages round down, and at least 1. */
export function maxUnavailableOf(value: number | string | undefined, replicas: number): number {
  return Math.max(1, scaledValue(value, replicas, false) ?? 1);
}

export function planStatefulSet(
  set: NamedSet,
  owned: readonly KubeObject[],
  current: Revision,
  update: Revision,
  now: number,
  collisionCount = 0,
): StatefulSetPlan {
  const spec = statefulSetSpec(set);
  const replicas = spec.replicas ?? 1;
  const start = spec.ordinals?.start ?? 0;
  const minReady = spec.minReadySeconds ?? 0;
  const monotonic = spec.podManagementPolicy !== 'Parallel';
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const ru = spec.updateStrategy?.rollingUpdate;
  const partition = ru?.partition ?? 0;

  // Pods with an ordinal in [start, start+replicas) hold their slot; others with an ordinal are condemned;
  // a pod whose name has no ordinal of this set is not this controller's to touch.
  // By index (ordinal - start); sparse, since replicas may be far more than the pods there are.
  const slots = new Map<number, KubeObject>();
  const condemned: { pod: KubeObject; ordinal: number }[] = [];
  for (const pod of owned) {
    const ordinal = ordinalOf(set.metadata.name, pod.metadata.name ?? '');
    if (ordinal === undefined) continue;
    if (ordinal >= start && ordinal < start + replicas) slots.set(ordinal - start, pod);
    else condemned.push({ pod, ordinal });
  }
  condemned.sort((a, b) => a.ordinal - b.ordinal);

  const plan: StatefulSetPlan = { create: [], delete: [], relabel: [], status: {} };
  const { available, waits } = availabilityOf(minReady, now);
  const full = () => plan.create.length + plan.delete.length >= BURST;
  // newVersionedStatefulSetPod: below the partition (or, without a rollingUpdate, below the current
  // replica count) a pod is made at the current revision, else at the update revision.
  const revisionFor = (ordinal: number) =>
    rolling &&
    ((ru === undefined && ordinal < start + (statefulSetStatus(set).currentReplicas ?? 0)) ||
      (ru !== undefined && ordinal < start + partition))
      ? current
      : update;

  let blocked = !!set.metadata.deletionTimestamp;
  // 1. Every ordinal in range: replace failed pods, create missing ones, and (OrderedReady) wait on each.
  for (let i = 0; i < replicas && !blocked; i++) {
    if (full()) {
      blocked = true;
      break;
    }
    const ordinal = start + i;
    const pod = slots.get(i);
    if (pod && (phaseOf(pod) === 'Failed' || phaseOf(pod) === 'Succeeded')) {
      // Its replacement takes the same name, so it is made once the finished pod is gone (its deletion brings the next reconcile).
      if (!isTerminating(pod)) plan.delete.push(pod.metadata.name ?? '');
      if (monotonic) blocked = true;
      continue;
    }
    if (!pod) {
      plan.create.push(statefulPod(set, revisionFor(ordinal), ordinal));
      if (monotonic) blocked = true;
      continue;
    }
    if (monotonic && (isTerminating(pod) || !runningAndReady(pod) || !available(pod))) {
      blocked = true;
      continue;
    }
    if (!identityMatches(pod, ordinal))
      plan.relabel.push({
        ...pod,
        metadata: {
          ...pod.metadata,
          labels: {
            ...pod.metadata.labels,
            [LABEL_STATEFULSET_POD_NAME]: pod.metadata.name ?? '',
            [LABEL_POD_INDEX]: String(ordinal),
          },
        },
      });
  }

  // 2. Pods beyond the replica count, highest ordinal first; OrderedReady one at a time, each only
  // while every other pod is healthy (the first unhealthy one may go, or scale-down would deadlock).
  const firstUnhealthy = condemned.find((c) => !healthy(c.pod))?.pod;
  for (const { pod } of [...condemned].reverse()) {
    if (blocked) break;
    if (full()) {
      blocked = true;
      break;
    }
    if (isTerminating(pod)) {
      if (monotonic) blocked = true;
      continue;
    }
    if (monotonic && pod !== firstUnhealthy && (!runningAndReady(pod) || !available(pod))) {
      blocked = true;
      break;
    }
    plan.delete.push(pod.metadata.name ?? '');
    if (monotonic) blocked = true;
  }

  // 3. RollingUpdate: from the highest ordinal down to the partition, replace pods of another revision.
  if (!blocked && rolling) {
    const outdated = (p: KubeObject | undefined) => !!p && revisionOf(p) !== update.name && !isTerminating(p);
    if (ru?.maxUnavailable === undefined) {
      // One at a time, and never past a pod that is not healthy yet.
      for (let t = replicas - 1; t >= partition; t--) {
        const pod = slots.get(t);
        if (outdated(pod)) {
          plan.delete.push(pod?.metadata.name ?? '');
          break;
        }
        if (!healthy(pod)) break;
      }
    } else {
      // maxUnavailable, as Kubernetes runs it with MaxUnavailableStatefulSet on (1.32 drops the field
      // with the gate off; kumo honours it rather than accept it and do nothing): every unhealthy pod
      // counts against it, and as many outdated ones go as it leaves room for, the highest first.
      const healthyPods = [...slots.values()].filter((p) => healthy(p)).length;
      let room = maxUnavailableOf(ru.maxUnavailable, replicas) - (replicas - healthyPods);
      for (let t = replicas - 1; t >= partition && room > 0; t--) {
        const pod = slots.get(t);
        if (!outdated(pod)) continue;
        plan.delete.push(pod?.metadata.name ?? '');
        room--;
      }
    }
  }

  // A ready pod becomes available after minReadySeconds, whatever the policy: look again then.
  for (const p of [...slots.values(), ...condemned.map((c) => c.pod)])
    if (runningAndReady(p)) {
      const ms = msUntilAvailable(p, minReady, now);
      if (ms !== undefined) waits.push(ms);
    }
  if (full()) plan.requeueAfterMs = 0;
  else if (waits.length) plan.requeueAfterMs = Math.min(...waits);
  plan.status = statusOf(
    set,
    [...slots.values(), ...condemned.map((c) => c.pod)],
    current,
    update,
    minReady,
    now,
    collisionCount,
  );
  return plan;
}

/** computeReplicaStatus and completeRollingUpdate: what the pods are, by revision. */
function statusOf(
  set: NamedSet,
  pods: (KubeObject | undefined)[],
  current: Revision,
  update: Revision,
  minReady: number,
  now: number,
  collisionCount: number,
): Record<string, unknown> {
  const present = pods.filter((p): p is KubeObject => !!p);
  const live = present.filter((p) => !isTerminating(p));
  const status = {
    observedGeneration: set.metadata.generation ?? 1,
    replicas: present.length,
    readyReplicas: present.filter(runningAndReady).length,
    currentReplicas: live.filter((p) => revisionOf(p) === current.name).length,
    updatedReplicas: live.filter((p) => revisionOf(p) === update.name).length,
    availableReplicas: present.filter((p) => runningAndReady(p) && isAvailable(p, minReady, now)).length,
    currentRevision: current.name,
    updateRevision: update.name,
    collisionCount,
  };
  const spec = statefulSetSpec(set);
  const rolling = (spec.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const all = [status.updatedReplicas, status.readyReplicas, status.replicas].every((n) => n === (spec.replicas ?? 1));
  if (rolling && all) return { ...status, currentReplicas: status.updatedReplicas, currentRevision: update.name };
  return status;
}
