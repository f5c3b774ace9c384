import type { ObjectKey, StoredObject, KubeObject } from '../model/types.js';
import type { ChangeLog } from './change-log.js';
import type { NodeLedger } from './node-ledger.js';

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

/** Writes one transaction takes: each is two of DynamoDB's 100 items (the object and its change record), less one for a fence. */
export const MAX_TRANSACT_WRITES = 49;

/** One write in an all-or-nothing batch. */
export type TransactWrite =
  | { op: 'create'; object: KubeObject }
  /** Conditional on `previous`'s resourceVersion; the change record keeps what selectors saw of it. */
  | { op: 'update'; object: KubeObject; previous: StoredObject }
  /** Without a resourceVersion the delete is unconditional: an absent object is no failure. */
  | { op: 'delete'; key: ObjectKey; expectedResourceVersion?: string };

/**
 * The consistent store of objects (etcd's role). Implementations own `resourceVersion`: every write
 * sets a new one and is conditional, so a stale writer gets a ConflictError instead of a lost update.
 * Reads are strongly consistent. Every write also records the change (change-log.ts) atomically with it.
 */
export interface ObjectStore extends ChangeLog {
  get(key: ObjectKey): Promise<StoredObject | undefined>;
  list(query: ListQuery): Promise<ListPage>;
  /** Fails with AlreadyExistsError when the name is taken. */
  create(object: KubeObject): Promise<StoredObject>;
  /**
   * Replaces `previous` (the version the caller read): ConflictError when the stored version is no
   * longer its resourceVersion, NotFoundError when gone.
   */
  update(object: KubeObject, previous: StoredObject): Promise<StoredObject>;
  /** Fails with NotFoundError when absent, ConflictError when `expectedResourceVersion` is given and stale. */
  delete(key: ObjectKey, expectedResourceVersion?: string): Promise<void>;
  /**
   * All writes land or none does; failures are reported per write as TransactionError. Returns what
   * was stored by each create and update, in order (deletes return nothing). With a fence,
   * they land only if the node still holds its lease at that epoch (else FencedWriteError), and the
   * lease is renewed with them when the fence says so. Each write takes two of DynamoDB's 100 items (the object and its change record), the fence one: at most 49 writes with a fence, 50 without (MAX_TRANSACT_WRITES).
   */
  transact(writes: TransactWrite[], fence?: NodeFence): Promise<StoredObject[]>;
  /** Strongly consistent reads of several objects in one round trip; absent ones are left out. */
  getMany(keys: ObjectKey[]): Promise<StoredObject[]>;
  /** Unconditional writes of new objects with unique generated names (events), in transactions of 25. */
  createMany(objects: KubeObject[]): Promise<void>;
  /** Objects (of `kind`, or of any kind) whose controlling owner has this uid (from the byOwner index; eventually consistent). */
  listOwnedBy(ownerUid: string, kind?: string): Promise<StoredObject[]>;
  /** A resourceVersion older than every write made from now on, by any writer (lists' and bookmarks'; see resourceVersionFloor). */
  currentResourceVersion(): string;
}

/** What the DynamoDB store implements, for the code that wires it: the objects and the nodes' capacity ledger. */
export type Store = ObjectStore & NodeLedger;
