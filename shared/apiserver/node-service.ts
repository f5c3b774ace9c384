import { createHash } from 'node:crypto';
import { AccessDeniedError, ConflictError, NotFoundError, StatusError, TransactionError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import type { ObjectService } from './object-service.js';
import { typeByKindName, type ResourceType } from '../model/kinds.js';
import { nodeNameOf } from '../model/pod-state.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import { rfc3339, type Clock } from '../util/clock.js';
import type { EventRecorder } from '../events/recorder.js';
import { TAINT_NODE_UNREACHABLE } from '../model/well-known.js';
import type { LeaseStore } from '../store/leases.js';
import type { MetricsStore } from '../store/metrics.js';
import { digestCurrent, type ServicesDigestStore } from '../store/services-digest.js';
import {
  FencedWriteError,
  MAX_TRANSACT_WRITES,
  type NodeFence,
  type Store,
  type TransactWrite,
} from '../store/store.js';
import { listAll } from '../store/list-all.js';
import {
  FENCED_REASON,
  checkNodeName,
  nodeMaySetLabel,
  parseBody,
  registerRequestSchema,
  syncRequestSchema,
  type AgentEvent,
  type PodRef,
  type PodStatusReport,
  type RegisterResponse,
  type SyncResponse,
} from '../nodes/protocol.js';
import type { NodeWakeups } from '../nodes/wakeups.js';
import { conditionsOf, findCondition } from '../model/conditions.js';
import { retrying } from '../util/retry.js';
import { nodeSpec } from '../model/typed.js';
import { Ipv4Range, type ServiceNetwork } from '../model/service-network.js';
import { serviceViewDigest, serviceViews, type ServiceView } from '../nodes/service-view.js';
import {
  ANN_LOCAL_VOLUMES_CAPACITY,
  ANN_LOCAL_VOLUMES_DIR,
  ANN_LOCAL_VOLUME_MADE,
  LOCAL_VOLUME_CLEANUP_FINALIZER,
  PV_PROTECTION_FINALIZER,
  awaitsLocalCleanup,
  localVolumeMade,
  localVolumeNodeOf,
} from '../model/storage.js';

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
  network: ServiceNetwork;
  /** Where agents' resource usage is kept for the metrics API (none: reports are dropped). */
  metrics?: MetricsStore;
  /** The recorded digest of what every node serves (none: every fetch lists Services and EndpointSlices). */
  servicesDigest?: ServicesDigestStore;
  /** The API's https URL pods use where no `kubernetes` Service is kept (KUMO_API_URL). */
  apiURL?: string;
}

export class FencedError extends StatusError {
  constructor(nodeName: string, epoch: number) {
    super(
      409,
      FENCED_REASON,
      `node "${nodeName}": epoch ${epoch} is no longer current; stop this node's pods and register again`,
      { name: nodeName, kind: 'nodes' },
    );
  }
}

const STATUS_RETRIES = 3;
/** Writes per fenced transaction (each write is two items with its change record; the lease is one). */
const FENCED_BATCH = MAX_TRANSACT_WRITES;

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
      throw new AccessDeniedError(
        `nodes "${nodeName}" is forbidden: a node may not set the labels ${forbidden.map((k) => JSON.stringify(k)).join(', ')} on itself (NodeRestriction); an administrator sets them`,
        { resource: 'nodes', group: '', name: nodeName },
      );
    await this.upsertNode(nodeName, req);
    await this.deps.store.ensureNodeAllocation(nodeName);
    const lease = await this.deps.leases.acquire(nodeName, req.holder, this.deps.clock.now().getTime());
    const wakeQueueUrl = await this.deps.wakeups.ensureQueue(nodeName);
    const { serviceCIDR, clusterDomain } = this.deps.network;
    return {
      epoch: lease.epoch,
      ...this.deps.timings,
      ...(wakeQueueUrl ? { wakeQueueUrl } : {}),
      network: { serviceCIDR, clusterDNS: new Ipv4Range(serviceCIDR).dnsAddress, clusterDomain },
      ...(this.deps.apiURL ? { apiURL: this.deps.apiURL } : {}),
    };
  }

  async sync(nodeName: string, body: unknown): Promise<SyncResponse> {
    checkNodeName(nodeName);
    const req = parseBody(syncRequestSchema, body);
    const fence: NodeFence = {
      nodeName,
      epoch: req.epoch,
      ...(req.renew ? { renewAtMs: this.deps.clock.now().getTime() } : {}),
    };
    // A fetch needs no write; its read of the pods goes alongside the lease check.
    const assigned =
      req.fetch && !req.terminated.length ? listAll(this.deps.store, { kind: 'Pod', nodeName }) : undefined;
    assigned?.catch(() => undefined); // awaited below, unless fencing fails first
    if (req.statuses.length || req.events.length) {
      // Statuses and events land with the lease check (and renewal) in one transaction: exactly fenced.
      await this.writeFenced(fence, req.statuses, this.agentEvents(nodeName, req.events));
    } else if (req.renew || req.terminated.length) await this.checkLease(fence);
    // Otherwise this is a fetch between heartbeats: fencing guards writes, and reading costs a request
    // per wake-up. Its agent renewed less than a heartbeat ago, so only a namesake agent that took the
    // node over since could have fenced it, and it learns so at its next write or renewal (≤ one heartbeat).
    if (req.terminated.length) await this.removeTerminated(nodeName, req.terminated);
    // After the lease check: a fenced agent's usage is not this node's any more. Metrics are best
    // effort: a sample lost to a throttled write is replaced at the next heartbeat, and must not fail
    // the sync that carried the node's statuses (the agent would report them again).
    const nowMs = this.deps.clock.now().getTime();
    const metrics = this.deps.metrics;
    const [, wanted] = await Promise.all([
      req.metrics && req.renew && metrics
        ? metrics
            .put({
              nodeName,
              atMs: nowMs,
              windowSeconds: req.metrics.windowSeconds,
              ...(req.metrics.node ? { node: req.metrics.node } : {}),
              pods: req.metrics.pods.map(({ pod, containers }) => ({ uid: pod.uid, containers })),
            })
            .catch(() => undefined)
        : undefined,
      req.renew && metrics ? metrics.wanted(nowMs).catch(() => false) : undefined,
    ]);
    const sendMetrics = wanted === undefined ? {} : { sendMetrics: wanted };
    const services = req.services ? this.servicesFor(req.services.digest) : undefined;
    services?.catch(() => undefined); // awaited below
    if (req.madeVolumes.length) await this.volumesMade(nodeName, req.madeVolumes);
    if (req.cleanedVolumes.length) await this.volumesCleaned(nodeName, req.cleanedVolumes);
    if (!req.fetch) return { epoch: req.epoch, ...sendMetrics, ...(services ? { services: await services } : {}) };
    const released = req.localVolumes.length ? await this.releasedVolumes(nodeName, req.localVolumes) : [];
    const withReleased = released.length ? { releasedVolumes: released } : {};
    const pods = await (assigned ?? listAll(this.deps.store, { kind: 'Pod', nodeName }));
    const digest = assignmentDigest(pods);
    const withServices = services ? { services: await services } : {};
    if (digest === req.digest)
      return { epoch: req.epoch, digest, unchanged: true, ...sendMetrics, ...withServices, ...withReleased };
    return { epoch: req.epoch, digest, pods, ...sendMetrics, ...withServices, ...withReleased };
  }

  /** Every Service with its endpoints (kube-proxy and the DNS on each node watch all of them), or only the digest when unchanged. */
  private async servicesFor(known: string | undefined): Promise<{ digest: string; views?: ServiceView[] }> {
    // One small read answers the common case: nothing changed since this node's last view.
    const digests = this.deps.servicesDigest;
    const state = await digests?.read().catch(() => undefined);
    if (state && known !== undefined && digestCurrent(state, known)) return { digest: known };
    const [services, slices] = await Promise.all([
      listAll(this.deps.store, { kind: 'Service' }),
      listAll(this.deps.store, { kind: 'EndpointSlice' }),
    ]);
    const views = serviceViews(services, slices);
    const digest = serviceViewDigest(views);
    // Recorded for the next fetches, unless a change came during this listing (then the next one lists).
    if (state && digests && (state.digest !== digest || state.digestGeneration !== state.generation))
      await digests.record(state.generation, digest).catch(() => undefined);
    return digest === known ? { digest } : { digest, views };
  }

  /** The node's local volumes being deleted (reclaim policy Delete): one read of the volumes it names. */
  private async releasedVolumes(nodeName: string, names: string[]): Promise<string[]> {
    const pvs = await this.deps.store.getMany(names.map((name) => ({ kind: 'PersistentVolume', namespace: '', name })));
    // Only once no claim is bound (pv-protection has let go) and the policy still says Delete: the data
    // of a bound volume, or of one switched to Retain, is never removed.
    return pvs
      .filter(
        (pv) =>
          pv.metadata.deletionTimestamp &&
          awaitsLocalCleanup(pv) &&
          !(pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER) &&
          pv.spec?.persistentVolumeReclaimPolicy === 'Delete' &&
          localVolumeNodeOf(pv) === nodeName,
      )
      .map((pv) => pv.metadata.name);
  }

  /** The node made these local volumes' directories: recorded on each (its own only), so their deletion waits for it. */
  private async volumesMade(nodeName: string, names: string[]): Promise<void> {
    const type = typeOf('PersistentVolume');
    for (const name of names)
      await retrying(
        async () => {
          const pv = await this.deps.store.get({ kind: 'PersistentVolume', namespace: '', name });
          if (!pv || localVolumeNodeOf(pv) !== nodeName || localVolumeMade(pv)) return;
          await this.deps.service.patch(type, '', name, 'merge', {
            metadata: {
              resourceVersion: pv.metadata.resourceVersion,
              annotations: { [ANN_LOCAL_VOLUME_MADE]: nodeName },
            },
          });
        },
        { retryable: (e, attempt) => e instanceof ConflictError && attempt < STATUS_RETRIES },
      ).catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
  }

  /** The node removed these volumes' directories: their cleanup finalizers go (only its own volumes', only while deleting). */
  private async volumesCleaned(nodeName: string, names: string[]): Promise<void> {
    const type = typeOf('PersistentVolume');
    const pvs = await this.deps.store.getMany(names.map((name) => ({ kind: 'PersistentVolume', namespace: '', name })));
    for (const first of pvs)
      await retrying(
        async () => {
          // Read again after a conflict (the binder removes pv-protection about now): the directory is
          // gone already, and the agent will not report it again.
          const pv = await this.deps.store.get({ kind: 'PersistentVolume', namespace: '', name: first.metadata.name });
          if (!pv?.metadata.deletionTimestamp || !awaitsLocalCleanup(pv) || localVolumeNodeOf(pv) !== nodeName) return;
          const rest = (pv.metadata.finalizers ?? []).filter((f) => f !== LOCAL_VOLUME_CLEANUP_FINALIZER);
          await this.deps.service.patch(type, '', pv.metadata.name, 'merge', {
            metadata: { resourceVersion: pv.metadata.resourceVersion, finalizers: rest.length ? rest : null },
          });
        },
        { retryable: (e, attempt) => e instanceof ConflictError && attempt < STATUS_RETRIES },
      ).catch((e: unknown) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
  }

  /** Renews the lease, or (between heartbeats, before deleting pods) only reads it: either way a stale epoch is fenced. */
  private async checkLease(fence: NodeFence): Promise<void> {
    const current =
      fence.renewAtMs !== undefined
        ? await this.deps.leases.renew(fence.nodeName, fence.epoch, fence.renewAtMs)
        : await this.deps.leases.get(fence.nodeName);
    if (current?.epoch !== fence.epoch) throw new FencedError(fence.nodeName, fence.epoch);
  }

  /** The agent's events as Event objects, recorded under its own component name. */
  private agentEvents(nodeName: string, events: AgentEvent[]): KubeObject[] {
    const recorder = this.deps.events(`kubelet/${nodeName}`);
    for (const e of events) {
      const about: KubeObject = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { namespace: e.pod.namespace, name: e.pod.name, uid: e.pod.uid },
      };
      recorder.record(about, e.type, e.reason, e.message, e.fieldPath);
    }
    return recorder.take();
  }

  /**
   * Writes each reported status onto the pod it describes (same uid, still bound to this node) and
   * the agent's events, in transactions that also check the node's lease epoch (and renew it when the
   * agent asks). A pod that changed since it was read rolls its transaction back; the statuses are
   * then worked out again on fresh reads.
   */
  private async writeFenced(fence: NodeFence, reports: PodStatusReport[], events: KubeObject[]): Promise<void> {
    let eventWrites: TransactWrite[] = events.map((object) => ({ op: 'create', object }));
    await retrying(
      async () => {
        const statusWrites = reports.length ? await this.statusWrites(fence.nodeName, reports) : [];
        const writes = [...statusWrites, ...eventWrites];
        try {
          // The first transaction always goes, even empty: it is the renewal and the fencing check.
          for (let i = 0; i === 0 || i < writes.length; i += FENCED_BATCH) {
            const batch = writes.slice(i, i + FENCED_BATCH);
            await this.deps.store.transact(batch, fence);
            eventWrites = eventWrites.filter((w) => !batch.includes(w)); // written: not again on a retry
          }
        } catch (e) {
          if (e instanceof FencedWriteError) throw new FencedError(fence.nodeName, fence.epoch);
          throw e;
        }
      },
      // Batches before the failed one landed: their pods now read as up to date and are skipped.
      {
        retryable: (e, attempt) => e instanceof TransactionError && attempt < STATUS_RETRIES,
        delayMs: (attempt) => 5 + Math.random() * 20 * (attempt + 1),
      },
    );
  }

  /** The status writes a report asks for: pods gone, replaced, moved or already up to date are skipped. */
  private async statusWrites(nodeName: string, reports: PodStatusReport[]): Promise<TransactWrite[]> {
    const current = await this.deps.store.getMany(
      reports.map((r) => ({ kind: 'Pod', namespace: r.pod.namespace, name: r.pod.name })),
    );
    const byKey = new Map(current.map((p) => [`${p.metadata.namespace}/${p.metadata.name}`, p]));
    const writes: TransactWrite[] = [];
    for (const r of reports) {
      const pod = byKey.get(`${r.pod.namespace}/${r.pod.name}`);
      if (!pod || pod.metadata.uid !== r.pod.uid || nodeNameOf(pod) !== nodeName) continue; // not ours to describe
      const status = { ...r.status, conditions: mergeScheduled(pod, r.status.conditions ?? []) };
      if (!jsonEqual(pod.status, status))
        writes.push({
          op: 'update',
          object: { ...pod, status },
          previous: pod,
        });
    }
    return writes;
  }

  /** Creates the Node on first registration; afterwards refreshes what the agent measures and marks it Ready. */
  private async upsertNode(nodeName: string, req: ReturnType<typeof registerRequestSchema.parse>): Promise<void> {
    const type = typeOf('Node');
    const now = rfc3339(this.deps.clock.now());
    const ready = {
      type: 'Ready',
      status: 'True',
      reason: 'KubeletReady',
      message: 'kumo agent is posting ready status',
      lastHeartbeatTime: now,
      lastTransitionTime: now,
    };
    const status = {
      capacity: req.capacity,
      allocatable: req.allocatable,
      addresses: req.addresses,
      nodeInfo: req.nodeInfo,
      conditions: [ready],
    };
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
            spec: {
              ...(req.taints.length ? { taints: req.taints } : {}),
              ...(req.providerID ? { providerID: req.providerID } : {}),
            },
          });
        } catch (err) {
          if (err instanceof StatusError && err.code === 409 && attempt < STATUS_RETRIES) continue;
          throw err;
        }
      }
      const prevReady = findCondition(current, 'Ready');
      if (prevReady?.status === 'True' && prevReady.lastTransitionTime)
        ready.lastTransitionTime = prevReady.lastTransitionTime;
      const next: KubeObject = structuredClone(current);
      next.metadata.labels = { ...current.metadata.labels, ...req.labels };
      // Where the node makes local volumes: the local provisioner reads it (none: the node offers none).
      const annotations = { ...current.metadata.annotations };
      if (req.localVolumesDir) annotations[ANN_LOCAL_VOLUMES_DIR] = req.localVolumesDir;
      else delete annotations[ANN_LOCAL_VOLUMES_DIR];
      if (req.localVolumesDir && req.localVolumesCapacity)
        annotations[ANN_LOCAL_VOLUMES_CAPACITY] = String(req.localVolumesCapacity);
      else delete annotations[ANN_LOCAL_VOLUMES_CAPACITY];
      next.metadata.annotations = Object.keys(annotations).length ? annotations : undefined;
      if (!next.metadata.annotations) delete next.metadata.annotations;
      // A node that registers again is reachable again (its new lease proves it).
      const taints = nodeSpec(current).taints ?? [];
      if (taints.some((t) => t.key === TAINT_NODE_UNREACHABLE))
        next.spec = { ...current.spec, taints: taints.filter((t) => t.key !== TAINT_NODE_UNREACHABLE) };
      const otherConditions = conditionsOf(current).filter((c) => c.type !== 'Ready');
      next.status = { ...current.status, ...status, conditions: [...otherConditions, ready] };
      if (jsonEqual(next, current)) return;
      try {
        await this.deps.store.update(next, current);
        return;
      } catch (e) {
        if (e instanceof ConflictError && attempt < STATUS_RETRIES) continue;
        throw e;
      }
    }
  }

  /** A pod whose deletion the agent has carried out disappears (the uid guards against a namesake). */
  private async removeTerminated(nodeName: string, refs: PodRef[]): Promise<void> {
    const current = await this.deps.store.getMany(
      refs.map((r) => ({ kind: 'Pod', namespace: r.namespace, name: r.name })),
    );
    await Promise.all(
      refs.map(async (r) => {
        const pod = current.find((p) => p.metadata.namespace === r.namespace && p.metadata.name === r.name);
        if (!pod || pod.metadata.uid !== r.uid || nodeNameOf(pod) !== nodeName || !pod.metadata.deletionTimestamp)
          return;
        if ((pod.metadata.finalizers ?? []).length) return; // finalizers still block it; their owners finish the delete
        try {
          await this.deps.store.delete(
            { kind: 'Pod', namespace: r.namespace, name: r.name },
            pod.metadata.resourceVersion,
          );
        } catch (e) {
          if (!(e instanceof ConflictError) && !(e instanceof NotFoundError)) throw e; // changed meanwhile: the agent reports again
        }
      }),
    );
  }
}

/** The scheduler's PodScheduled condition stays; the agent owns the others. */
function mergeScheduled(pod: KubeObject, reported: { type: string }[]): unknown[] {
  const scheduled = findCondition(pod, 'PodScheduled');
  const rest = reported.filter((c) => c.type !== 'PodScheduled');
  return scheduled ? [scheduled, ...rest] : rest;
}

/**
 * What an agent's copy of its assignments depends on: which pods, their spec generation and whether
 * they are being deleted. Status writes do not change it, so an agent's own reports never force a refetch.
 */
export function assignmentDigest(pods: KubeObject[]): string {
  const parts = pods
    .map((p) => `${p.metadata.uid}:${p.metadata.generation ?? 0}:${p.metadata.deletionTimestamp ?? ''}`)
    .sort();
  return createHash('sha256').update(parts.join('\n')).digest('base64url').slice(0, 32);
}
