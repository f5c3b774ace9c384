import {
  ConditionalCheckFailedException,
  TransactionCanceledException,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type BatchGetCommandOutput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import {
  AlreadyExistsError,
  CapacityConflictError,
  ConflictError,
  NotFoundError,
  RequestEntityTooLargeError,
  TransactionError,
  type ObjectRef,
  type StatusError,
} from '../../model/errors.js';
import { typeByKindName } from '../../model/kinds.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../model/types.js';
import type { Clock } from '../../util/clock.js';
import { indexKeysOf, UNSCHEDULED_SHARDS } from '../index-keys.js';
import type { Resources } from '../../model/resources.js';
import { chunksBy } from '../../util/chunks.js';
import { DYNAMODB_ITEM_LIMIT, itemSize } from '../item-size.js';
import { nextResourceVersion, resourceVersionFloor } from '../resource-version.js';
import {
  FencedWriteError,
  type ListPage,
  type ListQuery,
  type NodeFence,
  type Store,
  type TransactWrite,
} from '../store.js';
import type { AllocationEntry, NodeAllocation, PodBinding } from '../node-ledger.js';
import { LEASE_PK } from './dynamo-lease-store.js';
import { GSI } from './schema.js';
import type { SecretSealer } from '../../secrets/sealer.js';
import { translatedErrors } from './translated-errors.js';
import { backoffMs, retrying, sleep } from '../../util/retry.js';

/** The partition holding one allocation item per node (sort key: node name). */
const ALLOCATION_PK = 'NodeAllocation#';

const BATCH_GET_LIMIT = 100;
/** Retries of a transaction DynamoDB cancelled only because another one touched the same item. */
const TRANSACTION_CONFLICT_RETRIES = 5;
/** createMany's transactions: items and bytes (DynamoDB allows 100 items and 4 MB). */
const CREATE_MANY_BATCH = 25;
const CREATE_MANY_BYTES = 3_000_000;

const allocationOf = (i: Record<string, unknown>): NodeAllocation => ({
  nodeName: String(i.sk),
  requested: { cpuMilli: Number(i.cpu), memoryBytes: Number(i.mem), pods: Number(i.pods) },
  pods: (i.p ?? {}) as Record<string, AllocationEntry>,
});

/** Events are history, not state: like the kube-apiserver's --event-ttl=1h, DynamoDB's TTL removes them. */
const EVENT_TTL_SECONDS = 3600;

interface Item {
  pk: string;
  sk: string;
  rv: number;
  o: string;
  [attr: string]: string | number | undefined;
}

const partitionKey = (kind: string, namespace: string) => `${kind}#${namespace}`;
const sealContext = (key: ObjectKey) => `${key.kind}/${key.namespace}/${key.name}`;

function refOf(key: ObjectKey): ObjectRef {
  const t = typeByKindName(key.kind);
  return { resource: t?.plural ?? key.kind.toLowerCase(), group: t?.group ?? '', name: key.name };
}

const keyOfObject = (o: KubeObject): ObjectKey => ({
  kind: o.kind,
  namespace: o.metadata.namespace ?? '',
  name: o.metadata.name ?? '',
});

/** A failed condition means the name was taken (create), or the object changed or vanished since it was read. */
function conditionFailure(key: ObjectKey, op: 'create' | 'update' | 'delete', oldItem: unknown): StatusError {
  if (op === 'create') return new AlreadyExistsError(refOf(key));
  return oldItem ? new ConflictError(refOf(key)) : new NotFoundError(refOf(key));
}

export class DynamoStore implements Store {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
    /** Encrypts Secret values before they are written (KMS on AWS, a local key offline); without it they are stored as given. */
    private readonly sealer?: SecretSealer,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async get(key: ObjectKey): Promise<StoredObject | undefined> {
    const out = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name },
        ConsistentRead: true,
      }),
    );
    return out.Item ? await this.decode(out.Item as Item) : undefined;
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
    const item = await this.encode(object, undefined);
    try {
      await this.doc.send(new PutCommand(this.conditionalPut(item, undefined)));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conditionFailure(keyOfObject(object), 'create', e.Item);
      throw e;
    }
    return this.decode(item);
  }

  async update(object: KubeObject, expectedResourceVersion: string): Promise<StoredObject> {
    const expected = Number(expectedResourceVersion);
    const item = await this.encode(object, expected);
    try {
      await this.doc.send(new PutCommand(this.conditionalPut(item, expected)));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conditionFailure(keyOfObject(object), 'update', e.Item);
      throw e;
    }
    return this.decode(item);
  }

  async delete(key: ObjectKey, expectedResourceVersion?: string): Promise<void> {
    const conditional = expectedResourceVersion !== undefined;
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name },
          // Deleting something absent is NotFound, and a precondition must still hold at the moment of the delete.
          ConditionExpression: conditional ? 'rv = :expected' : 'attribute_exists(pk)',
          ExpressionAttributeValues: conditional ? { ':expected': Number(expectedResourceVersion) } : undefined,
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conditionFailure(key, 'delete', e.Item);
      throw e;
    }
  }

  async transact(writes: TransactWrite[], fence?: NodeFence): Promise<StoredObject[]> {
    const expected = writes.map((w) => (w.op === 'update' ? Number(w.expectedResourceVersion) : undefined));
    const items = await Promise.all(writes.map((w, i) => this.encode(w.object, expected[i])));
    const lease = fence ? this.leaseCondition(fence) : undefined;
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            ...items.map((item, i) => ({ Put: this.conditionalPut(item, expected[i]) })),
            ...(lease ? [lease] : []),
          ],
        }),
      );
    } catch (e) {
      if (e instanceof TransactionCanceledException) {
        if (fence && e.CancellationReasons?.[writes.length]?.Code === 'ConditionalCheckFailed')
          throw new FencedWriteError(fence.nodeName);
        const failures = writes.map((w, i): StatusError | undefined => {
          const reason = e.CancellationReasons?.[i];
          return reason?.Code === 'ConditionalCheckFailed'
            ? conditionFailure(keyOfObject(w.object), w.op, reason.Item)
            : undefined;
        });
        throw new TransactionError(failures);
      }
      throw e;
    }
    return Promise.all(items.map((item) => this.decode(item)));
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

  async bindPod(
    boundPod: KubeObject,
    expectedResourceVersion: string,
    nodeName: string,
    entry: AllocationEntry & { uid: string },
    allocatable: Resources,
  ): Promise<StoredObject> {
    const [stored] = await this.bindPods([{ boundPod, expectedResourceVersion, nodeName, entry, allocatable }]);
    return stored as StoredObject;
  }

  async bindPods(binds: PodBinding[], events: KubeObject[] = []): Promise<StoredObject[]> {
    const items = await Promise.all(binds.map((b) => this.encode(b.boundPod, Number(b.expectedResourceVersion))));
    const eventItems = await Promise.all(events.map((e) => this.encode(e, undefined)));
    // One allocation update per node, adding every pod bound to it in this transaction.
    const byNode = new Map<string, PodBinding[]>();
    for (const b of binds) byNode.set(b.nodeName, [...(byNode.get(b.nodeName) ?? []), b]);
    const nodeUpdates = [...byNode].map(([nodeName, group]) => {
      const sum = group.reduce((t, b) => ({ cpu: t.cpu + b.entry.cpuMilli, mem: t.mem + b.entry.memoryBytes }), {
        cpu: 0,
        mem: 0,
      });
      const names: Record<string, string> = {};
      const values: Record<string, unknown> = {};
      group.forEach((b, i) => {
        const { uid, ...entry } = b.entry;
        names[`#u${i}`] = uid;
        values[`:e${i}`] = entry;
      });
      const allocatable = group[0]?.allocatable as Resources;
      return {
        Update: {
          TableName: this.table,
          Key: { pk: ALLOCATION_PK, sk: nodeName },
          UpdateExpression: `SET ${group.map((_, i) => `p.#u${i} = :e${i}`).join(', ')} ADD cpu :cpu, mem :mem, pods :n`,
          // Capacity is checked where it is counted: concurrent binds cannot overcommit the node,
          // and a pod already accounted here is never counted twice.
          ConditionExpression: `attribute_exists(pk) AND ${group.map((_, i) => `attribute_not_exists(p.#u${i})`).join(' AND ')} AND cpu <= :cpuMax AND mem <= :memMax AND pods <= :podsMax`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ...values,
            ':cpu': sum.cpu,
            ':mem': sum.mem,
            ':n': group.length,
            ':cpuMax': allocatable.cpuMilli - sum.cpu,
            ':memMax': allocatable.memoryBytes - sum.mem,
            ':podsMax': allocatable.pods - group.length,
          },
        },
      };
    });
    try {
      await this.transactRetryingConflicts([
        ...items.map((item, i) => ({ Put: this.conditionalPut(item, Number(binds[i]?.expectedResourceVersion)) })),
        ...nodeUpdates,
        ...eventItems.map((item) => ({ Put: this.conditionalPut(item, undefined) })),
      ]);
    } catch (e) {
      if (!(e instanceof TransactionCanceledException)) throw e;
      const reasons = e.CancellationReasons ?? [];
      const podFailure = reasons.slice(0, binds.length).findIndex((r) => r.Code === 'ConditionalCheckFailed');
      const nodeFailure = reasons
        .slice(binds.length, binds.length + nodeUpdates.length)
        .findIndex((r) => r.Code === 'ConditionalCheckFailed');
      if (podFailure >= 0)
        throw conditionFailure(
          keyOfObject(binds[podFailure]?.boundPod as KubeObject),
          'update',
          reasons[podFailure]?.Item,
        );
      if (nodeFailure >= 0) throw new CapacityConflictError([...byNode.keys()][nodeFailure] ?? '');
      // Still contended after the retries (TransactionConflict): nothing was written, and a caller
      // (the scheduler, or pods/binding's client) may try again; not an error of the server's.
      throw new ConflictError(
        { resource: 'pods', group: '', name: binds[0]?.boundPod.metadata.name },
        'a concurrent transaction held the pod or its node; try again',
      );
    }
    return Promise.all(items.map((item) => this.decode(item)));
  }

  /**
   * A transaction, tried again after a short jittered pause when DynamoDB cancelled it only because
   * another transaction held one of its items at that moment (TransactionConflict: nothing was decided).
   */
  private async transactRetryingConflicts(
    transactItems: NonNullable<TransactWriteCommand['input']['TransactItems']>,
  ): Promise<void> {
    await retrying(() => this.doc.send(new TransactWriteCommand({ TransactItems: transactItems })), {
      retryable: (e, attempt) => {
        const reasons = e instanceof TransactionCanceledException ? (e.CancellationReasons ?? []) : [];
        const transient =
          reasons.some((r) => r.Code === 'TransactionConflict') &&
          !reasons.some((r) => r.Code === 'ConditionalCheckFailed');
        return transient && attempt < TRANSACTION_CONFLICT_RETRIES;
      },
      delayMs: (attempt) => 5 + Math.random() * 20 * (attempt + 1),
    });
  }

  async releasePod(nodeName: string, uid: string): Promise<boolean> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: ALLOCATION_PK, sk: nodeName }, ConsistentRead: true }),
    );
    const entry = (out.Item?.p as Record<string, AllocationEntry> | undefined)?.[uid];
    if (!entry) return false;
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: ALLOCATION_PK, sk: nodeName },
          UpdateExpression: 'REMOVE p.#uid ADD cpu :cpu, mem :mem, pods :one',
          // Exactly once: of two concurrent releases, only the one that still finds the entry subtracts.
          ConditionExpression: 'attribute_exists(p.#uid)',
          ExpressionAttributeNames: { '#uid': uid },
          ExpressionAttributeValues: { ':cpu': -entry.cpuMilli, ':mem': -entry.memoryBytes, ':one': -1 },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async removeNodeAllocation(nodeName: string): Promise<boolean> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { pk: ALLOCATION_PK, sk: nodeName },
          // Only an empty ledger goes: a pod bound meanwhile keeps it, and its release comes first.
          ConditionExpression: 'attribute_not_exists(pk) OR size(p) = :zero',
          ExpressionAttributeValues: { ':zero': 0 },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async ensureNodeAllocation(nodeName: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { pk: ALLOCATION_PK, sk: nodeName, cpu: 0, mem: 0, pods: 0, p: {} },
          // Never reset an allocation that exists: it holds the node's bound pods.
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (e) {
      if (!(e instanceof ConditionalCheckFailedException)) throw e;
    }
  }

  async getNodeAllocation(nodeName: string): Promise<NodeAllocation | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: ALLOCATION_PK, sk: nodeName }, ConsistentRead: true }),
    );
    return out.Item ? allocationOf(out.Item) : undefined;
  }

  async getMany(keys: ObjectKey[]): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const unique = [...new Map(keys.map((k) => [`${k.kind}#${k.namespace}/${k.name}`, k])).values()];
    for (let i = 0; i < unique.length; i += BATCH_GET_LIMIT) {
      let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
        [this.table]: {
          Keys: unique
            .slice(i, i + BATCH_GET_LIMIT)
            .map((k) => ({ pk: partitionKey(k.kind, k.namespace), sk: k.name })),
          ConsistentRead: true,
        },
      };
      // DynamoDB may answer part of a batch; the rest comes back as UnprocessedKeys to ask again.
      for (let round = 0; request && Object.keys(request).length && round < 10; round++) {
        const res: BatchGetCommandOutput = await this.doc.send(new BatchGetCommand({ RequestItems: request }));
        out.push(...(await Promise.all((res.Responses?.[this.table] ?? []).map((item) => this.decode(item as Item)))));
        request = res.UnprocessedKeys as typeof request;
        if (request && Object.keys(request).length) await sleep(backoffMs(round, { baseMs: 20, maxMs: Infinity }));
      }
    }
    return out;
  }

  async createMany(objects: KubeObject[]): Promise<void> {
    // Transactions, not BatchWriteItem: DynamoDB Local serves a batch write ~10× slower than the same
    // transaction while other transactions run (11 events: 1.0–2.4 s against 0.1–0.2 s, measured), and
    // it held whole controller batches up. On AWS a transactional write costs 2 WRU per KB instead of 1:
    // events are ~1 KB and, aggregated, few.
    const items = await Promise.all(objects.map((o) => this.encode(o, undefined)));
    for (const chunk of chunksBy(items, CREATE_MANY_BATCH, CREATE_MANY_BYTES, itemSize)) {
      await this.transactRetryingConflicts(chunk.map((item) => ({ Put: { TableName: this.table, Item: item } })));
    }
  }

  async listNodeAllocations(): Promise<NodeAllocation[]> {
    const out: NodeAllocation[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': ALLOCATION_PK },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const i of page.Items ?? []) out.push(allocationOf(i));
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
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

  async listUnscheduledPods(): Promise<ObjectKey[]> {
    const shards = Array.from({ length: UNSCHEDULED_SHARDS }, (_, i) => `unscheduled#${i}`);
    const keys = await Promise.all(
      shards.map(async (shard) => {
        const found: ObjectKey[] = [];
        let start: Record<string, unknown> | undefined;
        do {
          const page = await this.doc.send(
            new QueryCommand({
              TableName: this.table,
              IndexName: GSI.unscheduled,
              KeyConditionExpression: 'unscheduledPk = :s',
              ExpressionAttributeValues: { ':s': shard },
              ProjectionExpression: 'pk, sk',
              ExclusiveStartKey: start,
            }),
          );
          for (const i of page.Items ?? [])
            found.push({ kind: 'Pod', namespace: String(i.pk).slice('Pod#'.length), name: String(i.sk) });
          start = page.LastEvaluatedKey;
        } while (start);
        return found;
      }),
    );
    return keys.flat();
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
      items.push(...(await Promise.all((out.Items ?? []).map((i) => this.decode(i as Item)))));
      next = out.LastEvaluatedKey;
      if (!next) return { items, more: false };
    }
    return { items, more: true };
  }

  private async namespaceNames(): Promise<string[]> {
    const names: string[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': partitionKey('Namespace', '') },
          ProjectionExpression: 'sk',
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      names.push(...(out.Items ?? []).map((i) => String(i.sk)));
      start = out.LastEvaluatedKey;
    } while (start);
    return names;
  }

  /** A put that creates (expected undefined) or replaces exactly the version the caller read. */
  private conditionalPut(item: Item, expected: number | undefined) {
    const common = { TableName: this.table, Item: item, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    return expected === undefined
      ? // The name must be free: this is what makes racing creates yield exactly one winner.
        { ...common, ConditionExpression: 'attribute_not_exists(pk)' }
      : // Optimistic concurrency: only the writer who read the current version may replace it.
        { ...common, ConditionExpression: 'rv = :expected', ExpressionAttributeValues: { ':expected': expected } };
  }

  private async encode(object: KubeObject, previousRv: number | undefined): Promise<Item> {
    const rv = nextResourceVersion(previousRv, this.clock.now().getTime());
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    const key = keyOfObject(object);
    // A Secret's values are sealed into their own attribute; `o` (and with it the stream) carries no secret data.
    const split = object.kind === 'Secret' && this.sealer ? splitSecretFields(stored) : undefined;
    const sealed = split ? await this.sealer?.seal(JSON.stringify(split.fields), sealContext(key)) : undefined;
    const item: Item = {
      pk: partitionKey(key.kind, key.namespace),
      sk: key.name,
      rv,
      o: JSON.stringify(split && sealed ? split.rest : stored),
      ...(split && sealed ? { sec: sealed, secv: SEALED_FIELDS_VERSION } : {}),
      ...indexKeysOf(stored),
      ...(object.kind === 'Event' ? { ttl: Math.floor(this.clock.now().getTime() / 1000) + EVENT_TTL_SECONDS } : {}),
    };
    const size = itemSize(item);
    if (size > DYNAMODB_ITEM_LIMIT) {
      throw new RequestEntityTooLargeError(
        `${key.kind} "${key.name}" is ${size} bytes when stored; the limit is ${DYNAMODB_ITEM_LIMIT} bytes`,
      );
    }
    return item;
  }

  private async decode(item: Item): Promise<StoredObject> {
    const o = JSON.parse(item.o) as StoredObject;
    if (item.sec === undefined) return o;
    // Never hand out a Secret without its data: a caller writing it back would erase the values.
    if (!this.sealer)
      throw new Error(
        `Secret ${o.metadata.namespace}/${o.metadata.name} is encrypted, and this process has no key to open it (KUMO_KMS_KEY_ID or KUMO_SECRETS_KEY)`,
      );
    const opened = JSON.parse(await this.sealer.open(String(item.sec), sealContext(keyOfObject(o)))) as unknown;
    // Items sealed before SEALED_FIELDS_VERSION hold the data map alone.
    return joinSecretFields(
      o,
      item.secv === SEALED_FIELDS_VERSION ? (opened as SealedFields) : { data: opened },
    ) as StoredObject;
  }
}

/** `sec` holds SealedFields (not the bare data map of earlier items) when `secv` is this. */
const SEALED_FIELDS_VERSION = 2;

/**
 * Every part of a Secret that can carry its values: `data`, `stringData` (admission folds it into
 * data; kept here should any path skip that) and kubectl's last-applied-configuration annotation,
 * which holds the whole applied manifest, values included. managedFields name keys, never values.
 */
interface SealedFields {
  data?: unknown;
  stringData?: unknown;
  annotations?: Record<string, string>;
}
const SEALED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

function splitSecretFields(o: KubeObject): { fields: SealedFields; rest: KubeObject } | undefined {
  const { data, stringData, ...rest } = o as KubeObject & { data?: unknown; stringData?: unknown };
  const annotations = { ...o.metadata.annotations };
  const sealedAnnotations: Record<string, string> = {};
  for (const name of SEALED_ANNOTATIONS) {
    if (annotations[name] === undefined) continue;
    sealedAnnotations[name] = annotations[name];
    delete annotations[name];
  }
  const fields: SealedFields = {
    ...(data !== undefined ? { data } : {}),
    ...(stringData !== undefined ? { stringData } : {}),
    ...(Object.keys(sealedAnnotations).length ? { annotations: sealedAnnotations } : {}),
  };
  if (!Object.keys(fields).length) return undefined;
  const metadata = { ...rest.metadata };
  if (fields.annotations) {
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { fields, rest: { ...rest, metadata } as KubeObject };
}

function joinSecretFields(o: KubeObject, f: SealedFields): KubeObject {
  const annotations = f.annotations ? { ...o.metadata.annotations, ...f.annotations } : o.metadata.annotations;
  return {
    ...o,
    metadata: { ...o.metadata, ...(annotations ? { annotations } : {}) },
    ...(f.data !== undefined ? { data: f.data } : {}),
    ...(f.stringData !== undefined ? { stringData: f.stringData } : {}),
  };
}
