import type { ObjectKey, StoredObject, KubeObject } from '../model/types.js';
import type { Resources } from '../model/resources.js';

/** One pod's share of a node, as the scheduler accounted it when binding. */
export interface AllocationEntry {
  /** `namespace/name` */
  key: string;
  labels: Record<string, string>;
  cpuMilli: number;
  memoryBytes: number;
}

/** One pod placed on one node, as bindPods writes it. */
export interface PodBinding {
  /** The pod with spec.nodeName set. */
  boundPod: KubeObject;
  /** The pod as read (unbound): the bind is conditional on its resourceVersion. */
  previous: StoredObject;
  nodeName: string;
  entry: AllocationEntry & { uid: string };
  allocatable: Resources;
}

/**
 * What is bound to a node: totals plus one entry per pod uid. The scheduler's bind transaction and
 * the release of a finished pod keep it exact, so placement never has to list every pod.
 */
export interface NodeAllocation {
  nodeName: string;
  requested: Resources;
  pods: Record<string, AllocationEntry>;
}

/**
 * The nodes' capacity ledger (what the scheduler's cache and kubelet admission keep in Kubernetes):
 * per node, what bound pods requested, changed only in the same transaction as the binding itself,
 * and the index of pods still waiting for a node.
 */
export interface NodeLedger {
  /**
   * Binds a pod in one transaction: writes `boundPod` (which carries spec.nodeName) if the pod is
   * still at `previous`'s resourceVersion, and adds its requests to the node's allocation only if they
   * still fit under `allocatable`. ConflictError/NotFoundError for the pod, CapacityConflictError for the node.
   */
  bindPod(
    boundPod: KubeObject,
    previous: StoredObject,
    nodeName: string,
    entry: AllocationEntry & { uid: string },
    allocatable: Resources,
  ): Promise<StoredObject>;
  /**
   * Binds several pods in one transaction (all or none), each node's allocation updated once for all
   * its new pods, and creates `events` with them (the Scheduled events: written if and only if the
   * binds are). Errors as bindPod, about the first pod or node that failed.
   */
  bindPods(binds: PodBinding[], events?: KubeObject[]): Promise<StoredObject[]>;
  /** Gives a pod's share of a node back; true only for the one call that actually released it. */
  releasePod(nodeName: string, uid: string): Promise<boolean>;
  /** Creates an empty allocation for a node if it has none. */
  ensureNodeAllocation(nodeName: string): Promise<void>;
  listNodeAllocations(): Promise<NodeAllocation[]>;
  /** Deletes a node's allocation if it holds no pods; true when it was deleted or already gone. */
  removeNodeAllocation(nodeName: string): Promise<boolean>;
  getNodeAllocation(nodeName: string): Promise<NodeAllocation | undefined>;
  /** Keys of pods that wait for a node (from the sharded unscheduled index; eventually consistent). */
  listUnscheduledPods(): Promise<ObjectKey[]>;
}
