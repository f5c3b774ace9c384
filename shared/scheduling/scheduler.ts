import { podSpec } from '../model/typed.js';
import { CapacityConflictError, ConflictError, NotFoundError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import { isWaitingForNode as waiting } from '../model/pod-state.js';
import type { StoredObject } from '../model/types.js';
import { rfc3339, type Clock } from '../util/clock.js';
import { decodeKey, encodeKey, workKeys } from '../queue/work-key.js';
import type { EventRecorder } from '../events/recorder.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { ObjectStore } from '../store/store.js';
import type { NodeLedger, PodBinding } from '../store/node-ledger.js';
import { schedule, unschedulableMessage, type NodeInfo, type PodVolumeFacts, type Snapshot } from './framework.js';
import { readClaimFacts, selectNode } from './pod-claims.js';
import { claimNamesOf } from '../model/storage.js';
import type { SnapshotCache } from './snapshot.js';
import { defaultPlugins, SCORING_ANNOTATION, type ScoringStrategy } from './plugins/index.js';
import { addResources, podRequests, type Resources } from '../model/resources.js';
import { podBinding, scheduledMessage } from './binding.js';
import { findCondition, withCondition, type PodCondition } from '../model/conditions.js';

/**
 * The scheduler's reconciler (kube-scheduler's role). For each key it reads current state, asks the
 * pure `schedule()` for a node, and binds optimistically: pod and node capacity in one conditional
 * transaction, so concurrent invocations never overcommit a node or bind a pod twice. A lost race
 * retries on fresh state.
 */

export interface SchedulerDeps {
  store: ObjectStore;
  /** The nodes' capacity ledger: binds, releases and the pods still waiting. */
  ledger: NodeLedger;
  queue: WorkQueue;
  clock: Clock;
  events: EventRecorder;
  strategy: ScoringStrategy;
  /** Shared by the invocations of one warm container. */
  snapshots: SnapshotCache;
  /** Where a key that can never be worked is reported before it is dropped. */
  logError?: (message: string, error: unknown) => void;
}

/** DynamoDB's limit on the items of one transaction. */
const TRANSACTION_ITEMS = 100;
/** Binds per transaction: each pod is two items (with its change record), each node's allocation one. */
const BINDS_PER_TRANSACTION = 24;

/** Attempts per pod before the key goes back to the queue (with SQS's back-off). */
const MAX_ATTEMPTS = 8;

/** Counts a binding in the cached snapshot, as kube-scheduler's cache "assumes" a pod until the next reload. */
function assume(info: NodeInfo, pod: StoredObject, requests: Resources) {
  info.requested = addResources(info.requested, requests);
  info.pods.push({
    uid: pod.metadata.uid,
    namespace: pod.metadata.namespace ?? '',
    name: pod.metadata.name,
    labels: pod.metadata.labels ?? {},
  });
}

export class Scheduler {
  /** Keys dropped because no retry could ever make them work (not a scheduler key). */
  droppedKeys = 0;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Processes a batch of keys; returns the keys that must be retried later. */
  async process(keys: string[]): Promise<string[]> {
    const startedAt = this.deps.clock.now().getTime();
    const failed: string[] = [];
    let wakeUp = false;
    const podKeys: { namespace: string; name: string; key: string }[] = [];
    try {
      for (const key of keys) {
        const k = decodeKey(key);
        if (k?.type === 'wakeUp') {
          // A node appeared or changed: a cached snapshot would not know it.
          wakeUp = true;
          this.deps.snapshots.invalidate();
        } else if (k?.type === 'release') {
          // Freed capacity may let waiting pods in.
          if (await this.deps.ledger.releasePod(k.nodeName, k.uid)) {
            wakeUp = true;
            await this.deps.snapshots.refreshNode(k.nodeName);
          }
        } else if (k?.type === 'object' && k.kind === 'Pod')
          podKeys.push({ namespace: k.namespace, name: k.name, key });
        // Retrying a key the scheduler does not read can never succeed: it is dropped, counted and reported.
        else {
          this.droppedKeys++;
          this.deps.logError?.(
            `the scheduler does not work the key ${JSON.stringify(key)}; dropped (${this.droppedKeys} so far)`,
            undefined,
          );
        }
      }
      // One round trip reads every pod of the batch, and one transaction binds every pod placed.
      const pods = new Map(
        (await this.deps.store.getMany(podKeys.map((k) => ({ kind: 'Pod', ...k })))).map((p) => [
          `${p.metadata.namespace}/${p.metadata.name}`,
          p,
        ]),
      );
      // A batch may carry one key several times (at-least-once delivery): each pod is placed once.
      const oneByOne = await this.bindBatch([...pods.values()]);
      const retried = new Set<string>();
      for (const k of podKeys) {
        const id = `${k.namespace}/${k.name}`;
        if (!oneByOne.has(id) || retried.has(id)) continue;
        retried.add(id);
        if (!(await this.schedulePod(k.namespace, k.name, pods.get(`${k.namespace}/${k.name}`), startedAt)))
          failed.push(k.key);
      }
      if (wakeUp) await this.wakeUp();
    } finally {
      await this.deps.events.flush();
    }
    return failed;
  }

  /** Re-enqueues every pod still waiting for a node (also what the periodic sweep does). */
  async wakeUp(): Promise<number> {
    const pending = await this.deps.ledger.listUnscheduledPods();
    await this.deps.queue.enqueue(
      'scheduler',
      pending.map((k) => encodeKey(workKeys.object('Pod', k.namespace, k.name))),
    );
    return pending.length;
  }

  /**
   * Places every waiting pod of the batch on the cached snapshot and binds them all in one
   * transaction. Returns the pods left to the one-by-one path: those that fit nowhere (that verdict
   * needs a fresh snapshot) and, when the batch transaction is refused, all of them.
   */
  private async bindBatch(pods: StoredObject[]): Promise<Set<string>> {
    const oneByOne = new Set<string>();
    const { snapshot } = await this.deps.snapshots.get();
    const binds: { binding: PodBinding; info: NodeInfo; requests: Resources; pod: StoredObject }[] = [];
    for (const pod of pods) {
      const key = `${pod.metadata.namespace}/${pod.metadata.name}`;
      if (!waiting(pod)) continue;
      // Pods with claims go one by one: their volumes are read before placing them.
      if (gated(pod) || claimNamesOf(pod).length) {
        oneByOne.add(key);
        continue;
      }
      const decision = this.decide(pod, snapshot);
      if ('unschedulable' in decision) {
        oneByOne.add(key);
        continue;
      }
      assume(decision.info, pod, decision.requests);
      binds.push({ ...decision, pod });
    }
    // At most BINDS_PER_TRANSACTION pods per transaction (a batch may be larger: one invocation's keys).
    // Each node's pods stay in one transaction where they fit, so the transactions touch different
    // allocation items and go at once instead of cancelling each other; a node given more pods than
    // one transaction holds gets its own transactions after those, one by one.
    const byNode = new Map<string, typeof binds>();
    for (const b of binds) byNode.set(b.binding.nodeName, [...(byNode.get(b.binding.nodeName) ?? []), b]);
    const together: (typeof binds)[] = [];
    const after: (typeof binds)[] = [];
    for (const group of byNode.values()) {
      if (group.length > BINDS_PER_TRANSACTION) {
        for (let i = 0; i < group.length; i += BINDS_PER_TRANSACTION)
          after.push(group.slice(i, i + BINDS_PER_TRANSACTION));
        continue;
      }
      const open = together.find((t) => t.length + group.length <= BINDS_PER_TRANSACTION);
      if (open) open.push(...group);
      else together.push([...group]);
    }
    await Promise.all(together.map((chunk) => this.bindTogether(chunk, oneByOne)));
    for (const chunk of after) await this.bindTogether(chunk, oneByOne);
    return oneByOne;
  }

  /** Binds these placements in one transaction; on a refusal their pods go to the one-by-one path. */
  private async bindTogether(
    binds: { binding: PodBinding; info: NodeInfo; requests: Resources; pod: StoredObject }[],
    oneByOne: Set<string>,
  ): Promise<void> {
    // The Scheduled events go in the bind's own transaction when they fit: no round trip of their own
    // on the scheduler's critical path, and written exactly when the binds are.
    // Each pod and each event is two items (with its change record), each node's allocation one.
    const inTransaction = 4 * binds.length + new Set(binds.map((b) => b.binding.nodeName)).size <= TRANSACTION_ITEMS;
    const scheduled = inTransaction ? this.deps.events.fork() : undefined;
    for (const b of binds) scheduled?.record(b.pod, 'Normal', 'Scheduled', scheduledMessage(b.pod, b.binding.nodeName));
    try {
      await this.deps.ledger.bindPods(
        binds.map((b) => b.binding),
        scheduled?.take() ?? [],
      );
      if (!scheduled)
        for (const b of binds)
          this.deps.events.record(b.pod, 'Normal', 'Scheduled', scheduledMessage(b.pod, b.binding.nodeName));
    } catch (e) {
      // A refused bind (the pod changed or vanished, the node filled up): nothing was written. Anything
      // else (throttling, an outage) is not a refusal and goes back to the queue with its back-off.
      if (!(e instanceof ConflictError || e instanceof CapacityConflictError || e instanceof NotFoundError)) throw e;
      // Nothing was written: forget what was assumed and let each pod take the careful path.
      for (const node of new Set(binds.map((b) => b.binding.nodeName))) await this.deps.snapshots.refreshNode(node);
      for (const b of binds) oneByOne.add(`${b.pod.metadata.namespace}/${b.pod.metadata.name}`);
    }
  }

  /** Where the pod goes on this snapshot, as a binding ready to write, or why it fits nowhere. */
  private decide(
    pod: StoredObject,
    snapshot: Snapshot,
    volumes?: PodVolumeFacts,
  ): { binding: PodBinding; info: NodeInfo; requests: Resources } | { unschedulable: string } {
    const requests = podRequests(pod);
    const strategy =
      (pod.metadata.annotations?.[SCORING_ANNOTATION] as ScoringStrategy | undefined) ?? this.deps.strategy;
    const result = schedule(
      { pod, requests, ...(volumes ? { volumes } : {}) },
      snapshot,
      defaultPlugins(strategy === 'MostAllocated' ? 'MostAllocated' : 'LeastAllocated'),
    );
    if ('unschedulable' in result) return { unschedulable: result.message };
    const info = snapshot.nodes.find((n) => n.node.metadata.name === result.nodeName) as NodeInfo;
    return {
      binding: podBinding(pod, result.nodeName, info.allocatable, requests, this.deps.clock.now()),
      info,
      requests,
    };
  }

  /** True when the pod needs nothing more from the scheduler; false to retry the key later. */
  private async schedulePod(
    namespace: string,
    name: string,
    firstRead: StoredObject | undefined,
    startedAt: number,
  ): Promise<boolean> {
    let pod = firstRead;
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (attempt > 0) pod = await this.deps.store.get({ kind: 'Pod', namespace, name });
      if (!pod || !waiting(pod)) return true;
      // kube-scheduler leaves a pod with scheduling gates alone, and says so on the pod (no event).
      if (gated(pod)) {
        await this.markUnschedulable(pod, 'Scheduling is blocked due to non-empty scheduling gates', 'SchedulingGated');
        return true;
      }
      const { snapshot, loadedAt } = await this.deps.snapshots.get();
      const volumes = await readClaimFacts(this.deps.store, pod);
      if (volumes && 'problem' in volumes) {
        // Nothing a node offers helps (kube-scheduler's PreFilter): the claim's change brings the pod back.
        await this.markUnschedulable(pod, unschedulableMessage(snapshot.nodes.length, {}, volumes.problem));
        return true;
      }
      const decision = this.decide(pod, snapshot, volumes);
      if ('unschedulable' in decision) {
        // Only a snapshot read after this batch began may declare a pod unschedulable (a node may just have joined).
        if (loadedAt < startedAt) {
          await this.deps.snapshots.get(startedAt);
          continue;
        }
        await this.markUnschedulable(pod, decision.unschedulable);
        return true;
      }
      const b = decision.binding;
      if (volumes?.delayed.length) {
        // PreBind: the claims bind (or are provisioned) on this node first; their binding brings the pod back.
        if (!(await selectNode(this.deps.store, volumes, b.nodeName))) continue;
        return true;
      }
      try {
        await this.deps.ledger.bindPod(b.boundPod, b.previous, b.nodeName, b.entry, b.allocatable);
      } catch (e) {
        if (e instanceof CapacityConflictError) {
          await this.deps.snapshots.refreshNode(b.nodeName); // another scheduler took the room: look again
          continue;
        }
        if (e instanceof ConflictError) continue; // the pod changed under us: re-read it
        if (e instanceof NotFoundError) return true;
        throw e;
      }
      // Assume the binding in the shared snapshot, as kube-scheduler's cache does, until it is reloaded.
      assume(decision.info, pod, decision.requests);
      this.deps.events.record(pod, 'Normal', 'Scheduled', scheduledMessage(pod, b.nodeName));
      return true;
    }
    return false;
  }

  /** Pending with PodScheduled=False/Unschedulable and a FailedScheduling event, written only when the verdict changes. */
  private async markUnschedulable(pod: StoredObject, message: string, reason = 'Unschedulable') {
    const current = findCondition(pod, 'PodScheduled');
    const next: PodCondition = {
      type: 'PodScheduled',
      status: 'False',
      reason,
      message,
      lastProbeTime: null,
      lastTransitionTime: rfc3339(this.deps.clock.now()),
    };
    if (current && jsonEqual({ ...current, lastTransitionTime: undefined }, { ...next, lastTransitionTime: undefined }))
      return;
    try {
      await this.deps.store.update(withCondition(pod, next), pod);
    } catch (e) {
      // The pod changed meanwhile; that change brings its own event and a fresh decision.
      if (e instanceof ConflictError || e instanceof NotFoundError) return;
      throw e;
    }
    if (reason === 'Unschedulable') this.deps.events.record(pod, 'Warning', 'FailedScheduling', message);
  }
}

/** A pod whose spec.schedulingGates are not all removed yet. */
const gated = (pod: StoredObject) => (podSpec(pod).schedulingGates ?? []).length > 0;
