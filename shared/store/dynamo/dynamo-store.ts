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
  type BatchGetCommandOutput,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import { TransactionError, type StatusError } from '../../model/errors.js';
import { typeByKindName } from '../../model/kinds.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../model/types.js';
import type { Clock } from '../../util/clock.js';
import { chunksBy } from '../../util/chunks.js';
import { itemSize } from '../item-size.js';
import { resourceVersionFloor } from '../resource-version.js';
import {
  FencedWriteError,
  type ListPage,
  type ListQuery,
  type NodeFence,
  type Store,
  type TransactWrite,
} from '../store.js';
import { LEASE_PK } from './dynamo-lease-store.js';
import { DynamoNodeLedger, transactRetryingConflicts } from './dynamo-node-ledger.js';
import { conditionFailure, ObjectItems, partitionKey, type Item } from './object-items.js';
import { keyOfObject } from '../object-keys.js';
import type { NodeLedger } from '../node-ledger.js';
import { GSI } from './schema.js';
import type { SecretSealer } from '../../secrets/sealer.js';
import { translatedErrors } from './translated-errors.js';
import { backoffMs, sleep } from '../../util/retry.js';
import { queryAll } from './query-all.js';

const BATCH_GET_LIMIT = 100;
/** createMany's transactions: items and bytes (DynamoDB allows 100 items and 4 MB). */
const CREATE_MANY_BATCH = 25;
const CREATE_MANY_BYTES = 3_000_000;

/**
 * The Store on DynamoDB (etcd's role): objects as items (object-items.ts), every write conditional on
 * the version read, strongly consistent reads, sparse indexes for the hot questions, and the nodes'
 * capacity ledger in the same table (dynamo-node-ledger.ts).
 */
export class DynamoStore implements Store {
  private readonly doc: DocumentSender;
  private readonly items: ObjectItems;
  private readonly ledger: DynamoNodeLedger;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
    /** Encrypts Secret values before they are written (KMS on AWS, a local key offline); without it they are stored as given. */
    sealer?: SecretSealer,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
    this.items = new ObjectItems(table, clock, sealer);
    this.ledger = new DynamoNodeLedger(this.doc, table, this.items);
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
    const item = await this.items.encode(object, undefined);
    try {
      await this.doc.send(new PutCommand(this.items.conditionalPut(item, undefined)));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conditionFailure(keyOfObject(object), 'create', e.Item);
      throw e;
    }
    return this.items.decode(item);
  }

  async update(object: KubeObject, expectedResourceVersion: string): Promise<StoredObject> {
    const expected = Number(expectedResourceVersion);
    const item = await this.items.encode(object, expected);
    try {
      await this.doc.send(new PutCommand(this.items.conditionalPut(item, expected)));
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) throw conditionFailure(keyOfObject(object), 'update', e.Item);
      throw e;
    }
    return this.items.decode(item);
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
    const puts = writes.flatMap((w) => (w.op === 'delete' ? [] : [w]));
    const items = await Promise.all(
      puts.map((w) => this.items.encode(w.object, w.op === 'update' ? Number(w.expectedResourceVersion) : undefined)),
    );
    const lease = fence ? this.leaseCondition(fence) : undefined;
    let put = 0;
    const transactItems = writes.map((w) => {
      if (w.op !== 'delete') {
        const item = items[put++] as Item;
        return {
          Put: this.items.conditionalPut(item, w.op === 'update' ? Number(w.expectedResourceVersion) : undefined),
        };
      }
      const conditional = w.expectedResourceVersion !== undefined;
      return {
        Delete: {
          TableName: this.table,
          Key: { pk: partitionKey(w.key.kind, w.key.namespace), sk: w.key.name },
          ...(conditional
            ? {
                ConditionExpression: 'rv = :expected',
                ExpressionAttributeValues: { ':expected': Number(w.expectedResourceVersion) },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
              }
            : {}),
        },
      };
    });
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: [...transactItems, ...(lease ? [lease] : [])] }));
    } catch (e) {
      if (e instanceof TransactionCanceledException) {
        if (fence && e.CancellationReasons?.[writes.length]?.Code === 'ConditionalCheckFailed')
          throw new FencedWriteError(fence.nodeName);
        const failures = writes.map((w, i): StatusError | undefined => {
          const reason = e.CancellationReasons?.[i];
          if (reason?.Code !== 'ConditionalCheckFailed') return undefined;
          return w.op === 'delete'
            ? conditionFailure(w.key, 'delete', reason.Item)
            : conditionFailure(keyOfObject(w.object), w.op, reason.Item);
        });
        throw new TransactionError(failures);
      }
      throw e;
    }
    return Promise.all(items.map((item) => this.items.decode(item)));
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
        out.push(
          ...(await Promise.all((res.Responses?.[this.table] ?? []).map((item) => this.items.decode(item as Item)))),
        );
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
    const items = await Promise.all(objects.map((o) => this.items.encode(o, undefined)));
    for (const chunk of chunksBy(items, CREATE_MANY_BATCH, CREATE_MANY_BYTES, itemSize)) {
      await transactRetryingConflicts(
        this.doc,
        chunk.map((item) => ({ Put: { TableName: this.table, Item: item } })),
      );
    }
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
  bindPod(...a: Parameters<NodeLedger['bindPod']>) {
    return this.ledger.bindPod(...a);
  }
  bindPods(...a: Parameters<NodeLedger['bindPods']>) {
    return this.ledger.bindPods(...a);
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
