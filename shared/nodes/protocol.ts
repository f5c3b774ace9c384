import { z } from 'zod';
import { BadRequestError } from '../model/errors.js';
import type { KubeObject } from '../model/types.js';
import type { ServiceView } from './service-view.js';
import { causesFrom, checkedString, labels, loose, nonNegativeInt, quantity } from '../model/schemas/schema-kit.js';
import { dns1123Subdomain, qualifiedName } from '../model/names.js';
import { conditions } from '../model/schemas/workload-schemas.js';

/**
 * What a node agent and the control plane say to each other: two calls, `register` when an agent
 * starts and `sync` for everything after (heartbeat, pod status deltas, finished deletions, events,
 * and, only when asked, the node's assignments). Both sides import these shapes.
 */

export { NODE_API_PREFIX, FENCED_REASON } from './wire.js';

const taint = loose({
  key: checkedString(qualifiedName),
  value: z.string().optional(),
  effect: z.enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute']),
});

export const registerRequestSchema = z.object({
  /** Which agent process (host/pid): recorded on the lease for humans. */
  holder: z.string().max(256),
  labels: labels.default({}),
  /** Applied when the Node is first created (kubelet's --register-with-taints). */
  taints: z.array(taint).default([]),
  capacity: z.record(z.string(), quantity),
  allocatable: z.record(z.string(), quantity),
  addresses: z.array(z.object({ type: z.string(), address: z.string() })).default([]),
  nodeInfo: z.record(z.string(), z.string()).default({}),
  providerID: z.string().optional(),
  /** Where this node makes kumo.dev/local volumes (absent: its runtime mounts none). Shown on the Node. */
  localVolumesDir: z.string().startsWith('/').max(1024).optional(),
  /** What its local volumes may add up to: the local provisioner and the scheduler keep within it. */
  localVolumesCapacity: quantity.optional(),
});
export type RegisterRequest = z.input<typeof registerRequestSchema>;

export interface RegisterResponse {
  epoch: number;
  /** How often to renew the lease. */
  heartbeatSeconds: number;
  /** How often to ask for assignments even without a wake-up (a lost message costs at most this). */
  resyncSeconds: number;
  /** The node's own SQS queue to long-poll for wake-ups, when the control plane has one. */
  wakeQueueUrl?: string;
  /** The cluster's service network: the range to route, where the cluster DNS answers, its domain. */
  network?: { serviceCIDR: string; clusterDNS: string; clusterDomain: string };
  /**
   * The API's own https URL, for pods where the cluster keeps no `kubernetes` Service (on AWS: the HTTP
   * API's endpoint, not the nodes function's URL the agent talks to).
   */
  apiURL?: string;
}

const podRef = z.object({ namespace: z.string().min(1), name: z.string().min(1), uid: z.string().min(1) });
export type PodRef = z.infer<typeof podRef>;

const podStatus = loose({
  phase: z.enum(['Pending', 'Running', 'Succeeded', 'Failed', 'Unknown']),
  conditions: conditions.optional(),
  hostIP: z.string().optional(),
  podIP: z.string().optional(),
  startTime: z.string().optional(),
  message: z.string().optional(),
  reason: z.string().optional(),
  containerStatuses: z
    .array(
      loose({
        name: z.string(),
        ready: z.boolean(),
        restartCount: nonNegativeInt,
        state: z.record(z.string(), z.unknown()),
      }),
    )
    .optional(),
});

const agentEvent = z.object({
  pod: podRef,
  type: z.enum(['Normal', 'Warning']),
  reason: z.string().min(1).max(128),
  message: z.string().max(1024),
  /** Which container, as Kubernetes' fieldPath (`spec.containers{web}`). */
  fieldPath: z.string().max(256).optional(),
});

const usage = z.object({
  /** CPU in nanocores over the window (1e9 is one core busy). */
  cpu: z.number().int().nonnegative(),
  /** Working-set memory in bytes at the end of the window. */
  memory: z.number().int().nonnegative(),
});

/**
 * Resource usage over the last window, as kubelet's resource metrics endpoint gives metrics-server:
 * the node's, and each running container's by pod. Sent with the heartbeat's renewal, so metrics cost
 * no request of their own.
 */
const metricsReport = z.object({
  windowSeconds: z.number().positive().max(3600),
  node: usage.optional(),
  pods: z
    .array(
      z.object({
        pod: podRef,
        containers: z.array(usage.extend({ name: z.string().min(1).max(63) })).max(50),
      }),
    )
    // A sample is one item of at most 400 KB: 500 pods of a few containers stay far below it.
    .max(500),
});
export type MetricsReport = z.infer<typeof metricsReport>;

const volumeName = z.string().min(1).max(253);

export const syncRequestSchema = z.object({
  epoch: z.number().int().min(1),
  /**
   * Renew the lease (a write). An agent renews once per heartbeat; the syncs between (bursts of
   * status reports and fetches) only prove they hold the current epoch, which is a read. Default true.
   */
  renew: z.boolean().default(true),
  /** Ask for the node's pods; the answer says `unchanged` when `digest` still matches them. */
  fetch: z.boolean().default(false),
  digest: z.string().max(128).optional(),
  /** Ask for the Services and their endpoints (the node's data path and DNS); `unchanged` while the digest matches. */
  services: z.object({ digest: z.string().max(128).optional() }).optional(),
  statuses: z
    .array(z.object({ pod: podRef, status: podStatus }))
    .max(500)
    .default([]),
  /** Pods being deleted whose containers have stopped: the control plane removes them. */
  terminated: z.array(podRef).max(500).default([]),
  events: z.array(agentEvent).max(500).default([]),
  /** Resource usage (with a renewal, while the control plane asks for it): for the metrics API and autoscalers. */
  metrics: metricsReport.optional(),
  /** With a fetch: the local volumes this node holds on disk, to learn which are being deleted. */
  localVolumes: z.array(volumeName).max(1000).default([]),
  /** Local volumes whose directories this node made (first mount): from then on it removes them when they are deleted. */
  madeVolumes: z.array(volumeName).max(1000).default([]),
  /** Local volumes whose directories this node removed: their cleanup finalizers go. */
  cleanedVolumes: z.array(volumeName).max(1000).default([]),
});
export type SyncRequest = z.input<typeof syncRequestSchema>;
export type AgentEvent = z.infer<typeof agentEvent>;
export type PodStatusReport = z.infer<typeof syncRequestSchema>['statuses'][number];

export interface SyncResponse {
  epoch: number;
  /** Present when asked for and changed since `digest`. */
  pods?: KubeObject[];
  digest?: string;
  unchanged?: boolean;
  /** Present when asked for: the Services, or only the digest when it still matches. */
  services?: { digest: string; views?: ServiceView[] };
  /** With a renewal: whether to send resource usage with the next ones (someone reads metrics). */
  sendMetrics?: boolean;
  /** Of the local volumes the fetch named, those being deleted: remove their directories, then report them cleaned. */
  releasedVolumes?: string[];
}

export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw new BadRequestError('invalid node agent request', causesFrom(parsed.error.issues, body));
  return parsed.data;
}

export function checkNodeName(name: string): void {
  const problems = dns1123Subdomain(name);
  if (problems.length)
    throw new BadRequestError(`invalid node name ${JSON.stringify(name)}: ${problems.join('; ')}`, [
      { reason: 'FieldValueInvalid', message: problems.join('; '), field: 'metadata.name' },
    ]);
}

/** Labels a node may set on itself, as Kubernetes' NodeRestriction admission allows kubelets. */
const NODE_SETTABLE = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);

/**
 * Labels under kubernetes.io/k8s.io are the cluster's, not the node's, except the well-known ones
 * above and the kubelet./node.kubernetes.io/ prefixes; `node-restriction.kubernetes.io/` labels exist
 * precisely so that only an administrator can set them (workloads select nodes by them safely).
 */
export function nodeMaySetLabel(key: string): boolean {
  const slash = key.indexOf('/');
  if (slash < 0) return true;
  const domain = key.slice(0, slash);
  if (domain === 'node-restriction.kubernetes.io' || domain.endsWith('.node-restriction.kubernetes.io')) return false;
  const reserved = ['kubernetes.io', 'k8s.io'].some((d) => domain === d || domain.endsWith(`.${d}`));
  if (!reserved) return true;
  return NODE_SETTABLE.has(key) || domain === 'kubelet.kubernetes.io' || domain === 'node.kubernetes.io';
}
