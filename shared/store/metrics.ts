/**
 * The latest resource usage each node's agent reported (metrics-server's in-memory store, kept in the
 * table so every function sees it): one small item per node, replaced at each heartbeat.
 */

/**
 * A sample older than this is not used: its agent stopped reporting (metrics-server keeps only what its
 * last scrape found). Eight default heartbeats, so one late or failed report loses nothing.
 */
export const FRESH_FOR_MS = 120_000;

export interface Usage {
  /** Nanocores (1e9 is one core busy) over the window. */
  cpu: number;
  /** Working-set bytes. */
  memory: number;
}

export interface PodUsage {
  namespace: string;
  name: string;
  uid: string;
  containers: (Usage & { name: string })[];
}

export interface NodeMetricsSample {
  nodeName: string;
  /** When the control plane received it (ms since the epoch): the end of the window. */
  atMs: number;
  windowSeconds: number;
  node?: Usage;
  pods: PodUsage[];
}

export interface MetricsStore {
  put(sample: NodeMetricsSample): Promise<void>;
  /** The samples of these nodes (those that have one). */
  get(nodeNames: string[]): Promise<NodeMetricsSample[]>;
  /** Every node's sample. */
  list(): Promise<NodeMetricsSample[]>;
}
