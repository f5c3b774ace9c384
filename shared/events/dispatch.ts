import { DEFAULT_SERVICE_ACCOUNT, ROOT_CA_CONFIG_MAP } from '../model/service-accounts.js';
import { jsonEqual } from '../model/json.js';
import { isFinished, isWaitingForNode, nodeNameOf, phaseOf } from '../model/pod-state.js';
import type { KubeObject } from '../model/types.js';
import type { QueueName } from '../queue/work-queue.js';
import { findCondition, nodeReadyStatus } from '../model/conditions.js';
import { encodeKey, EVERY_NAME, workKeys } from '../queue/work-key.js';
import { nodeStatus } from '../model/typed.js';
import { typeByKindName } from '../model/kinds.js';
import {
  claimNamesOf,
  claimRefOf,
  awaitsLocalCleanup,
  localVolumeNodeOf,
  phaseOf as claimPhaseOf,
  volumeNameOf,
} from '../model/storage.js';

/** What a node reads of a Service: its spec and its load balancer's addresses, not its other status. */
const serviceViewChanged = ({ old, new: cur }: Change) =>
  !old ||
  !cur ||
  !jsonEqual(old.spec, cur.spec) ||
  !jsonEqual(
    (old.status as Record<string, unknown> | undefined)?.loadBalancer,
    (cur.status as Record<string, unknown> | undefined)?.loadBalancer,
  ) ||
  old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp;

/**
 * Maps one change of the objects table to the reconcile keys it concerns (the informers' event
 * handlers). Pure: it sees the old and new images, never the store.
 */

export interface Change {
  old?: KubeObject;
  new?: KubeObject;
}

export interface RoutedKey {
  /** A work queue, or `node`: wake that node's agent (the key is the node name). */
  queue: QueueName | 'node';
  /** An encoded WorkKey (queue/work-key.ts), or the node's name. */
  key: string;
}

/** What ReplicaSet and Job controllers read of a pod: phase, readiness (and since when), deletion, labels, owners. */
const ownerView = (p: KubeObject) => ({
  phase: phaseOf(p),
  ready: findCondition(p, 'Ready'),
  deleting: p.metadata.deletionTimestamp,
  labels: p.metadata.labels,
  owners: p.metadata.ownerReferences,
});

function podKeys({ old, new: cur }: Change): RoutedKey[] {
  const keys: RoutedKey[] = [];
  const any = (cur ?? old) as KubeObject;
  const owners = new Set<string>();
  // Its controller only cares about what it counts: a binding, or a container still waiting, is not that.
  if (!old || !cur || !jsonEqual(ownerView(old), ownerView(cur))) {
    for (const ref of [...(old?.metadata.ownerReferences ?? []), ...(cur?.metadata.ownerReferences ?? [])]) {
      if (ref.controller) owners.add(encodeKey(workKeys.object(ref.kind, any.metadata.namespace ?? '', ref.name)));
    }
  }
  for (const key of owners) keys.push({ queue: 'controllers', key });
  // The disruption budgets of its namespace count it (healthy or not, there or gone).
  if (!old || !cur || !jsonEqual(ownerView(old), ownerView(cur)))
    keys.push({
      queue: 'controllers',
      key: encodeKey(workKeys.object('PodDisruptionBudget', any.metadata.namespace ?? '', EVERY_NAME)),
    });
  // Only a new pod, or a change to what it asks for, needs a placement decision; the scheduler's own
  // status writes (PodScheduled=False) must not wake it again.
  if (
    cur &&
    isWaitingForNode(cur) &&
    (!old || !jsonEqual(old.spec, cur.spec) || !jsonEqual(old.metadata.labels, cur.metadata.labels))
  ) {
    keys.push({ queue: 'scheduler', key: encodeKey(workKeys.of(cur)) });
  }
  // A claim being deleted waits for the pods that use it (pvc-protection): their end may free it.
  if (!cur || (isFinished(cur) && !(old && isFinished(old))))
    for (const claim of claimNamesOf(any))
      keys.push({
        queue: 'controllers',
        key: encodeKey(workKeys.object('PersistentVolumeClaim', any.metadata.namespace ?? '', claim)),
      });
  // Services in the pod's namespace may select it: their endpoints follow its readiness and address.
  keys.push({
    queue: 'controllers',
    key: encodeKey(workKeys.object('Service', any.metadata.namespace ?? '', EVERY_NAME)),
  });
  // A bound pod that is gone or finished frees its share of the node exactly once (the release is conditional).
  const boundTo = nodeNameOf(old) ?? nodeNameOf(cur);
  if (boundTo && (!cur || isFinished(cur)))
    keys.push({ queue: 'scheduler', key: encodeKey(workKeys.release(boundTo, any.metadata.uid ?? '')) });
  // The node's agent has work when a pod is bound to it, changes spec, starts terminating or vanishes;
  // not for status writes (mostly its own).
  if (
    boundTo &&
    (!old ||
      !cur ||
      nodeNameOf(old) !== nodeNameOf(cur) ||
      old.metadata.generation !== cur.metadata.generation ||
      old.metadata.deletionTimestamp !== cur.metadata.deletionTimestamp)
  )
    keys.push({ queue: 'node', key: boundTo });
  return keys;
}

/** Node fields that change where pods may go. */
const placementView = (n: KubeObject | undefined) =>
  n && {
    labels: n.metadata.labels,
    spec: n.spec,
    allocatable: nodeStatus(n).allocatable,
    ready: nodeReadyStatus(n),
  };

function nodeKeys({ old, new: cur }: Change): RoutedKey[] {
  const node = (cur ?? old) as KubeObject;
  const keys: RoutedKey[] = [{ queue: 'controllers', key: encodeKey(workKeys.of(node)) }];
  // A deleted Node's pods and capacity ledger are the lifecycle controller's to clear, now rather than at its next periodic check.
  if (!cur) keys.push({ queue: 'controllers', key: encodeKey(workKeys.nodeLifecycle) });
  if (cur && !jsonEqual(placementView(old), placementView(cur)))
    keys.push({ queue: 'scheduler', key: encodeKey(workKeys.wakeUp) });
  // DaemonSets follow nodes joining, leaving and changing labels, taints or readiness.
  if (!old || !cur || !jsonEqual(placementView(old), placementView(cur)))
    keys.push({ queue: 'controllers', key: encodeKey(workKeys.daemonSets) });
  return keys;
}

/** What the scheduler reads of a claim: whether it exists and is bound, to which volume. */
const claimPlacementView = (c: KubeObject | undefined) =>
  c && {
    volume: volumeNameOf(c),
    phase: claimPhaseOf(c),
    deleting: !!c.metadata.deletionTimestamp,
    storageClassName: c.spec?.storageClassName,
    // Its node choice taken back (provisioning failed there): the scheduler chooses again.
    selectedNode: c.metadata.annotations?.['volume.kubernetes.io/selected-node'],
  };

function claimKeys({ old, new: cur }: Change): RoutedKey[] {
  const claim = (cur ?? old) as KubeObject;
  const keys: RoutedKey[] = [{ queue: 'controllers', key: encodeKey(workKeys.of(claim)) }];
  // Its volume follows it: bound, released when the claim is gone.
  // A claim gone before its provisioned volume was bound to it: that volume (pvc-<uid>) is released too.
  const provisioned = !cur && old?.metadata.uid ? `pvc-${old.metadata.uid}` : undefined;
  for (const v of new Set([old && volumeNameOf(old), cur && volumeNameOf(cur), provisioned]))
    if (v) keys.push({ queue: 'controllers', key: encodeKey(workKeys.object('PersistentVolume', '', v)) });
  // Pods waiting for this claim (to exist, to be bound) may be placed now.
  if (!jsonEqual(claimPlacementView(old), claimPlacementView(cur)))
    keys.push({ queue: 'scheduler', key: encodeKey(workKeys.wakeUp) });
  return keys;
}

function volumeKeys({ old, new: cur }: Change): RoutedKey[] {
  const pv = (cur ?? old) as KubeObject;
  const keys: RoutedKey[] = [{ queue: 'controllers', key: encodeKey(workKeys.of(pv)) }];
  // The claim it is reserved for binds to it (a volume made for it, or pre-bound by its author).
  const ref = cur && claimRefOf(cur);
  if (ref?.name && !jsonEqual(old && claimRefOf(old), ref))
    keys.push({
      queue: 'controllers',
      key: encodeKey(workKeys.object('PersistentVolumeClaim', ref.namespace ?? '', ref.name)),
    });
  // A volume free for claims (new, or its reservation undone): the pending claims may take it.
  const free = (v: KubeObject | undefined) => !!v && !claimRefOf(v) && !v.metadata.deletionTimestamp;
  if (free(cur) && !free(old)) keys.push({ queue: 'controllers', key: encodeKey(workKeys.pendingClaims) });
  // A local volume being deleted: its node removes the directory, then the finalizer.
  const node = cur && awaitsLocalCleanup(cur) && localVolumeNodeOf(cur);
  if (node && cur.metadata.deletionTimestamp && !old?.metadata.deletionTimestamp)
    keys.push({ queue: 'node', key: node });
  return keys;
}

/**
 * An autoscaler's status write (its own, every evaluation whose figures moved): the evaluation chain
 * brings the next reconcile, so this one would only cost a message and an invocation to be dropped.
 */
function ownStatusWrite({ old, new: cur }: Change): boolean {
  return (
    cur?.kind === 'HorizontalPodAutoscaler' &&
    !!old &&
    old.metadata.generation === cur.metadata.generation &&
    !cur.metadata.deletionTimestamp
  );
}

const RBAC_KINDS = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const aggregationView = (r: KubeObject) => ({
  rules: r.rules,
  labels: r.metadata.labels,
  aggregationRule: r.aggregationRule,
});
const aggregationInputsChanged = ({ old, new: cur }: Change) =>
  !old || !cur || !jsonEqual(aggregationView(old), aggregationView(cur));
/** What the authorizer reads of an RBAC object (a Role's rules, a binding's role and subjects, labels for aggregation). */
const authorizationInputsChanged = ({ old, new: cur }: Change) =>
  !old ||
  !cur ||
  !jsonEqual(aggregationView(old), aggregationView(cur)) ||
  !jsonEqual([old.roleRef, old.subjects], [cur.roleRef, cur.subjects]);

export function keysForChange(change: Change): RoutedKey[] {
  const o = change.new ?? change.old;
  if (!o) return [];
  switch (o.kind) {
    case 'Pod':
      return podKeys(change);
    case 'Node':
      return nodeKeys(change);
    case 'Event':
      return [];
    case 'PersistentVolumeClaim':
      return claimKeys(change);
    case 'PersistentVolume':
      return volumeKeys(change);
    case 'StorageClass':
      // A class that appears or changes (a new default, one a claim named before it existed) may let pending claims go on.
      return [{ queue: 'controllers', key: encodeKey(workKeys.pendingClaims) }];
    default: {
      // An owned object (a Deployment's ReplicaSet) concerns its owner too, whose status sums it up.
      const owners = new Set(
        [...(change.old?.metadata.ownerReferences ?? []), ...(change.new?.metadata.ownerReferences ?? [])]
          .filter((r) => r.controller)
          .map((r) => encodeKey(workKeys.object(r.kind, o.metadata.namespace ?? '', r.name))),
      );
      // Its own key only where a controller reconciles the kind (the kind's declaration says so).
      const own: RoutedKey[] =
        typeByKindName(o.kind)?.reconciled && !ownStatusWrite(change)
          ? [{ queue: 'controllers', key: encodeKey(workKeys.of(o)) }]
          : [];
      const keys: RoutedKey[] = [...own, ...[...owners].map((key) => ({ queue: 'controllers' as const, key }))];
      // The garbage collector: dependents of a deleted owner go too (Background); Orphan and Foreground wait on a finalizer.
      const gcFinalizer = (change.new?.metadata.finalizers ?? []).some(
        (f) => f === 'orphan' || f === 'foregroundDeletion',
      );
      if ((change.old && !change.new) || (change.new?.metadata.deletionTimestamp && gcFinalizer))
        keys.push({ queue: 'controllers', key: encodeKey(workKeys.gc(o)) });
      // Every node's data path and DNS follow the Services and their endpoints (kube-proxy watches them all).
      // The controllers read the Nodes and wake each (the dispatcher never reads the table).
      if (o.kind === 'EndpointSlice' || (o.kind === 'Service' && serviceViewChanged(change)))
        keys.push({ queue: 'controllers', key: encodeKey(workKeys.wakeNodes) });
      // What an aggregated ClusterRole gathers (its sources' rules and labels, its own selectors) changed.
      if (o.kind === 'ClusterRole' && aggregationInputsChanged(change))
        keys.push({ queue: 'controllers', key: encodeKey(workKeys.object('ClusterRole', '', EVERY_NAME)) });
      // What the namespace controller keeps in every namespace (the root CA publisher and the service
      // account controller watch them): an edit or a deletion brings the namespace back.
      if (
        (o.kind === 'ConfigMap' && o.metadata.name === ROOT_CA_CONFIG_MAP) ||
        (o.kind === 'ServiceAccount' && o.metadata.name === DEFAULT_SERVICE_ACCOUNT && !change.new)
      )
        keys.push({
          queue: 'controllers',
          key: encodeKey(workKeys.object('Namespace', '', o.metadata.namespace ?? '')),
        });
      // The API containers authorize from copies of the RBAC objects: any change makes them stale.
      if (RBAC_KINDS.has(o.kind) && authorizationInputsChanged(change))
        keys.push({ queue: 'controllers', key: encodeKey(workKeys.rbacChanged) });
      return keys;
    }
  }
}
