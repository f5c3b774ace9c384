import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { Lease, LeaseStore } from '../leases.js';
import { translatedErrors } from './translated-errors.js';
import { queryAll } from './query-all.js';

/**
 * Leases live in the objects table under their own partition. They carry no `o` attribute, so the
 * stream's consumers ignore them, and on AWS the dispatch function's filter drops them before Lambda
 * is invoked: a heartbeat costs one conditional UpdateItem and nothing downstream.
 */
export const LEASE_PK = 'NodeLease#';

const leaseOf = (i: Record<string, unknown>): Lease => ({
  nodeName: String(i.sk),
  epoch: Number(i.epoch),
  renewedAtMs: Number(i.renew),
  holder: String(i.holder ?? ''),
  expired: i.expired === true,
});

export class DynamoLeaseStore implements LeaseStore {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async acquire(nodeName: string, holder: string, nowMs: number): Promise<Lease> {
    const out = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: LEASE_PK, sk: nodeName },
        UpdateExpression:
          'SET epoch = if_not_exists(epoch, :zero) + :one, renew = :now, holder = :holder, expired = :false',
        ExpressionAttributeValues: { ':zero': 0, ':one': 1, ':now': nowMs, ':holder': holder, ':false': false },
        ReturnValues: 'ALL_NEW',
      }),
    );
    return leaseOf(out.Attributes ?? {});
  }

  async renew(nodeName: string, epoch: number, nowMs: number): Promise<Lease | undefined> {
    try {
      const out = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: LEASE_PK, sk: nodeName },
          UpdateExpression: 'SET renew = :now',
          // Fencing: only the holder of the current epoch may renew.
          ConditionExpression: 'epoch = :epoch',
          ExpressionAttributeValues: { ':now': nowMs, ':epoch': epoch },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return leaseOf(out.Attributes ?? {});
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return undefined;
      throw e;
    }
  }

  async get(nodeName: string): Promise<Lease | undefined> {
    const out = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: LEASE_PK, sk: nodeName }, ConsistentRead: true }),
    );
    return out.Item ? leaseOf(out.Item) : undefined;
  }

  async list(): Promise<Lease[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': LEASE_PK },
      ConsistentRead: true,
    });
    return items.map(leaseOf);
  }

  async expire(nodeName: string, epoch: number, renewedAtMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: LEASE_PK, sk: nodeName },
          UpdateExpression: 'SET epoch = epoch + :one, expired = :true',
          // Only if nothing renewed it since the caller judged it dead.
          ConditionExpression: 'epoch = :epoch AND renew = :renew',
          ExpressionAttributeValues: { ':one': 1, ':true': true, ':epoch': epoch, ':renew': renewedAtMs },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  async remove(nodeName: string): Promise<void> {
    await this.doc.send(new DeleteCommand({ TableName: this.table, Key: { pk: LEASE_PK, sk: nodeName } }));
  }
}
