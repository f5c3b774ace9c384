import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  TransactionError,
  type StatusError,
} from '../model/errors.js';
import type { KubeObject, ObjectKey, StoredObject } from '../model/types.js';
import type { ListPage, ListQuery, ObjectStore, TransactWrite } from '../store/store.js';
import { assertItemFits, keyOfObject as keyOf, refOfKey as refOf } from '../store/object-keys.js';

/**
 * The store as a dry run (`dryRun=All`) sees it, as the kube-apiserver's DryRunnableStorage: reads are
 * the real store's; each write is checked as the real one checks it (the name free, the version the
 * one read, the object there) and answered with what would have been stored, and nothing is written.
 * A created object has no resourceVersion (none was assigned); an updated one keeps the version read.
 */
export class DryRunStore implements ObjectStore {
  constructor(private readonly real: ObjectStore) {}

  get(key: ObjectKey): Promise<StoredObject | undefined> {
    return this.real.get(key);
  }

  list(query: ListQuery): Promise<ListPage> {
    return this.real.list(query);
  }

  getMany(keys: ObjectKey[]): Promise<StoredObject[]> {
    return this.real.getMany(keys);
  }

  listOwnedBy(ownerUid: string, kind?: string): Promise<StoredObject[]> {
    return this.real.listOwnedBy(ownerUid, kind);
  }

  currentResourceVersion(): string {
    return this.real.currentResourceVersion();
  }

  changes(...a: Parameters<ObjectStore['changes']>) {
    return this.real.changes(...a);
  }

  async create(object: KubeObject): Promise<StoredObject> {
    const failure = await this.check({ op: 'create', object });
    if (failure) throw failure;
    return this.asStored(object, undefined);
  }

  async update(object: KubeObject, previous: StoredObject): Promise<StoredObject> {
    const failure = await this.check({ op: 'update', object, previous });
    if (failure) throw failure;
    return this.asStored(object, previous.metadata.resourceVersion);
  }

  async delete(key: ObjectKey, expectedResourceVersion?: string): Promise<void> {
    const current = await this.real.get(key);
    if (!current) throw new NotFoundError(refOf(key));
    if (expectedResourceVersion !== undefined && current.metadata.resourceVersion !== expectedResourceVersion)
      throw new ConflictError(refOf(key));
  }

  async transact(writes: TransactWrite[]): Promise<StoredObject[]> {
    const failures = await Promise.all(writes.map((w) => this.check(w)));
    if (failures.some(Boolean)) throw new TransactionError(failures);
    return writes.flatMap((w) =>
      w.op === 'delete'
        ? []
        : [this.asStored(w.object, w.op === 'update' ? w.previous.metadata.resourceVersion : undefined)],
    );
  }

  /** Events a dry run would record are not written either. */
  async createMany(): Promise<void> {}

  /** What the real write's condition would refuse, if anything. */
  private async check(w: TransactWrite): Promise<StatusError | undefined> {
    const key = w.op === 'delete' ? w.key : keyOf(w.object);
    // The real store refuses an item over DynamoDB's limit (object-items.ts); its JSON is most of the item.
    if (w.op !== 'delete') assertItemFits(key, Buffer.byteLength(JSON.stringify(w.object), 'utf8'));
    const current = await this.real.get(key);
    if (w.op === 'create') return current ? new AlreadyExistsError(refOf(key)) : undefined;
    if (w.op === 'delete' && w.expectedResourceVersion === undefined) return undefined;
    if (!current) return new NotFoundError(refOf(key));
    const expected = w.op === 'update' ? w.previous.metadata.resourceVersion : w.expectedResourceVersion;
    return current.metadata.resourceVersion === expected ? undefined : new ConflictError(refOf(key));
  }

  private asStored(object: KubeObject, resourceVersion: string | undefined): StoredObject {
    const { resourceVersion: _none, ...metadata } = object.metadata;
    return {
      ...object,
      metadata: { ...metadata, ...(resourceVersion !== undefined ? { resourceVersion } : {}) },
    } as StoredObject;
  }
}
