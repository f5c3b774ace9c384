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

/** A pod's usage, by its uid alone: readers join it with the pods they read (every byte is paid per heartbeat). */
export interface PodUsage {
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

/**
 * Agents report usage only while someone reads it: an HPA evaluates, or `kubectl top` asked within
 * this long. Idle clusters pay nothing for metrics.
 */
export const DEMAND_MS = 600_000;

export interface MetricsStore {
  /** Says metrics are read now: agents report them for the next DEMAND_MS. */
  want(nowMs: number): Promise<void>;
  /** Whether agents should report usage (someone read it within DEMAND_MS). */
  wanted(nowMs: number): Promise<boolean>;
  put(sample: NodeMetricsSample): Promise<void>;
  /** The samples of these nodes (those that have one). */
  get(nodeNames: string[]): Promise<NodeMetricsSample[]>;
  /** Every node's sample. */
  list(): Promise<NodeMetricsSample[]>;
}
