import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DEMAND_MS, type MetricsStore, type NodeMetricsSample } from '../metrics.js';
import { DynamoSideItems } from './side-items.js';

/**
 * One item per node in the objects table, replaced at each heartbeat while metrics are wanted: a
 * report costs one PutItem and nothing downstream (side-items.ts). A removed node's sample expires
 * after ten minutes; readers judge freshness themselves, sooner. The demand is one more item.
 */
/**
 * The stored form: tuples instead of named fields, since the item is paid per KB at every heartbeat
 * (ten pods fit in one write unit instead of two).
 */
type Compact = [
  nodeName: string,
  atMs: number,
  windowSeconds: number,
  node: [number, number] | 0,
  pods: [string, [string, number, number][]][],
];

const compact = (s: NodeMetricsSample): Compact => [
  s.nodeName,
  s.atMs,
  s.windowSeconds,
  s.node ? [s.node.cpu, s.node.memory] : 0,
  s.pods.map((p) => [p.uid, p.containers.map((c) => [c.name, c.cpu, c.memory])]),
];

const expand = ([nodeName, atMs, windowSeconds, node, pods]: Compact): NodeMetricsSample => ({
  nodeName,
  atMs,
  windowSeconds,
  ...(node ? { node: { cpu: node[0], memory: node[1] } } : {}),
  pods: pods.map(([uid, containers]) => ({
    uid,
    containers: containers.map(([name, cpu, memory]) => ({ name, cpu, memory })),
  })),
});

const DEMAND_KEY = 'cluster';
const DEMAND_CACHE_MS = 30_000;

export class DynamoMetricsStore implements MetricsStore {
  private readonly items: DynamoSideItems<Compact>;
  private readonly demand: DynamoSideItems<{ untilMs: number }>;
  /** The demand as last read, kept briefly: every heartbeat asks, and a read per sync would cost more than the answer is worth. */
  private known?: { untilMs: number; readAtMs: number };

  constructor(client: DynamoDBClient, table: string) {
    this.items = new DynamoSideItems(client, table, 'NodeMetrics#', 600);
    this.demand = new DynamoSideItems(client, table, 'MetricsDemand#', DEMAND_MS / 1000);
  }

  private async demandUntil(nowMs: number): Promise<number> {
    if (this.known && nowMs - this.known.readAtMs < DEMAND_CACHE_MS) return this.known.untilMs;
    const [d] = await this.demand.get([DEMAND_KEY]);
    this.known = { untilMs: d?.untilMs ?? 0, readAtMs: nowMs };
    return this.known.untilMs;
  }

  /** Extends the demand only once half of it has passed: one write per five minutes while metrics are read. */
  async want(nowMs: number): Promise<void> {
    if ((await this.demandUntil(nowMs)) - nowMs > DEMAND_MS / 2) return;
    const untilMs = nowMs + DEMAND_MS;
    await this.demand.put(DEMAND_KEY, { untilMs }, nowMs);
    this.known = { untilMs, readAtMs: nowMs };
  }

  async wanted(nowMs: number): Promise<boolean> {
    return (await this.demandUntil(nowMs)) > nowMs;
  }

  put(sample: NodeMetricsSample): Promise<void> {
    return this.items.put(sample.nodeName, compact(sample), sample.atMs);
  }

  async get(nodeNames: string[]): Promise<NodeMetricsSample[]> {
    return (await this.items.get(nodeNames)).map(expand);
  }

  async list(): Promise<NodeMetricsSample[]> {
    return (await this.items.list()).map(expand);
  }
}
