import { ConditionalCheckFailedException, TransactionCanceledException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  RequestEntityTooLargeError,
  TransactionError,
  type ObjectRef,
  type StatusError,
} from '../../api/errors.js';
import { typeByKindName } from '../../api/kinds.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../api/types.js';
import type { Clock } from '../../clock.js';
import { indexKeysOf } from '../index-keys.js';
import { DYNAMODB_ITEM_LIMIT, itemSize } from '../item-size.js';
import { nextResourceVersion } from '../resource-version.js';
import type { ListPage, ListQuery, Store, TransactWrite } from '../store.js';
import { GSI } from './schema.js';

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

function refOf(key: ObjectKey): ObjectRef {
  const t = typeByKindName(key.kind);
  return { resource: t?.plural ?? key.kind.toLowerCase(), group: t?.group ?? '', name: key.name };
}

const keyOfObject = (o: KubeObject): ObjectKey => ({ kind: o.kind, namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' });

/** A failed condition means the name was taken (create), or the object changed or vanished since it was read. */
function conditionFailure(key: ObjectKey, op: 'create' | 'update' | 'delete', oldItem: unknown): StatusError {
  if (op === 'create') return new AlreadyExistsError(refOf(key));
  return oldItem ? new ConflictError(refOf(key)) : new NotFoundError(refOf(key));
}

export class DynamoStore implements Store {
  private readonly doc: DynamoDBDocumentClient;
  private highestResourceVersion = 0;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly clock: Clock,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async get(key: ObjectKey): Promise<StoredObject | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: partitionKey(key.kind, key.namespace), sk: key.name }, ConsistentRead: true }),
    );
    return out.Item ? this.decode(out.Item as Item) : undefined;
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
    const item = this.encode(object, undefined);
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
    const item = this.encode(object, expected);
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

  async transact(writes: TransactWrite[]): Promise<StoredObject[]> {
    const expected = writes.map((w) => (w.op === 'update' ? Number(w.expectedResourceVersion) : undefined));
    const items = writes.map((w, i) => this.encode(w.object, expected[i]));
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: items.map((item, i) => ({ Put: this.conditionalPut(item, expected[i]) })) }));
    } catch (e) {
      if (e instanceof TransactionCanceledException) {
        const failures = writes.map((w, i): StatusError | undefined => {
          const reason = e.CancellationReasons?.[i];
          return reason?.Code === 'ConditionalCheckFailed' ? conditionFailure(keyOfObject(w.object), w.op, reason.Item) : undefined;
        });
        throw new TransactionError(failures);
      }
      throw e;
    }
    return items.map((item) => this.decode(item));
  }

  currentResourceVersion(): string {
    return String(nextResourceVersion(this.highestResourceVersion, this.clock.now().getTime()));
  }

  private queryPartition(kind: string, namespace: string, afterName: string | undefined, limit: number): Promise<ListPage> {
    const pk = partitionKey(kind, namespace);
    return this.queryUpTo(
      { TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true },
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
      q.after ? { pk: partitionKey('Pod', q.after.namespace), sk: q.after.name, byNodePk: nodeName, byNodeSk: `${q.after.namespace}/${q.after.name}` } : undefined,
      q.limit,
    );
  }

  /** Reads query pages until `limit` items or the end; `more` says whether the end was reached. */
  private async queryUpTo(input: QueryCommandInput, start: Record<string, unknown> | undefined, limit: number): Promise<ListPage> {
    const items: StoredObject[] = [];
    let next = start;
    while (items.length < limit) {
      const out = await this.doc.send(new QueryCommand({ ...input, ExclusiveStartKey: next, Limit: limit - items.length }));
      items.push(...(out.Items ?? []).map((i) => this.decode(i as Item)));
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

  private encode(object: KubeObject, previousRv: number | undefined): Item {
    const rv = nextResourceVersion(previousRv, this.clock.now().getTime());
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    const key = keyOfObject(object);
    const item: Item = {
      pk: partitionKey(key.kind, key.namespace),
      sk: key.name,
      rv,
      o: JSON.stringify(stored),
      ...indexKeysOf(stored),
      ...(object.kind === 'Event' ? { ttl: Math.floor(this.clock.now().getTime() / 1000) + EVENT_TTL_SECONDS } : {}),
    };
    const size = itemSize(item);
    if (size > DYNAMODB_ITEM_LIMIT) {
      throw new RequestEntityTooLargeError(`${key.kind} "${key.name}" is ${size} bytes when stored; the limit is ${DYNAMODB_ITEM_LIMIT} bytes`);
    }
    return item;
  }

  private decode(item: Item): StoredObject {
    if (item.rv > this.highestResourceVersion) this.highestResourceVersion = item.rv;
    return JSON.parse(item.o) as StoredObject;
  }
}
