import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { LiteDocumentClient, type DocumentSender } from '../../aws/lite/dynamo-document.js';
import type { MetricsStore, NodeMetricsSample } from '../metrics.js';
import { translatedErrors } from './translated-errors.js';
import { batchGetAll, queryAll } from './query-all.js';

/**
 * Metrics live in the objects table under their own partition, one item per node replaced at each
 * heartbeat. Like leases they carry no `o` attribute, so the stream's consumers (and on AWS the
 * dispatch function's filter) ignore them: a report costs one PutItem and nothing downstream. The
 * item expires (TTL) once no agent has refreshed it for a while, so a removed node's metrics go too.
 */
export const METRICS_PK = 'NodeMetrics#';
/** How long an unrefreshed sample is kept in the table (readers judge staleness themselves, sooner). */
const KEEP_SECONDS = 600;

const sampleOf = (i: Record<string, unknown>): NodeMetricsSample | undefined => {
  try {
    return JSON.parse(String(i.m)) as NodeMetricsSample;
  } catch {
    return undefined;
  }
};

export class DynamoMetricsStore implements MetricsStore {
  private readonly doc: DocumentSender;

  constructor(
    client: DynamoDBClient,
    private readonly table: string,
  ) {
    this.doc = translatedErrors(new LiteDocumentClient(client));
  }

  async put(sample: NodeMetricsSample): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        // One string attribute: the sample is read whole, and a string costs its bytes and no more.
        Item: {
          pk: METRICS_PK,
          sk: sample.nodeName,
          m: JSON.stringify(sample),
          ttl: Math.floor(sample.atMs / 1000) + KEEP_SECONDS,
        },
      }),
    );
  }

  async get(nodeNames: string[]): Promise<NodeMetricsSample[]> {
    const keys = [...new Set(nodeNames)].map((sk) => ({ pk: METRICS_PK, sk }));
    const items = await batchGetAll(this.doc, this.table, keys, false);
    return items.flatMap((i) => sampleOf(i) ?? []);
  }

  async list(): Promise<NodeMetricsSample[]> {
    const items = await queryAll(this.doc, {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': METRICS_PK },
    });
    return items.flatMap((i) => sampleOf(i) ?? []);
  }
}
