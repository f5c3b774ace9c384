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
  expectedResourceVersion: string;
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

/** Where a list page starts: strictly after this namespace/name (namespace "" for cluster-scoped kinds). */
export interface ListCursor {
  namespace: string;
  name: string;
}

export interface ListQuery {
  kind: string;
  /** undefined lists every namespace (for a namespaced kind). */
  namespace?: string;
  after?: ListCursor;
  limit: number;
  /** Answer from the pods-by-node index instead of scanning the namespace (pods only). */
  nodeName?: string;
}

export interface ListPage {
  items: StoredObject[];
  /** True when the store stopped at `limit` and more objects may follow the last item. */
  more: boolean;
}

/**
 * A node's lease at the epoch its agent holds: writes made on the agent's behalf carry it and land
 * only while that epoch is current (exact fencing), renewing the lease with them when asked.
 */
export interface NodeFence {
  nodeName: string;
  epoch: number;
  /** Renew the lease to this time with the writes; without it the epoch is only checked. */
  renewAtMs?: number;
}

/** The node's lease has moved to another epoch: nothing of the fenced transaction was written. */
export class FencedWriteError extends Error {
  constructor(readonly nodeName: string) {
    super(`node "${nodeName}" no longer holds its lease at that epoch`);
  }
}

/** One write in an all-or-nothing batch. */
export type TransactWrite =
  | { op: 'create'; object: KubeObject }
  | { op: 'update'; object: KubeObject; expectedResourceVersion: string };

/**
 * The consistent store (etcd's role). Implementations own `resourceVersion`: every write sets a
 * new one and is conditional, so a stale writer gets a ConflictError instead of a lost update.
 * Reads are strongly consistent.
 */
export interface Store {
  get(key: ObjectKey): Promise<StoredObject | undefined>;
  list(query: ListQuery): Promise<ListPage>;
  /** Fails with AlreadyExistsError when the name is taken. */
  create(object: KubeObject): Promise<StoredObject>;
  /** Fails with ConflictError when the stored version is not `expectedResourceVersion`, NotFoundError when gone. */
  update(object: KubeObject, expectedResourceVersion: string): Promise<StoredObject>;
  /** Fails with NotFoundError when absent, ConflictError when `expectedResourceVersion` is given and stale. */
  delete(key: ObjectKey, expectedResourceVersion?: string): Promise<void>;
  /**
   * All writes land or none does; failures are reported per write as TransactionError. With a fence,
   * they land only if the node still holds its lease at that epoch (else FencedWriteError), and the
   * lease is renewed with them when the fence says so. At most 99 writes with a fence, 100 without (DynamoDB's limit).
   */
  transact(writes: TransactWrite[], fence?: NodeFence): Promise<StoredObject[]>;
  /**
   * Binds a pod in one transaction: writes `boundPod` (which carries spec.nodeName) if the pod is
   * still at `expectedResourceVersion`, and adds its requests to the node's allocation only if they
   * still fit under `allocatable`. ConflictError/NotFoundError for the pod, CapacityConflictError for the node.
   */
  bindPod(boundPod: KubeObject, expectedResourceVersion: string, nodeName: string, entry: AllocationEntry & { uid: string }, allocatable: Resources): Promise<StoredObject>;
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
  /** Strongly consistent reads of several objects in one round trip; absent ones are left out. */
  getMany(keys: ObjectKey[]): Promise<StoredObject[]>;
  /** Unconditional writes of new objects with unique generated names (events), in transactions of 25. */
  createMany(objects: KubeObject[]): Promise<void>;
  /** Objects (of `kind`, or of any kind) whose controlling owner has this uid (from the byOwner index; eventually consistent). */
  listOwnedBy(ownerUid: string, kind?: string): Promise<StoredObject[]>;
  /** Keys of pods that wait for a node (from the sharded unscheduled index; eventually consistent). */
  listUnscheduledPods(): Promise<ObjectKey[]>;
  /** A resourceVersion older than every write made from now on, by any writer (lists' and bookmarks'; see resourceVersionFloor). */
  currentResourceVersion(): string;
}
