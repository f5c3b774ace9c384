import { createHash } from 'node:crypto';
import { AccessDeniedError, ConflictError, NotFoundError, StatusError } from '../api/errors.js';
import { jsonEqual } from '../api/json.js';
import type { ObjectService } from '../api/object-service.js';
import { typeByKindName, type ResourceType } from '../api/kinds.js';
import { nodeNameOf } from '../api/pod-state.js';
import type { KubeObject, StoredObject } from '../api/types.js';
import { rfc3339, type Clock } from '../clock.js';
import type { EventRecorder } from '../events/recorder.js';
import { UNREACHABLE_TAINT } from '../controllers/nodelifecycle/plan.js';
import type { LeaseStore } from '../store/leases.js';
import type { Store } from '../store/store.js';
import { listAll } from '../store/list-all.js';
import {
  FENCED_REASON,
  checkNodeName,
  nodeMaySetLabel,
  parseBody,
  registerRequestSchema,
  syncRequestSchema,
  type PodRef,
  type PodStatusReport,
  type RegisterResponse,
  type SyncResponse,
} from './protocol.js';
import type { NodeWakeups } from './wakeups.js';

export interface NodeTimings {
  heartbeatSeconds: number;
  resyncSeconds: number;
}

/** Defaults sized by the cost model: see bench/agent.ts for what they cost per node-month. */
export const DEFAULT_NODE_TIMINGS: NodeTimings = { heartbeatSeconds: 15, resyncSeconds: 60 };

export interface NodeServiceDeps {
  store: Store;
  service: ObjectService;
  leases: LeaseStore;
  wakeups: NodeWakeups;
  clock: Clock;
  /** Records agents' events under the agent's own component name. */
  events: (component: string) => EventRecorder;
  timings: NodeTimings;
}

export class FencedError extends StatusError {
  constructor(nodeName: string, epoch: number) {
    super(409, FENCED_REASON, `node "${nodeName}": epoch ${epoch} is no longer current; stop this node's pods and register again`, { name: nodeName, kind: 'nodes' });
  }
}

const STATUS_RETRIES = 3;

const typeOf = (kind: string): ResourceType => {
  const t = typeByKindName(kind);
  if (!t) throw new Error(`${kind} is not registered`);
  return t;
};

/**
 * The control plane's side of the node agent protocol. The cheap path matters most: a heartbeat that
 * changes nothing is one conditional lease update; pods are read only when the agent asks.
 */
export class NodeService {
  constructor(private readonly deps: NodeServiceDeps) {}

  async register(nodeName: string, body: unknown): Promise<RegisterResponse> {
    checkNodeName(nodeName);
    const req = parseBody(registerRequestSchema, body);
    const forbidden = Object.keys(req.labels).filter((k) => !nodeMaySetLabel(k));
    if (forbidden.length)
      throw new AccessDeniedError(`nodes "${nodeName}" is forbidden: a node may not set the labels ${forbidden.map((k) => JSON.stringify(k)).join(', ')} on itself (NodeRestriction); an administrator sets them`, { resource: 'nodes', group: '', name: nodeName });
    await this.upsertNode(nodeName, req);
    await this.deps.store.ensureNodeAllocation(nodeName);
    const lease = await this.deps.leases.acquire(nodeName, req.holder, this.deps.clock.now().getTime());
    const wakeQueueUrl = await this.deps.wakeups.ensureQueue(nodeName);
    return { epoch: lease.epoch, ...this.deps.timings, ...(wakeQueueUrl ? { wakeQueueUrl } : {}) };
  }

  async sync(nodeName: string, body: unknown): Promise<SyncResponse> {
    checkNodeName(nodeName);
    const req = parseBody(syncRequestSchema, body);
    const lease = await this.deps.leases.renew(nodeName, req.epoch, this.deps.clock.now().getTime());
    if (!lease) throw new FencedError(nodeName, req.epoch);
    if (req.statuses.length) await this.writeStatuses(nodeName, req.statuses);
    if (req.terminated.length) await this.removeTerminated(nodeName, req.terminated);
    if (req.events.length) {
      const recorder = this.deps.events(`kubelet/${nodeName}`);
      for (const e of req.events) {
        const about: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { namespace: e.pod.namespace, name: e.pod.name, uid: e.pod.uid } };
        recorder.record(about, e.type, e.reason, e.message, e.fieldPath);
      }
      await recorder.flush();
    }
    if (!req.fetch) return { epoch: lease.epoch };
    const pods = await listAll(this.deps.store, { kind: 'Pod', nodeName });
    const digest = assignmentDigest(pods);
    if (digest === req.digest) return { epoch: lease.epoch, digest, unchanged: true };
    return { epoch: lease.epoch, digest, pods };
  }

  /** Creates the Node on first registration; afterwards refreshes what the agent measures and marks it Ready. */
  private async upsertNode(nodeName: string, req: ReturnType<typeof registerRequestSchema.parse>): Promise<void> {
    const type = typeOf('Node');
    const now = rfc3339(this.deps.clock.now());
    const ready = { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kumo agent is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now };
    const status = { capacity: req.capacity, allocatable: req.allocatable, addresses: req.addresses, nodeInfo: req.nodeInfo, conditions: [ready] };
    for (let attempt = 0; ; attempt++) {
      let current: StoredObject;
      try {
        current = await this.deps.service.get(type, '', nodeName);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        try {
          current = await this.deps.service.create(type, undefined, {
            apiVersion: 'v1',
            kind: 'Node',
            metadata: { name: nodeName, labels: req.labels },
            spec: { ...(req.taints.length ? { taints: req.taints } : {}), ...(req.providerID ? { providerID: req.providerID } : {}) },
          });
        } catch (err) {
          if (err instanceof StatusError && err.code === 409 && attempt < STATUS_RETRIES) continue;
          throw err;
        }
      }
      const prevReady = ((current.status?.conditions ?? []) as { type: string; status: string; lastTransitionTime?: string }[]).find((c) => c.type === 'Ready');
      if (prevReady?.status === 'True' && prevReady.lastTransitionTime) ready.lastTransitionTime = prevReady.lastTransitionTime;
      const next: KubeObject = structuredClone(current);
      next.metadata.labels = { ...current.metadata.labels, ...req.labels };
      // A node that registers again is reachable again (its new lease proves it).
      const taints = (current.spec?.taints ?? []) as { key: string }[];
      if (taints.some((t) => t.key === UNREACHABLE_TAINT)) next.spec = { ...current.spec, taints: taints.filter((t) => t.key !== UNREACHABLE_TAINT) };
      const otherConditions = ((current.status?.conditions ?? []) as { type: string }[]).filter((c) => c.type !== 'Ready');
      next.status = { ...current.status, ...status, conditions: [...otherConditions, ready] };
      if (jsonEqual(next, current)) return;
      try {
        await this.deps.store.update(next, current.metadata.resourceVersion);
        return;
      } catch (e) {
        if (e instanceof ConflictError && attempt < STATUS_RETRIES) continue;
        throw e;
      }
    }
  }

  /** Writes each reported status onto the pod it describes: same uid, still bound to this node. */
  private async writeStatuses(nodeName: string, reports: PodStatusReport[]): Promise<void> {
    let pending = reports;
    for (let attempt = 0; pending.length && attempt <= STATUS_RETRIES; attempt++) {
      const current = await this.deps.store.getMany(pending.map((r) => ({ kind: 'Pod', namespace: r.pod.namespace, name: r.pod.name })));
      const byKey = new Map(current.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
      const retry: PodStatusReport[] = [];
      await Promise.all(
        pending.map(async (r) => {
          const pod = byKey.get(`${r.pod.namespace}/${r.pod.name}`);
          if (!pod || pod.metadata.uid !== r.pod.uid || nodeNameOf(pod) !== nodeName) return; // gone, replaced or moved: not ours to describe
          const status = { ...r.status, conditions: mergeScheduled(pod, r.status.conditions ?? []) };
          if (jsonEqual(pod.status, status)) return;
          try {
            await this.deps.store.update({ ...pod, status }, pod.metadata.resourceVersion);
          } catch (e) {
            if (e instanceof ConflictError) retry.push(r);
            else if (!(e instanceof NotFoundError)) throw e;
          }
        }),
      );
      pending = retry;
    }
  }

  /** A pod whose deletion the agent has carried out disappears (the uid guards against a namesake). */
  private async removeTerminated(nodeName: string, refs: PodRef[]): Promise<void> {
    const current = await this.deps.store.getMany(refs.map((r) => ({ kind: 'Pod', namespace: r.namespace, name: r.name })));
    await Promise.all(
      refs.map(async (r) => {
        const pod = current.find((p) => p.metadata.namespace === r.namespace && p.metadata.name === r.name);
        if (!pod || pod.metadata.uid !== r.uid || nodeNameOf(pod) !== nodeName || !pod.metadata.deletionTimestamp) return;
        if ((pod.metadata.finalizers ?? []).length) return; // finalizers still block it; their owners finish the delete
        try {
          await this.deps.store.delete({ kind: 'Pod', namespace: r.namespace, name: r.name }, pod.metadata.resourceVersion);
        } catch (e) {
          if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e; // changed meanwhile: the agent reports again
        }
      }),
    );
  }
}

/** The scheduler's PodScheduled condition stays; the agent owns the others. */
function mergeScheduled(pod: KubeObject, reported: { type: string }[]): unknown[] {
  const scheduled = ((pod.status?.conditions ?? []) as { type: string }[]).find((c) => c.type === 'PodScheduled');
  const rest = reported.filter((c) => c.type !== 'PodScheduled');
  return scheduled ? [scheduled, ...rest] : rest;
}

/**
 * What an agent's copy of its assignments depends on: which pods, their spec generation and whether
 * they are being deleted. Status writes do not change it, so an agent's own reports never force a refetch.
 */
export function assignmentDigest(pods: KubeObject[]): string {
  const parts = pods.map((p) => `${p.metadata.uid}:${p.metadata.generation ?? 0}:${p.metadata.deletionTimestamp ?? ''}`).sort();
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32);
}
