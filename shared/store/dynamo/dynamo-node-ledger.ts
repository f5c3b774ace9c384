import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from '../../aws/lite/dynamo-document.js';
import { CapacityConflictError, ConflictError } from '../../model/errors.js';
import type { Resources } from '../../model/resources.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../model/types.js';
import { retrying } from '../../util/retry.js';
import { UNSCHEDULED_SHARDS } from '../index-keys.js';
import type { AllocationEntry, NodeAllocation, NodeLedger, PodBinding } from '../node-ledger.js';
import { conditionFailure, type Item, type ObjectItems } from './object-items.js';
import type { ChangeRecords } from './change-records.js';
import { keyOfObject } from '../object-keys.js';
import { GSI } from './schema.js';
import { queryAll } from './query-all.js';

/** The partition holding one allocation item per node (sort key: node name). */
const ALLOCATION_PK = 'NodeAllocation#';
/** Retries of a transaction DynamoDB cancelled only because another one touched the same item. */
const TRANSACTION_CONFLICT_RETRIES = 5;

const allocationOf = (i: Record<string, unknown>): NodeAllocation => ({
  nodeName: String(i.sk),
  requested: { cpuMilli: Number(i.cpu), memoryBytes: Number(i.mem), pods: Number(i.pods) },
  pods: (i.p ?? {}) as Record<string, AllocationEntry>,
});

/**
 * A transaction, tried again after a short jittered pause when DynamoDB cancelled it only because
 * another transaction held one of its items at that moment (TransactionConflict: nothing was decided).
 */
export async function transactRetryingConflicts(
  doc: DocumentSender,
  transactItems: NonNullable<TransactWriteCommand['input']['TransactItems']>,
): Promise<void> {
  await retrying(() => doc.send(new TransactWriteCommand({ TransactItems: transactItems })), {
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

/**
 * The nodes' capacity ledger in the objects table: one allocation item per node, changed in the same
 * conditional transaction as the binding itself, and the sharded index of pods waiting for a node.
 */
export class DynamoNodeLedger implements NodeLedger {
  constructor(
    private readonly doc: DocumentSender,
    private readonly table: string,
    private readonly items: ObjectItems,
    private readonly records: ChangeRecords,
  ) {}

  async bindPod(
    boundPod: KubeObject,
    previous: StoredObject,
    nodeName: string,
    entry: AllocationEntry & { uid: string },
    allocatable: Resources,
  ): Promise<StoredObject> {
    const [stored] = await this.bindPods([{ boundPod, previous, nodeName, entry, allocatable }]);
    return stored as StoredObject;
  }

  async bindPods(binds: PodBinding[], events: KubeObject[] = []): Promise<StoredObject[]> {
    const items = await Promise.all(
      binds.map((b) => this.items.encode(b.boundPod, Number(b.previous.metadata.resourceVersion))),
    );
    const eventItems = await Promise.all(events.map((e) => this.items.encode(e, undefined)));
    const record = (item: Item, object: KubeObject, previous?: StoredObject) => ({
      Put: {
        TableName: this.table,
        Item: this.records.ofWrite(keyOfObject(object), item, previous ? 'MODIFIED' : 'ADDED', previous),
      },
    });
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
      await transactRetryingConflicts(this.doc, [
        ...items.map((item, i) => ({
          Put: this.items.conditionalPut(item, Number(binds[i]?.previous.metadata.resourceVersion)),
        })),
        ...nodeUpdates,
        ...eventItems.map((item) => ({ Put: this.items.conditionalPut(item, undefined) })),
        // Each write's change record (change-log.ts), after the items whose cancellation reasons are read above.
        ...items.map((item, i) => record(item, (binds[i] as PodBinding).boundPod, binds[i]?.previous)),
        ...eventItems.map((item, i) => record(item, events[i] as KubeObject)),
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
    return Promise.all(items.map((item) => this.items.decode(item)));
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

  async listNodeAllocations(): Promise<NodeAllocation[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': ALLOCATION_PK },
      ConsistentRead: true,
    });
    return items.map(allocationOf);
  }

  async listUnscheduledPods(): Promise<ObjectKey[]> {
    const shards = Array.from({ length: UNSCHEDULED_SHARDS }, (_, i) => `unscheduled#${i}`);
    const items = await Promise.all(
      shards.map((shard) =>
        queryAll(this.doc, {
          TableName: this.table,
          IndexName: GSI.unscheduled,
          KeyConditionExpression: 'unscheduledPk = :s',
          ExpressionAttributeValues: { ':s': shard },
          ProjectionExpression: 'pk, sk',
        }),
      ),
    );
    return items.flat().map((i) => ({ kind: 'Pod', namespace: String(i.pk).slice('Pod#'.length), name: String(i.sk) }));
  }
}
