import { TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
  type TransactWriteCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import { NotFoundError, RequestEntityTooLargeError, TransactionError, type StatusError } from '../../model/errors.js';
import { typeByKindName } from '../../model/kinds.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../model/types.js';
import type { Clock } from '../../util/clock.js';
import { chunksBy } from '../../util/chunks.js';
import { itemSize } from '../item-size.js';
import { resourceVersionFloor } from '../resource-version.js';
import { LATE_WRITE_MS, type ChangePage } from '../change-log.js';
import { ChangeRecords, changeLogPartition, versionSortKey, type RecordItem } from './change-records.js';
import {
  FencedWriteError,
  MAX_TRANSACT_WRITES,
  type ListPage,
  type ListQuery,
  type NodeFence,
  type Store,
  type TransactWrite,
} from '../store.js';
import { LEASE_PK } from './dynamo-lease-store.js';
import { DynamoNodeLedger, transactRetryingConflicts } from './dynamo-node-ledger.js';
import { conditionFailure, ObjectItems, partitionKey, type Item } from './object-items.js';
import { keyOfObject, refOfKey } from '../object-keys.js';
import type { NodeLedger } from '../node-ledger.js';
import { GSI } from './schema.js';
import type { SecretSealer } from '../../secrets/sealer.js';
import { translatedErrors } from './translated-errors.js';
import { batchGetAll, queryAll } from './query-all.js';

/** createMany's transactions: items and bytes (DynamoDB allows 100 items and 4 MB). */
const CREATE_MANY_BATCH = 25;
const CREATE_MANY_BYTES = 3_000_000;
/** DynamoDB's limit on the items of one transaction together (4 MB), less room for keys and expressions. */
const TRANSACTION_BYTES = 4_000_000;
/** Reads again of an object an unconditional delete found changed between its read and its write. */
const DELETE_RACE_RETRIES = 3;

type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

const itemKey = (k: ObjectKey) => `${partitionKey(k.kind, k.namespace)}/${k.name}`;

/** An unconditional delete found the object changed since it read it: nothing was written; read again. */
class LostDeleteRace extends Error {
  constructor(readonly error: TransactionError) {
    super(error.message);
  }
}

/**
 * The Store on DynamoDB (etcd's role): objects as items (object-items.ts), every write conditional on
 * the version read, strongly consistent reads, sparse indexes for the hot questions, and the nodes'
 * capacity ledger in the same table (dynamo-node-ledger.ts).
 */
export class DynamoStore implements Store {
  private readonly doc: DocumentSender;
  private readonly items: ObjectItems;
  private readonly ledger: DynamoNodeLedger;
  private readonly records: ChangeRecords;
  /** Writes recorded again because they landed late (change-log.ts); benchmarks read it. */
  lateWrites = 0;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
    /** Encrypts Secret values before they are written (KMS on AWS, a local key offline); without it they are stored as given. */
    sealer?: SecretSealer,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
    this.items = new ObjectItems(table, clock, sealer);
    this.records = new ChangeRecords(this.items, clock);
    this.ledger = new DynamoNodeLedger(this.doc, table, this.items, this.records);
  }

  async get(key: ObjectKey): Promise<StoredObject | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name },
        ConsistentRead: true,
      }),
    );
    return out.Item ? await this.items.decode(out.Item as Item) : undefined;
  }

  async list(q: ListQuery): Promise<ListPage> {
    if (q.nodeName !== undefined) return this.listByNode(q);
    if (q.namespace !== undefined || !typeByKindName(q.kind)?.namespaced) {
      return this.queryPartition(q.kind, q.namespace ?? '', q.after?.name, q.limit);
    }
    // All namespaces: walk them in name order so a cursor (namespace, name) resumes exactly.
    const namespaces = await this.namespaceNames();
    const items: StoredObject[] = [];
    for (const ns of namespaces) {
      if (q.after && ns < q.after.namespace) continue;
      const after = q.after && ns === q.after.namespace ? q.after.name : undefined;
      const page = await this.queryPartition(q.kind, ns, after, q.limit - items.length);
      items.push(...page.items);
      if (items.length >= q.limit) return { items, more: true };
    }
    return { items, more: false };
  }

  async create(object: KubeObject): Promise<StoredObject> {
    const [stored] = await this.write([{ op: 'create', object }]).catch((e: unknown) => {
      throw e instanceof TransactionError ? (e.failures[0] ?? e) : e;
    });
    return stored as StoredObject;
  }

  async update(object: KubeObject, previous: StoredObject): Promise<StoredObject> {
    const [stored] = await this.write([{ op: 'update', object, previous }]).catch((e: unknown) => {
      throw e instanceof TransactionError ? (e.failures[0] ?? e) : e;
    });
    return stored as StoredObject;
  }

  async delete(key: ObjectKey, expectedResourceVersion?: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const known = await this.rawItems([key]);
      const current = known.get(itemKey(key));
      // Deleting something absent is NotFound here (a transaction's unconditional delete is no failure).
      if (!current) throw new NotFoundError(refOfKey(key));
      try {
        await this.transactOnce([{ op: 'delete', key, expectedResourceVersion }], undefined, known);
        return;
      } catch (e) {
        if (e instanceof LostDeleteRace && attempt < DELETE_RACE_RETRIES) continue;
        const error = e instanceof LostDeleteRace ? e.error : e;
        throw error instanceof TransactionError ? (error.failures[0] ?? error) : error;
      }
    }
  }

  /**
   * Every write is the object's item and its change record in one transaction. A delete's record
   * needs the object's last state, so deletes read it first and are conditional on the version read;
   * an unconditional delete that loses that race to another write reads again.
   */
  transact(writes: TransactWrite[], fence?: NodeFence): Promise<StoredObject[]> {
    return this.write(writes, fence);
  }

  private async write(writes: TransactWrite[], fence?: NodeFence): Promise<StoredObject[]> {
    if (writes.length > MAX_TRANSACT_WRITES + (fence ? 0 : 1))
      throw new Error(
        `a transaction takes at most ${MAX_TRANSACT_WRITES} writes with a fence, ${MAX_TRANSACT_WRITES + 1} without; got ${writes.length}`,
      );
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transactOnce(writes, fence);
      } catch (e) {
        if (!(e instanceof LostDeleteRace) || attempt >= DELETE_RACE_RETRIES)
          throw e instanceof LostDeleteRace ? e.error : e;
      }
    }
  }

  private async transactOnce(
    writes: TransactWrite[],
    fence: NodeFence | undefined,
    known?: Map<string, Item>,
  ): Promise<StoredObject[]> {
    const deleted = known ?? (await this.rawItems(writes.flatMap((w) => (w.op === 'delete' ? [w.key] : []))));
    const stampMs = this.clock.now().getTime();
    const puts = writes.flatMap((w) => (w.op === 'delete' ? [] : [w]));
    const items = await Promise.all(
      puts.map((w) =>
        this.items.encode(w.object, w.op === 'update' ? Number(w.previous.metadata.resourceVersion) : undefined),
      ),
    );
    const lease = fence ? this.leaseCondition(fence) : undefined;
    let put = 0;
    const lateDeletes: { key: ObjectKey; record: RecordItem }[] = [];
    const transactItems = writes.flatMap((w): TransactItem[] => {
      if (w.op !== 'delete') {
        const item = items[put++] as Item;
        const key = keyOfObject(w.object);
        const expected = w.op === 'update' ? Number(w.previous.metadata.resourceVersion) : undefined;
        return [
          { Put: this.items.conditionalPut(item, expected) },
          {
            Put: {
              TableName: this.table,
              Item: this.records.ofWrite(
                key,
                item,
                w.op === 'create' ? 'ADDED' : 'MODIFIED',
                w.op === 'update' ? w.previous : undefined,
              ),
            },
          },
        ];
      }
      const current = deleted.get(itemKey(w.key));
      const Key = { pk: partitionKey(w.key.kind, w.key.namespace), sk: w.key.name };
      if (!current) {
        // Absent when read: a conditional delete fails as the object's absence, an unconditional one does nothing
        // unless the object appears meanwhile (then it is read again).
        return [
          {
            Delete: {
              TableName: this.table,
              Key,
              // With a version to match, an absent object is NotFound (a condition that cannot hold).
              ConditionExpression:
                w.expectedResourceVersion === undefined
                  ? 'attribute_not_exists(pk)'
                  : 'attribute_exists(pk) AND attribute_not_exists(pk)',
              ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
            },
          },
        ];
      }
      const record = this.records.ofDelete(w.key, current);
      lateDeletes.push({ key: w.key, record });
      return [
        {
          Delete: {
            TableName: this.table,
            Key,
            // The record holds the state read: the delete lands only on that version (and on the caller's, when given).
            ConditionExpression: 'rv = :expected',
            ExpressionAttributeValues: {
              ':expected': w.expectedResourceVersion !== undefined ? Number(w.expectedResourceVersion) : current.rv,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
          },
        },
        { Put: { TableName: this.table, Item: record } },
      ];
    });
    const bytes = transactItems.reduce((n, t) => n + (t.Put ? itemSize(t.Put.Item as Item) : 0), 0);
    if (bytes > TRANSACTION_BYTES)
      throw new RequestEntityTooLargeError(
        `these ${writes.length} objects and their change records are ${bytes} bytes when stored; one transaction takes ${TRANSACTION_BYTES}`,
      );
    // Where each write's first item sits in the transaction, to read its cancellation reason.
    const firstItem: number[] = [];
    let at = 0;
    for (const w of writes) {
      firstItem.push(at);
      at += w.op === 'delete' && !deleted.get(itemKey(w.key)) ? 1 : 2;
    }
    try {
      // Another transaction holding one of these items at that moment decides nothing: tried again.
      await transactRetryingConflicts(this.doc, [...transactItems, ...(lease ? [lease] : [])]);
    } catch (e) {
      if (e instanceof TransactionCanceledException) {
        const reasons = e.CancellationReasons ?? [];
        if (fence && reasons[transactItems.length]?.Code === 'ConditionalCheckFailed')
          throw new FencedWriteError(fence.nodeName);
        let raced = false;
        const failures = writes.map((w, i): StatusError | undefined => {
          const reason = reasons[firstItem[i] as number];
          if (reason?.Code !== 'ConditionalCheckFailed') return undefined;
          if (w.op !== 'delete') return conditionFailure(keyOfObject(w.object), w.op, reason.Item);
          // The object changed (or appeared) between the read and the delete: a caller who gave no version wants it gone anyway.
          if (w.expectedResourceVersion === undefined) raced = true;
          return conditionFailure(w.key, 'delete', reason.Item);
        });
        const error = new TransactionError(failures);
        if (raced) throw new LostDeleteRace(error);
        throw error;
      }
      throw e;
    }
    const stored = await Promise.all(items.map((item) => this.items.decode(item)));
    return this.announcedAgainIfLate(
      stampMs,
      stored,
      puts.map((w) => (w.op === 'update' ? w.previous : undefined)),
      lateDeletes,
    );
  }

  /**
   * A write that took longer than LATE_WRITE_MS to land may have landed below the horizon of a watch
   * that already passed it (change-log.ts): its change records are written again, later in the log
   * (change-records.ts `late`), each only while the object is still at that version (a deletion:
   * while the name stays free), so a newer change is never followed by an older one. Nothing else is
   * written and the objects keep their versions. At best effort: the write itself has landed.
   */
  private async announcedAgainIfLate(
    stampMs: number,
    stored: StoredObject[],
    previous: (StoredObject | undefined)[],
    deletes: { key: ObjectKey; record: RecordItem }[],
  ): Promise<StoredObject[]> {
    if (this.clock.now().getTime() - stampMs <= LATE_WRITE_MS) return stored;
    this.lateWrites++;
    const again = (
      key: ObjectKey,
      condition: { ConditionExpression: string; ExpressionAttributeValues?: Record<string, unknown> },
      record: RecordItem,
    ) =>
      transactRetryingConflicts(this.doc, [
        {
          ConditionCheck: {
            TableName: this.table,
            Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name },
            ...condition,
          },
        },
        { Put: { TableName: this.table, Item: this.records.late(record) } },
      ]).catch(() => undefined);
    await Promise.all([
      ...stored.map(async (o, i) => {
        const rv = Number(o.metadata.resourceVersion);
        const key = keyOfObject(o);
        const record = this.records.ofWrite(
          key,
          await this.items.encodeAt(o, rv),
          previous[i] ? 'MODIFIED' : 'ADDED',
          previous[i],
        );
        await again(key, { ConditionExpression: 'rv = :rv', ExpressionAttributeValues: { ':rv': rv } }, record);
      }),
      ...deletes.map(({ key, record }) => again(key, { ConditionExpression: 'attribute_not_exists(pk)' }, record)),
    ]).catch(() => undefined);
    return stored;
  }

  /** The stored items of these keys as they are (strongly consistent), by itemKey. */
  private async rawItems(keys: ObjectKey[]): Promise<Map<string, Item>> {
    const out = new Map<string, Item>();
    if (!keys.length) return out;
    if (keys.length === 1) {
      const key = keys[0] as ObjectKey;
      const got = await this.doc.send(
        new GetCommand({
          TableName: this.table,
          Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name },
          ConsistentRead: true,
        }),
      );
      if (got.Item) out.set(itemKey(key), got.Item as Item);
      return out;
    }
    for (const item of await this.batchGetItems(keys)) out.set(`${String(item.pk)}/${String(item.sk)}`, item);
    return out;
  }

  /** The fence's part of a transaction: the lease must be at its epoch, renewed if asked. */
  private leaseCondition(fence: NodeFence) {
    const common = {
      TableName: this.table,
      Key: { pk: LEASE_PK, sk: fence.nodeName },
      ConditionExpression: 'epoch = :epoch',
    };
    return fence.renewAtMs === undefined
      ? { ConditionCheck: { ...common, ExpressionAttributeValues: { ':epoch': fence.epoch } } }
      : {
          Update: {
            ...common,
            UpdateExpression: 'SET renew = :now',
            ExpressionAttributeValues: { ':now': fence.renewAtMs, ':epoch': fence.epoch },
          },
        };
  }

  async getMany(keys: ObjectKey[]): Promise<StoredObject[]> {
    return Promise.all((await this.batchGetItems(keys)).map((item) => this.items.decode(item)));
  }

  /** Strongly consistent BatchGets of these keys, each once. */
  private async batchGetItems(keys: ObjectKey[]): Promise<Item[]> {
    const unique = [...new Map(keys.map((k) => [itemKey(k), k])).values()];
    const items = await batchGetAll(
      this.doc,
      this.table,
      unique.map((k) => ({ pk: partitionKey(k.kind, k.namespace), sk: k.name })),
      true,
    );
    return items as Item[];
  }

  async createMany(objects: KubeObject[]): Promise<void> {
    // Transactions, not BatchWriteItem: DynamoDB Local serves a batch write ~10× slower than the same
    // transaction while other transactions run (11 events: 1.0–2.4 s against 0.1–0.2 s, measured), and
    // it held whole controller batches up. On AWS a transactional write costs 2 WRU per KB instead of 1:
    // events are ~1 KB and, aggregated, few. Each object goes with its change record.
    const stampMs = this.clock.now().getTime();
    const items = await Promise.all(objects.map((o) => this.items.encode(o, undefined)));
    const pairs = items.map((item, i) => ({
      item,
      record: this.records.ofWrite(keyOfObject(objects[i] as KubeObject), item, 'ADDED'),
    }));
    const size = (p: (typeof pairs)[number]) => itemSize(p.item) + itemSize(p.record);
    for (const chunk of chunksBy(pairs, CREATE_MANY_BATCH, CREATE_MANY_BYTES, size)) {
      await transactRetryingConflicts(
        this.doc,
        chunk.flatMap((p) => [
          { Put: { TableName: this.table, Item: p.item } },
          { Put: { TableName: this.table, Item: p.record } },
        ]),
      );
    }
    await this.announcedAgainIfLate(stampMs, await Promise.all(items.map((i) => this.items.decode(i))), [], []);
  }

  async listOwnedBy(ownerUid: string, kind?: string): Promise<StoredObject[]> {
    const page = await this.queryUpTo(
      {
        TableName: this.table,
        IndexName: GSI.byOwner,
        KeyConditionExpression: kind ? 'byOwnerPk = :u AND begins_with(byOwnerSk, :k)' : 'byOwnerPk = :u',
        ExpressionAttributeValues: { ':u': ownerUid, ...(kind ? { ':k': `${kind}#` } : {}) },
      },
      undefined,
      Number.MAX_SAFE_INTEGER,
    );
    return page.items;
  }

  async changes(
    kind: string,
    namespace: string | undefined,
    after: number,
    upTo: number,
    limit: number,
  ): Promise<ChangePage> {
    if (upTo <= after) return { changes: [], more: false };
    const namespaces =
      namespace !== undefined || !typeByKindName(kind)?.namespaced
        ? [namespace ?? '']
        : await this.namespacesWithChanges(after);
    const read = (lo: number, hi: number, n: number) =>
      Promise.all(namespaces.map((ns) => this.logPage(kind, ns, lo, hi, n))).then((pages) =>
        pages.flat().sort((a, b) => a.rv - b.rv || (a.pk < b.pk ? -1 : a.pk > b.pk ? 1 : a.sk < b.sk ? -1 : 1)),
      );
    // Each partition's first `limit` hold every record of the merged first `limit`.
    let merged = (await read(after, upTo, limit)).slice(0, limit);
    const more = merged.length === limit;
    if (more) {
      // Cut between versions, never inside one: a client goes on after the last version it was sent,
      // so every record of that version must be in this answer (versions are shared within a millisecond).
      const last = (merged.at(-1) as RecordItem).rv;
      const before = merged.filter((r) => r.rv < last);
      merged = before.length ? before : await read(last - 1, last, Number.MAX_SAFE_INTEGER);
    }
    return { changes: await Promise.all(merged.map((r) => this.records.decode(r))), more };
  }

  /** A collection's records with after < rv ≤ upTo, oldest first (strongly consistent: a landed write is seen). */
  private async logPage(kind: string, namespace: string, after: number, upTo: number, limit: number) {
    const out: RecordItem[] = [];
    let next: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
          ExpressionAttributeValues: {
            ':pk': changeLogPartition(kind, namespace),
            ':lo': versionSortKey(after + 1),
            // Past every `<upTo>#name` ('$' sorts after '#').
            ':hi': `${versionSortKey(upTo)}$`,
          },
          ConsistentRead: true,
          ExclusiveStartKey: next,
          Limit: Math.min(limit - out.length, 1000),
        }),
      );
      out.push(...((page.Items ?? []) as RecordItem[]));
      next = page.LastEvaluatedKey;
    } while (next && out.length < limit);
    return out;
  }

  /**
   * The namespaces whose records an all-namespaces watch reads: those that exist, and those deleted
   * since `after` (their objects' deletions were recorded before the namespace went).
   */
  private async namespacesWithChanges(after: number): Promise<string[]> {
    const [present, recent] = await Promise.all([
      this.namespaceNames(),
      // Also those deleted after the range: their objects' deletions may lie within it.
      this.logPage('Namespace', '', after, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER),
    ]);
    return [...new Set([...present, ...recent.map((r) => r.sk.slice(r.sk.indexOf('#') + 1))])];
  }

  currentResourceVersion(): string {
    return String(resourceVersionFloor(this.clock.now().getTime()));
  }

  private queryPartition(
    kind: string,
    namespace: string,
    afterName: string | undefined,
    limit: number,
  ): Promise<ListPage> {
    const pk = partitionKey(kind, namespace);
    return this.queryUpTo(
      {
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': pk },
        ConsistentRead: true,
      },
      afterName !== undefined ? { pk, sk: afterName } : undefined,
      limit,
    );
  }

  private listByNode(q: ListQuery): Promise<ListPage> {
    const nodeName = q.nodeName ?? '';
    const inNamespace = q.namespace !== undefined;
    return this.queryUpTo(
      {
        TableName: this.table,
        IndexName: GSI.byNode,
        KeyConditionExpression: inNamespace ? 'byNodePk = :n AND begins_with(byNodeSk, :ns)' : 'byNodePk = :n',
        ExpressionAttributeValues: { ':n': nodeName, ...(inNamespace ? { ':ns': `${q.namespace}/` } : {}) },
      },
      // A GSI's start key holds the index key and the table key.
      q.after
        ? {
            pk: partitionKey('Pod', q.after.namespace),
            sk: q.after.name,
            byNodePk: nodeName,
            byNodeSk: `${q.after.namespace}/${q.after.name}`,
          }
        : undefined,
      q.limit,
    );
  }

  /** Reads query pages until `limit` items or the end; `more` says whether the end was reached. */
  private async queryUpTo(
    input: QueryCommandInput,
    start: Record<string, unknown> | undefined,
    limit: number,
  ): Promise<ListPage> {
    const items: StoredObject[] = [];
    let next = start;
    while (items.length < limit) {
      // DynamoDB's Limit is a 32-bit count: ask in pages of at most 1,000.
      const out = await this.doc.send(
        new QueryCommand({ ...input, ExclusiveStartKey: next, Limit: Math.min(limit - items.length, 1000) }),
      );
      items.push(...(await Promise.all((out.Items ?? []).map((i) => this.items.decode(i as Item)))));
      next = out.LastEvaluatedKey;
      if (!next) return { items, more: false };
    }
    return { items, more: true };
  }

  private async namespaceNames(): Promise<string[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': partitionKey('Namespace', '') },
      ProjectionExpression: 'sk',
      ConsistentRead: true,
    });
    return items.map((i) => String(i.sk));
  }

  // The capacity ledger (dynamo-node-ledger.ts), in the same table.
  async bindPod(...a: Parameters<NodeLedger['bindPod']>) {
    const stampMs = this.clock.now().getTime();
    const stored = await this.ledger.bindPod(...a);
    await this.announcedAgainIfLate(stampMs, [stored], [a[1]], []);
    return stored;
  }
  async bindPods(...a: Parameters<NodeLedger['bindPods']>) {
    const stampMs = this.clock.now().getTime();
    const stored = await this.ledger.bindPods(...a);
    return this.announcedAgainIfLate(
      stampMs,
      stored,
      a[0].map((b) => b.previous),
      [],
    );
  }
  releasePod(nodeName: string, uid: string) {
    return this.ledger.releasePod(nodeName, uid);
  }
  removeNodeAllocation(nodeName: string) {
    return this.ledger.removeNodeAllocation(nodeName);
  }
  ensureNodeAllocation(nodeName: string) {
    return this.ledger.ensureNodeAllocation(nodeName);
  }
  getNodeAllocation(nodeName: string) {
    return this.ledger.getNodeAllocation(nodeName);
  }
  listNodeAllocations() {
    return this.ledger.listNodeAllocations();
  }
  listUnscheduledPods() {
    return this.ledger.listUnscheduledPods();
  }
}
