import { NotFoundError } from '../model/errors.js';
import { formatBinaryQuantity, formatGoDuration, formatScaledQuantity } from '../model/quantity.js';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../model/selectors.js';
import type { KubeObject } from '../model/types.js';
import { rfc3339, type Clock } from '../util/clock.js';
import { listAll } from '../store/list-all.js';
import { FRESH_FOR_MS, type MetricsStore, type NodeMetricsSample, type Usage } from '../store/metrics.js';
import type { Store } from '../store/store.js';

/**
 * metrics.k8s.io/v1beta1, as metrics-server serves it (an aggregated API in Kubernetes; here the API
 * serves it itself from what agents report with their heartbeats): NodeMetrics and PodMetrics, get
 * and list, for `kubectl top` and autoscalers. Objects are joined with their samples here, so label
 * selectors and namespaces mean what they mean for Nodes and Pods.
 */

export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
const API_VERSION = `${METRICS_GROUP}/${METRICS_VERSION}`;

/** The usage as metrics-server writes it: CPU in nanocores, memory in binary units. */
export const usageOf = (u: Usage) => ({ cpu: formatScaledQuantity(u.cpu, -9), memory: formatBinaryQuantity(u.memory) });

const sampleMeta = (s: NodeMetricsSample) => ({
  timestamp: rfc3339(new Date(s.atMs)),
  window: formatGoDuration(s.windowSeconds),
});

/** The two resources, as metrics-server's APIService lists them in discovery (get and list only). */
export const METRICS_RESOURCES = [
  { name: 'nodes', kind: 'NodeMetrics', namespaced: false },
  { name: 'pods', kind: 'PodMetrics', namespaced: true },
] as const;
export const METRICS_VERBS = ['get', 'list'];

export interface MetricsQuery {
  labelSelector?: string;
  fieldSelector?: string;
}

export class MetricsApi {
  constructor(
    private readonly store: Store,
    private readonly metrics: MetricsStore,
    private readonly clock: Clock,
  ) {}

  /** A read is demand: agents report usage while someone reads it (the first read finds none yet, as metrics-server just started would). */
  private async demand(): Promise<void> {
    await this.metrics.want(this.clock.now().getTime());
  }

  private fresh(samples: NodeMetricsSample[]): Map<string, NodeMetricsSample> {
    const now = this.clock.now().getTime();
    return new Map(samples.filter((s) => now - s.atMs <= FRESH_FOR_MS).map((s) => [s.nodeName, s]));
  }

  private creation() {
    return rfc3339(this.clock.now());
  }

  private nodeMetrics(node: KubeObject, s: NodeMetricsSample & { node: Usage }) {
    return {
      kind: 'NodeMetrics',
      apiVersion: API_VERSION,
      metadata: {
        name: node.metadata.name,
        creationTimestamp: this.creation(),
        ...(node.metadata.labels ? { labels: node.metadata.labels } : {}),
      },
      ...sampleMeta(s),
      usage: usageOf(s.node),
    };
  }

  private podMetrics(pod: KubeObject, s: NodeMetricsSample) {
    const usage = s.pods.find((p) => p.uid === pod.metadata.uid);
    if (!usage) return undefined;
    return {
      kind: 'PodMetrics',
      apiVersion: API_VERSION,
      metadata: {
        name: pod.metadata.name,
        namespace: pod.metadata.namespace,
        creationTimestamp: this.creation(),
        ...(pod.metadata.labels ? { labels: pod.metadata.labels } : {}),
      },
      ...sampleMeta(s),
      containers: usage.containers.map((c) => ({ name: c.name, usage: usageOf(c) })),
    };
  }

  async listNodes(q: MetricsQuery) {
    await this.demand();
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, ['metadata.name']);
    const nodes = (await listAll(this.store, { kind: 'Node' })).filter(
      (n) => matchesLabels(labels, n.metadata.labels) && matchesFields(fields, n),
    );
    const samples = this.fresh(await this.metrics.list());
    const items = nodes.flatMap((n) => {
      const s = samples.get(n.metadata.name);
      return s?.node ? [this.nodeMetrics(n, { ...s, node: s.node })] : [];
    });
    return { kind: 'NodeMetricsList', apiVersion: API_VERSION, metadata: {}, items };
  }

  async getNode(name: string) {
    await this.demand();
    const node = await this.store.get({ kind: 'Node', namespace: '', name });
    const s = node && this.fresh(await this.metrics.get([name])).get(name);
    if (!node || !s?.node) throw new NotFoundError({ resource: 'nodemetrics', group: METRICS_GROUP, name });
    return this.nodeMetrics(node, { ...s, node: s.node });
  }

  async listPods(namespace: string | undefined, q: MetricsQuery) {
    await this.demand();
    const labels = parseLabelSelector(q.labelSelector);
    const fields = parseFieldSelector(q.fieldSelector, ['metadata.name', 'metadata.namespace']);
    const pods = (await listAll(this.store, { kind: 'Pod', namespace })).filter(
      (p) => matchesLabels(labels, p.metadata.labels) && matchesFields(fields, p),
    );
    const items = await this.forPods(pods);
    return { kind: 'PodMetricsList', apiVersion: API_VERSION, metadata: {}, items };
  }

  async getPod(namespace: string, name: string) {
    await this.demand();
    const pod = await this.store.get({ kind: 'Pod', namespace, name });
    const [m] = pod ? await this.forPods([pod]) : [];
    if (!m) throw new NotFoundError({ resource: 'podmetrics', group: METRICS_GROUP, name });
    return m;
  }

  /** The pods' metrics, read from the samples of the nodes they run on only. */
  private async forPods(pods: KubeObject[]) {
    const nodes = [...new Set(pods.flatMap((p) => (typeof p.spec?.nodeName === 'string' ? [p.spec.nodeName] : [])))];
    const samples = nodes.length ? this.fresh(await this.metrics.get(nodes)) : new Map<string, NodeMetricsSample>();
    return pods.flatMap((p) => {
      const s = samples.get(String(p.spec?.nodeName ?? ''));
      const m = s && this.podMetrics(p, s);
      return m ? [m] : [];
    });
  }
}
