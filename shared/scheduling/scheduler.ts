import { CapacityConflictError, ConflictError, NotFoundError } from '../api/errors.js';
import { jsonEqual } from '../api/json.js';
import type { KubeObject, StoredObject } from '../api/types.js';
import { rfc3339, type Clock } from '../clock.js';
import { schedulerKeys } from '../events/dispatch.js';
import type { EventRecorder } from '../events/recorder.js';
import type { WorkQueue } from '../queue/work-queue.js';
import type { Store } from '../store/store.js';
import { schedule, type NodeInfo, type Snapshot } from './framework.js';
import { defaultPlugins, SCORING_ANNOTATION, type ScoringStrategy } from './plugins/index.js';
import { addResources, nodeAllocatable, podRequests } from './resources.js';

/**
 * The scheduler's reconciler (kube-scheduler's role). For each key it reads current state, asks the
 * pure `schedule()` for a node, and binds optimistically: pod and node capacity in one conditional
 * transaction, so concurrent invocations never overcommit a node or bind a pod twice. A lost race
 * retries on fresh state.
 */

export interface SchedulerDeps {
  store: Store;
  queue: WorkQueue;
  clock: Clock;
  events: EventRecorder;
  strategy: ScoringStrategy;
}

/** Attempts per pod before the key goes back to the queue (with SQS's back-off). */
const MAX_ATTEMPTS = 8;
const TERMINAL = new Set(['Succeeded', 'Failed']);

type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string; lastProbeTime?: string | null };

const conditionsOf = (pod: KubeObject) => ((pod.status?.conditions ?? []) as Condition[]);

function withCondition(pod: KubeObject, c: Condition): KubeObject {
  const others = conditionsOf(pod).filter((x) => x.type !== c.type);
  return { ...pod, status: { ...pod.status, conditions: [...others, c] } };
}

export class Scheduler {
  private snapshot: Snapshot | undefined;

  constructor(private readonly deps: SchedulerDeps) {}

  /** Processes a batch of keys; returns the keys that must be retried later. */
  async process(keys: string[]): Promise<string[]> {
    const failed: string[] = [];
    let wakeUp = false;
    for (const key of keys) {
      const [kind, a, b] = key.split('/');
      if (key === schedulerKeys.wakeUp) wakeUp = true;
      else if (kind === 'release' && a && b) {
        // Freed capacity may let waiting pods in.
        if (await this.deps.store.releasePod(a, b)) wakeUp = true;
        this.snapshot = undefined;
      } else if (kind === 'Pod' && a !== undefined && b) {
        if (!(await this.schedulePod(a, b))) failed.push(key);
      }
    }
    if (wakeUp) await this.wakeUp();
    return failed;
  }

  /** Re-enqueues every pod still waiting for a node (also what the periodic sweep does). */
  async wakeUp(): Promise<number> {
    const pending = await this.deps.store.listUnscheduledPods();
    await this.deps.queue.enqueue('scheduler', pending.map((k) => schedulerKeys.pod(k.namespace, k.name)));
    return pending.length;
  }

  async loadSnapshot(): Promise<Snapshot> {
    const nodes: StoredObject[] = [];
    let after: { namespace: string; name: string } | undefined;
    for (;;) {
      const page = await this.deps.store.list({ kind: 'Node', limit: 1000, after });
      nodes.push(...page.items);
      const last = page.items.at(-1);
      if (!page.more || !last) break;
      after = { namespace: '', name: last.metadata.name };
    }
    const allocations = new Map((await this.deps.store.listNodeAllocations()).map((a) => [a.nodeName, a]));
    const infos: NodeInfo[] = [];
    for (const node of nodes) {
      let alloc = allocations.get(node.metadata.name);
      if (!alloc) {
        await this.deps.store.ensureNodeAllocation(node.metadata.name);
        alloc = { nodeName: node.metadata.name, requested: { cpuMilli: 0, memoryBytes: 0, pods: 0 }, pods: {} };
      }
      infos.push({
        node,
        allocatable: nodeAllocatable(node),
        requested: alloc.requested,
        pods: Object.entries(alloc.pods).map(([uid, e]) => {
          const [namespace = '', name = ''] = e.key.split('/');
          return { uid, namespace, name, labels: e.labels ?? {} };
        }),
      });
    }
    return { nodes: infos };
  }

  /** True when the pod needs nothing more from the scheduler; false to retry the key later. */
  private async schedulePod(namespace: string, name: string): Promise<boolean> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const pod = await this.deps.store.get({ kind: 'Pod', namespace, name });
      if (!pod || pod.spec?.nodeName || pod.metadata.deletionTimestamp || TERMINAL.has(String(pod.status?.phase ?? ''))) return true;
      const snapshot = (this.snapshot ??= await this.loadSnapshot());
      const requests = podRequests(pod);
      const strategy = (pod.metadata.annotations?.[SCORING_ANNOTATION] as ScoringStrategy | undefined) ?? this.deps.strategy;
      const result = schedule({ pod, requests }, snapshot, defaultPlugins(strategy === 'MostAllocated' ? 'MostAllocated' : 'LeastAllocated'));
      if ('unschedulable' in result) {
        // The snapshot may be stale; only a fresh one may declare the pod unschedulable.
        if (attempt === 0 && this.snapshot === snapshot) {
          this.snapshot = undefined;
          continue;
        }
        await this.markUnschedulable(pod, result.message);
        return true;
      }
      const info = snapshot.nodes.find((n) => n.node.metadata.name === result.nodeName) as NodeInfo;
      const now = rfc3339(this.deps.clock.now());
      const bound = withCondition({ ...pod, spec: { ...pod.spec, nodeName: result.nodeName } }, { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: now });
      try {
        await this.deps.store.bindPod(
          bound,
          pod.metadata.resourceVersion,
          result.nodeName,
          { uid: pod.metadata.uid, key: `${namespace}/${name}`, labels: pod.metadata.labels ?? {}, cpuMilli: requests.cpuMilli, memoryBytes: requests.memoryBytes },
          info.allocatable,
        );
      } catch (e) {
        if (e instanceof CapacityConflictError) {
          this.snapshot = undefined; // another scheduler took the room: look again
          continue;
        }
        if (e instanceof ConflictError) continue; // the pod changed under us: re-read it
        if (e instanceof NotFoundError) return true;
        throw e;
      }
      // Assume the binding in the cached snapshot, as kube-scheduler's cache does, until it is reloaded.
      info.requested = addResources(info.requested, requests);
      info.pods.push({ uid: pod.metadata.uid, namespace, name, labels: pod.metadata.labels ?? {} });
      await this.deps.events.record(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${result.nodeName}`);
      return true;
    }
    return false;
  }

  /** Pending with PodScheduled=False/Unschedulable and a FailedScheduling event, written only when the verdict changes. */
  private async markUnschedulable(pod: StoredObject, message: string) {
    const current = conditionsOf(pod).find((c) => c.type === 'PodScheduled');
    const next: Condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null, lastTransitionTime: rfc3339(this.deps.clock.now()) };
    if (current && jsonEqual({ ...current, lastTransitionTime: undefined }, { ...next, lastTransitionTime: undefined })) return;
    try {
      await this.deps.store.update(withCondition(pod, next), pod.metadata.resourceVersion);
    } catch (e) {
      // The pod changed meanwhile; that change brings its own event and a fresh decision.
      if (e instanceof ConflictError || e instanceof NotFoundError) return;
      throw e;
    }
    await this.deps.events.record(pod, 'Warning', 'FailedScheduling', message);
  }
}
