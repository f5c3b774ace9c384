import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { MetricsStore, NodeMetricsSample } from '../metrics.js';
import { DynamoSideItems } from './side-items.js';

/**
 * One item per node in the objects table, replaced at each heartbeat: a report costs one PutItem and
 * nothing downstream (side-items.ts). A removed node's sample expires after ten minutes; readers judge
 * freshness themselves, sooner.
 */
export class DynamoMetricsStore implements MetricsStore {
  private readonly items: DynamoSideItems<NodeMetricsSample>;

  constructor(client: DynamoDBClient, table: string) {
    this.items = new DynamoSideItems(client, table, 'NodeMetrics#', 600);
  }

  put(sample: NodeMetricsSample): Promise<void> {
    return this.items.put(sample.nodeName, sample, sample.atMs);
  }

  get(nodeNames: string[]): Promise<NodeMetricsSample[]> {
    return this.items.get(nodeNames);
  }

  list(): Promise<NodeMetricsSample[]> {
    return this.items.list();
  }
}
