import { ConditionalCheckFailedException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import { translatedErrors } from './translated-errors.js';
import { batchGetAll, queryAll } from './query-all.js';
import type { SideItems } from '../side-items.js';

/**
 * Small JSON documents the control plane keeps beside the API objects, under a partition of their own
 * (node metrics, autoscalers' recommendation history). Like leases they carry no `o` attribute, so the
 * stream's consumers (and on AWS the dispatch function's filter) ignore them: a write costs one PutItem
 * and nothing downstream, and no change record. Each expires (TTL) once nobody has refreshed it.
 */
export class DynamoSideItems<T> implements SideItems<T> {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
    private readonly pk: string,
    /** How long an item outlives its last write. */
    private readonly keepSeconds: number,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  private item(sk: string, value: T, nowMs: number) {
    // One string attribute: the document is read whole, and a string costs its bytes and no more.
    return { pk: this.pk, sk, m: JSON.stringify(value), at: nowMs, ttl: Math.floor(nowMs / 1000) + this.keepSeconds };
  }

  async put(sk: string, value: T, nowMs: number): Promise<void> {
    await this.doc.send(new PutCommand({ TableName: this.table, Item: this.item(sk, value, nowMs) }));
  }

  async putUnlessRecent(sk: string, value: T, nowMs: number, withinMs: number): Promise<boolean> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: this.item(sk, value, nowMs),
          ConditionExpression: 'attribute_not_exists(pk) OR attribute_not_exists(#at) OR #at <= :cutoff',
          ExpressionAttributeNames: { '#at': 'at' },
          ExpressionAttributeValues: { ':cutoff': nowMs - withinMs },
        }),
      );
      return true;
    } catch (e) {
      if (e instanceof ConditionalCheckFailedException) return false;
      throw e;
    }
  }

  /** The items of these keys that exist (eventually consistent: these documents tolerate a stale read). */
  async get(sks: string[]): Promise<T[]> {
    if (!sks.length) return [];
    const keys = [...new Set(sks)].map((sk) => ({ pk: this.pk, sk }));
    return (await batchGetAll(this.doc, this.table, keys, false)).flatMap((i) => this.decode(i));
  }

  async list(): Promise<T[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': this.pk },
    });
    return items.flatMap((i) => this.decode(i));
  }

  private decode(i: Record<string, unknown>): T[] {
    try {
      return [JSON.parse(String(i.m)) as T];
    } catch {
      return [];
    }
  }
}
