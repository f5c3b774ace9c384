import type { Affinity, PodSpec, Toleration } from 'kubernetes-types/core/v1.js';
import { findCondition, isNodeReady } from '../../model/conditions.js';
import type { KubeObject } from '../../model/types.js';
import { daemonSetSpec, podSpec } from '../../model/typed.js';
import { LABEL_CONTROLLER_REVISION_HASH } from '../../model/well-known.js';
import { TEMPLATE_GENERATION_ANNOTATION } from '../../model/kinds/admission-hooks.js';
import { hashedSuffix } from '../../util/names.js';
import { termMatches } from '../../scheduling/plugins/node-affinity.js';
import { scaledValue } from '../../model/int-or-percent.js';
import { taintsOf, tolerates, type Taint } from '../../scheduling/plugins/taint-toleration.js';
import { availabilityOf, isAvailable, isReady, isTerminating, phaseOf, podFromTemplate } from '../pods.js';

/**
 * The DaemonSet controller's decision, pure (Kubernetes' pkg/controller/daemon manage and
 * rollingUpdate): one pod per node that should run one, pinned to it by node affinity and placed by
 * the scheduler; pods on nodes that should no longer run one removed; a RollingUpdate replacing old
 * pods within maxUnavailable, or surging new ones beside them within maxSurge; OnDelete replacing
 * only pods someone deleted.
 */

/** The label that carries the template generation a pod was made at (apps/v1 DaemonSetTemplateGenerationKey). */
export const LABEL_POD_TEMPLATE_GENERATION = 'pod-template-generation';
/** What a node that is not Ready carries in Kubernetes (TaintNodesByCondition); kumo's nodes carry the condition only. */
const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };
/** A failed daemon pod is left this long before it is deleted and replaced (Kubernetes backs off from 1 s to 15 min). */
export const FAILED_POD_DELAY_MS = 10_000;

/** AddOrUpdateDaemonPodTolerations: every daemon pod tolerates these, without a time limit. */
export function daemonTolerations(spec: Partial<PodSpec> | undefined): Toleration[] {
  const wanted: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
    ...(spec?.hostNetwork
      ? [{ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' }]
      : []),
  ];
  const out = [...(spec?.tolerations ?? [])];
  for (const t of wanted) {
    // MatchToleration: same key, effect, operator and value is the same toleration, replaced (so no time limit).
    const i = out.findIndex(
      (x) => x.key === t.key && x.effect === t.effect && x.operator === t.operator && (x.value ?? '') === '',
    );
    if (i >= 0) out[i] = t;
    else out.push(t);
  }
  return out;
}

/** ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become one that names the node. */
function pinnedTo(affinity: Affinity | undefined, node: string): Affinity {
  const term = { matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] };
  return {
    ...affinity,
    nodeAffinity: {
      ...affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [term] },
    },
  };
}

/** GetTargetNodeName: the pod's node, or the one its node affinity pins it to. */
export function targetNodeOf(pod: KubeObject): string | undefined {
  const spec = podSpec(pod);
  if (spec.nodeName) return spec.nodeName;
  for (const term of spec.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ??
    [])
    for (const f of term.matchFields ?? [])
      if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  return undefined;
}

/**
 * NodeShouldRunDaemonPod: whether a daemon pod belongs on the node (nodeSelector, required node
 * affinity, no untolerated NoSchedule or NoExecute taint), and whether one already there may stay
 * (an untolerated NoSchedule taint keeps it; NoExecute does not).
 */
export function nodeShouldRunDaemonPod(
  ds: KubeObject,
  node: KubeObject,
): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = daemonSetSpec(ds).template?.spec;
  if (spec?.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  const labels = node.metadata.labels ?? {};
  const selectorFits = Object.entries(spec?.nodeSelector ?? {}).every(([k, v]) => labels[k] === v);
  const terms = spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const affinityFits = !terms?.length || terms.some((t) => termMatches(t, node));
  if (!selectorFits || !affinityFits) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(spec);
  const taints = [...taintsOf(node), ...(isNodeReady(node) ? [] : [NOT_READY_TAINT])];
  const untolerated = (effects: string[]) =>
    taints.some((t) => effects.includes(t.effect) && !tolerations.some((x) => tolerates(x, t)));
  if (untolerated(['NoSchedule', 'NoExecute']))
    return { shouldRun: false, shouldContinueRunning: !untolerated(['NoExecute']) };
  return { shouldRun: true, shouldContinueRunning: true };
}

/** The template generation the DaemonSet is at (its deprecated.daemonset.template.generation annotation). */
export const templateGenerationOf = (ds: KubeObject) => ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];

/** IsPodUpdated: made at the current template generation, or from the current revision. */
export function isUpdated(pod: KubeObject, hash: string, generation: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  return (
    (generation !== undefined && labels[LABEL_POD_TEMPLATE_GENERATION] === generation) ||
    labels[LABEL_CONTROLLER_REVISION_HASH] === hash
  );
}

/**
 * The daemon pod for a node: the template with the daemon tolerations, pinned to the node, labelled with
 * the revision. Its name is derived from the DaemonSet, the node and the revision, so two reconciles
 * working from the same state make the same pod and the second create collides instead of making a twin.
 */
export function daemonPod(
  ds: KubeObject & { metadata: { name: string; uid: string } },
  node: string,
  hash: string,
): KubeObject {
  const template = daemonSetSpec(ds).template;
  // generateName's base is cut to 58 characters; ten characters of hash keep names of nodes apart.
  const name = `${ds.metadata.name.slice(0, 58)}-${hashedSuffix(`${ds.metadata.uid}/${node}/${hash}`, 10, { rehash: true })}`;
  const pod = podFromTemplate(ds, name, template);
  const generation = templateGenerationOf(ds);
  pod.metadata.labels = {
    ...pod.metadata.labels,
    ...(generation !== undefined ? { [LABEL_POD_TEMPLATE_GENERATION]: generation } : {}),
    [LABEL_CONTROLLER_REVISION_HASH]: hash,
  };
  const spec = podSpec(pod);
  pod.spec = { ...pod.spec, tolerations: daemonTolerations(spec), affinity: pinnedTo(spec.affinity, node) };
  return pod;
}

export interface DaemonEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface DaemonSetPlan {
  create: KubeObject[];
  delete: string[];
  events: DaemonEvent[];
  status: Record<string, unknown>;
  requeueAfterMs?: number;
}

/** podByCreationTimestampAndPhase: scheduled before pending, then oldest first, then by name. */
function byAge(a: KubeObject, b: KubeObject): number {
  const scheduled = (p: KubeObject) => (p.spec?.nodeName ? 0 : 1);
  return (
    scheduled(a) - scheduled(b) ||
    Date.parse(a.metadata.creationTimestamp ?? '') - Date.parse(b.metadata.creationTimestamp ?? '') ||
    (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '')
  );
}

/** UnavailableCount and SurgeCount: rounded up, and 0 for anything else. */
const scaled = (v: unknown, total: number) => scaledValue(v, total, true) ?? 0;

export function planDaemonSet(
  ds: KubeObject & { metadata: { name: string; uid: string } },
  nodes: readonly KubeObject[],
  owned: readonly KubeObject[],
  hash: string,
  now: number,
  collisionCount = 0,
): DaemonSetPlan {
  const spec = daemonSetSpec(ds);
  const minReady = spec.minReadySeconds ?? 0;
  const generation = templateGenerationOf(ds);
  const namespace = ds.metadata.namespace ?? '';
  const plan: DaemonSetPlan = { create: [], delete: [], events: [], status: {} };
  const { available, waits } = availabilityOf(minReady, now);
  // getNodesToDaemonPods without deleted terminal pods: by the node each pod is (or will be) on.
  const byNode = new Map<string, KubeObject[]>();
  const known = new Set(nodes.map((n) => n.metadata.name ?? ''));
  for (const pod of owned) {
    if (isTerminating(pod) && (phaseOf(pod) === 'Failed' || phaseOf(pod) === 'Succeeded')) continue;
    const node = targetNodeOf(pod);
    if (node === undefined) continue;
    // A pod pinned to a node that no longer exists and never placed goes (getUnscheduledPodsWithoutNode).
    if (!known.has(node)) {
      if (!pod.spec?.nodeName && !isTerminating(pod)) plan.delete.push(pod.metadata.name ?? '');
      continue;
    }
    byNode.set(node, [...(byNode.get(node) ?? []), pod]);
  }
  // AllowsSurge: maxSurge scaled to one node, rounding up, is at least one.
  const allowsSurge =
    spec.updateStrategy?.type === 'RollingUpdate' && scaled(spec.updateStrategy.rollingUpdate?.maxSurge, 1) > 0;
  const sortedNodes = [...nodes].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  const placement = new Map(sortedNodes.map((n) => [n.metadata.name ?? '', nodeShouldRunDaemonPod(ds, n)]));

  // manage(): per node, create the missing pod, delete failed, duplicate and misplaced ones.
  if (!ds.metadata.deletionTimestamp)
    for (const node of sortedNodes) {
      const name = node.metadata.name ?? '';
      const { shouldRun, shouldContinueRunning } = placement.get(name) ?? {
        shouldRun: false,
        shouldContinueRunning: false,
      };
      const pods = byNode.get(name) ?? [];
      if (shouldRun && pods.length === 0) {
        plan.create.push(daemonPod(ds, name, hash));
        continue;
      }
      if (!shouldContinueRunning) {
        for (const p of pods) if (!isTerminating(p)) plan.delete.push(p.metadata.name ?? '');
        continue;
      }
      const running: KubeObject[] = [];
      for (const p of pods) {
        if (isTerminating(p)) continue;
        if (phaseOf(p) === 'Failed') {
          // A backoff before each replacement, so a pod that cannot run does not churn.
          const since = Date.parse(findCondition(p, 'Ready')?.lastTransitionTime ?? p.metadata.creationTimestamp ?? '');
          const due = (Number.isFinite(since) ? since : now) + FAILED_POD_DELAY_MS;
          if (due > now) {
            waits.push(due - now);
            continue;
          }
          plan.events.push({
            type: 'Warning',
            reason: 'FailedDaemonPod',
            message: `Found failed daemon pod ${namespace}/${p.metadata.name} on node ${name}, will try to kill it`,
          });
          plan.delete.push(p.metadata.name ?? '');
        } else if (phaseOf(p) === 'Succeeded') {
          plan.events.push({
            type: 'Normal',
            reason: 'SucceededDaemonPod',
            message: `Found succeeded daemon pod ${namespace}/${p.metadata.name} on node ${name}, will try to delete it`,
          });
          plan.delete.push(p.metadata.name ?? '');
        } else running.push(p);
      }
      if (!allowsSurge) {
        // More than one pod on a node: the oldest stays.
        if (running.length > 1)
          plan.delete.push(
            ...[...running]
              .sort(byAge)
              .slice(1)
              .map((p) => p.metadata.name ?? ''),
          );
        continue;
      }
      if (running.length === 0 && shouldRun) {
        plan.create.push(daemonPod(ds, name, hash));
        continue;
      }
      if (running.length <= 1) continue;
      const sorted = [...running].sort(byAge);
      const oldestNew = sorted.find((p) => p.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH] === hash);
      const oldestOld = sorted.find((p) => p.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH] !== hash);
      for (const p of sorted) if (p !== oldestNew && p !== oldestOld) plan.delete.push(p.metadata.name ?? '');
      if (oldestNew && oldestOld && (!isReady(oldestOld) || available(oldestNew)))
        plan.delete.push(oldestOld.metadata.name ?? '');
    }

  // rollingUpdate(), only once manage has nothing left to do (Kubernetes waits for its expectations).
  if (
    !ds.metadata.deletionTimestamp &&
    spec.updateStrategy?.type === 'RollingUpdate' &&
    !plan.create.length &&
    !plan.delete.length
  )
    rollingUpdate(ds, sortedNodes, placement, byNode, hash, generation, available, plan);

  if (waits.length) plan.requeueAfterMs = Math.min(...waits);
  plan.status = statusOf(ds, sortedNodes, placement, byNode, hash, generation, minReady, now, collisionCount);
  return plan;
}

/** findUpdatedPodsOnNode: the node's one new and one old pod; not ok when there are two of either. */
function updatedOnNode(pods: KubeObject[], hash: string, generation: string | undefined) {
  let newPod: KubeObject | undefined;
  let oldPod: KubeObject | undefined;
  for (const p of pods) {
    if (isTerminating(p)) continue;
    if (isUpdated(p, hash, generation)) {
      if (newPod) return { ok: false as const };
      newPod = p;
    } else {
      if (oldPod) return { ok: false as const };
      oldPod = p;
    }
  }
  return { ok: true as const, newPod, oldPod };
}

function rollingUpdate(
  ds: KubeObject & { metadata: { name: string; uid: string } },
  nodes: KubeObject[],
  placement: Map<string, { shouldRun: boolean; shouldContinueRunning: boolean }>,
  byNode: Map<string, KubeObject[]>,
  hash: string,
  generation: string | undefined,
  available: (p: KubeObject) => boolean,
  plan: DaemonSetPlan,
): void {
  const ru = daemonSetSpec(ds).updateStrategy?.rollingUpdate;
  // updatedDesiredNodeCounts: every node that should run a pod takes part, with or without one.
  const desiredNodes = nodes.map((n) => n.metadata.name ?? '').filter((n) => placement.get(n)?.shouldRun);
  const considered = [...new Set([...desiredNodes, ...byNode.keys()])].sort();
  const desired = desiredNodes.length;
  let maxUnavailable = scaled(ru?.maxUnavailable, desired);
  const maxSurge = scaled(ru?.maxSurge, desired);
  if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;

  if (maxSurge === 0) {
    // Delete just enough old pods to stay within maxUnavailable; manage() makes their replacements.
    let unavailable = 0;
    const replacements: string[] = [];
    const candidates: string[] = [];
    for (const node of considered) {
      const found = updatedOnNode(byNode.get(node) ?? [], hash, generation);
      if (!found.ok || (!found.oldPod && !found.newPod) || (found.oldPod && found.newPod)) {
        unavailable++;
        continue;
      }
      if (found.newPod) {
        if (!available(found.newPod)) unavailable++;
        continue;
      }
      const old = found.oldPod as KubeObject;
      if (!available(old)) {
        replacements.push(old.metadata.name ?? '');
        unavailable++;
      } else if (unavailable < maxUnavailable) candidates.push(old.metadata.name ?? '');
    }
    const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
    plan.delete.push(...replacements, ...candidates.slice(0, room));
    return;
  }
  // Surge: a new pod beside each old one (within maxSurge), the old one deleted once the new is available.
  let surging = 0;
  let availableNow = 0;
  const allowedNew: string[] = [];
  const candidateNew: string[] = [];
  const notWanted: string[] = [];
  for (const node of considered) {
    const found = updatedOnNode(byNode.get(node) ?? [], hash, generation);
    if (!found.ok) {
      surging++;
      continue;
    }
    const { newPod, oldPod } = found;
    if (oldPod ? available(oldPod) : newPod && available(newPod)) availableNow++;
    if (!oldPod) continue;
    const shouldRun = placement.get(node)?.shouldRun ?? false;
    if (!newPod) {
      if (!available(oldPod)) {
        if (!shouldRun) plan.delete.push(oldPod.metadata.name ?? '');
        else allowedNew.push(node);
      } else if (!shouldRun) notWanted.push(oldPod.metadata.name ?? '');
      else if (surging < maxSurge) candidateNew.push(node);
      continue;
    }
    if (!available(newPod)) surging++;
    else plan.delete.push(oldPod.metadata.name ?? '');
  }
  // Pods on nodes that should no longer run one go only while enough others are available.
  const deletable = availableNow - desired;
  if (deletable > 0) plan.delete.push(...notWanted.slice(0, deletable));
  const room = Math.min(Math.max(0, maxSurge - surging), candidateNew.length);
  for (const node of [...allowedNew, ...candidateNew.slice(0, room)]) plan.create.push(daemonPod(ds, node, hash));
}

/** updateDaemonSetStatus: per node that should run a pod, whether it has one, ready, available, updated. */
function statusOf(
  ds: KubeObject,
  nodes: KubeObject[],
  placement: Map<string, { shouldRun: boolean }>,
  byNode: Map<string, KubeObject[]>,
  hash: string,
  generation: string | undefined,
  minReady: number,
  now: number,
  collisionCount: number,
): Record<string, unknown> {
  let desired = 0;
  let current = 0;
  let misscheduled = 0;
  let ready = 0;
  let availableCount = 0;
  let updated = 0;
  for (const node of nodes) {
    const name = node.metadata.name ?? '';
    const pods = byNode.get(name) ?? [];
    const shouldRun = placement.get(name)?.shouldRun ?? false;
    if (shouldRun) {
      desired++;
      if (!pods.length) continue;
      current++;
      const pod = [...pods].sort(byAge)[0] as KubeObject;
      if (isReady(pod)) {
        ready++;
        if (isAvailable(pod, minReady, now)) availableCount++;
      }
      if (isUpdated(pod, hash, generation)) updated++;
    } else if (pods.length) misscheduled++;
  }
  return {
    observedGeneration: ds.metadata.generation ?? 1,
    desiredNumberScheduled: desired,
    currentNumberScheduled: current,
    numberMisscheduled: misscheduled,
    numberReady: ready,
    updatedNumberScheduled: updated,
    numberAvailable: availableCount,
    numberUnavailable: desired - availableCount,
    collisionCount,
  };
}
