import { ConflictError, NotFoundError } from '../../model/errors.js';
import { kindNamed } from '../../model/kinds.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';
import type { NodeWakeups } from '../../nodes/wakeups.js';
import type { LeaseStore } from '../../store/leases.js';
import { listAll } from '../../store/list-all.js';
import { inParallel } from '../../util/in-parallel.js';
import type { ControllerDeps, ReconcileResult } from '../types.js';
import { factsOf, msUntilNextStaleLease, planEvictions, planNodes, type LifecycleSettings } from './plan.js';
import { TAINT_NODE_UNREACHABLE } from '../../model/well-known.js';
import { conditionsOf, findCondition, type Condition } from '../../model/conditions.js';
import { retrying } from '../../util/retry.js';
import type { NodeLedger } from '../../store/node-ledger.js';

/** Evictions per reconcile at most; the rest follow a second later (kube's eviction rate limiter, simplified). */
const MAX_EVICTIONS_PER_RUN = 200;
const EVICTIONS_IN_FLIGHT = 10;
const RETRIES = 3;

const nodeType = () => kindNamed('Node');
const podType = () => kindNamed('Pod');

export interface NodeLifecycleDeps extends ControllerDeps {
  leases: LeaseStore;
  /** The capacity ledger: a deleted node's allocation is removed once its pods are gone. */
  ledger: NodeLedger;
  wakeups: NodeWakeups;
  settings: LifecycleSettings;
}

/**
 * kube-controller-manager's node lifecycle and taint-based eviction: a node whose agent stopped
 * renewing its lease is fenced (new epoch), marked Ready=Unknown and tainted unreachable:NoExecute;
 * its pods go once their toleration runs out, so their controllers recreate them elsewhere.
 */
export class NodeLifecycleController {
  constructor(private readonly deps: NodeLifecycleDeps) {}

  async reconcile(): Promise<ReconcileResult> {
    const now = this.deps.clock.now().getTime();
    // Allocations are read before the Nodes: registration creates a Node before its allocation, so
    // every allocation seen here whose Node exists has that Node in the list below.
    const allocations = await this.deps.ledger.listNodeAllocations();
    const [leases, nodes] = await Promise.all([this.deps.leases.list(), listAll(this.deps.store, { kind: 'Node' })]);
    const leaseOf = new Map(leases.map((l) => [l.nodeName, l]));
    const nodeByName = new Map(nodes.map((n) => [n.metadata.name, n]));
    // A deleted Node's lease and wake-up queue go with it.
    for (const l of leases)
      if (!nodeByName.has(l.nodeName))
        await Promise.all([
          this.deps.leases.remove(l.nodeName),
          this.deps.wakeups.removeQueue(l.nodeName).catch(() => undefined),
        ]);
    let next = await this.forgetDeletedNodes(
      allocations.filter((a) => !nodeByName.has(a.nodeName)).map((a) => a.nodeName),
    );
    const facts = nodes.map((n) => factsOf(n, leaseOf.get(n.metadata.name)));
    const plan = planNodes(facts, now, this.deps.settings);

    for (const name of plan.markUnreachable) {
      const lease = leaseOf.get(name);
      // Fence first: from here on the agent cannot renew or write status with its old epoch.
      if (
        !plan.evictionsPaused &&
        lease &&
        !lease.expired &&
        !(await this.deps.leases.expire(name, lease.epoch, lease.renewedAtMs))
      )
        continue; // renewed just now
      const node = await this.updateNode(name, (n) =>
        markUnreachable(n, rfc3339(new Date(now)), !plan.evictionsPaused),
      );
      if (node)
        this.deps.events.record(
          node,
          'Normal',
          'NodeNotReady',
          `Node ${name} status is now: NodeNotReady (no heartbeat for ${Math.round((now - (lease?.renewedAtMs ?? now)) / 1000)}s)`,
        );
    }
    if (plan.evictionsPaused && plan.markUnreachable.length)
      for (const name of plan.markUnreachable) {
        const node = nodeByName.get(name);
        if (node)
          this.deps.events.record(
            node,
            'Warning',
            'EvictionsPaused',
            'Most nodes stopped heartbeating at once; evictions are paused until they return (the control plane may be the one cut off)',
          );
      }
    for (const name of plan.markReachable) {
      const node = await this.updateNode(name, (n) => removeUnreachableTaint(n));
      if (node) this.deps.events.record(node, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
    }

    let budget = MAX_EVICTIONS_PER_RUN;
    for (const name of plan.evictFrom) {
      const taintedAt = facts.find((f) => f.name === name)?.taintedAtMs ?? now;
      const pods = await listAll(this.deps.store, { kind: 'Pod', nodeName: name });
      const e = planEvictions(pods, taintedAt, now, this.deps.settings.defaultTolerationMs);
      if (e.nextInMs !== undefined) next = Math.min(next ?? e.nextInMs, e.nextInMs);
      const due = e.evict.slice(0, Math.max(0, budget));
      if (due.length < e.evict.length) next = 1000;
      budget -= due.length;
      await this.deleteNow(
        due,
        'TaintManagerEviction',
        (pod) => `Marking for deletion Pod ${pod.metadata.namespace}/${pod.metadata.name}: node ${name} is unreachable`,
      );
    }
    // Evictions due later are timed precisely, and so is a lease about to go stale before the next regular check.
    const stale = msUntilNextStaleLease(facts, now, this.deps.settings);
    if (stale !== undefined) next = Math.min(next ?? stale, stale);
    return next !== undefined ? { requeueAfterMs: Math.max(100, next + 100) } : {};
  }

  /**
   * The pods and the capacity ledger of Nodes that were deleted. Pods bound to a node that no longer
   * exists are deleted at once, as Kubernetes' pod garbage collector does (gcOrphaned), so their
   * controllers replace them; once their releases have emptied the ledger it is deleted too (it stayed
   * in the table for ever). Returns when to look again while some remain.
   */
  private async forgetDeletedNodes(names: string[]): Promise<number | undefined> {
    let next: number | undefined;
    for (const name of names) {
      if (await this.deps.store.get({ kind: 'Node', namespace: '', name })) continue; // registered again meanwhile
      const pods = await listAll(this.deps.store, { kind: 'Pod', nodeName: name });
      await this.deleteNow(
        pods,
        'NodeDeleted',
        (pod) => `Deleting Pod ${pod.metadata.namespace}/${pod.metadata.name}: its node ${name} was deleted`,
      );
      // The releases of those pods arrive through the scheduler's queue; the ledger goes once they have.
      if (pods.length || !(await this.deps.ledger.removeNodeAllocation(name))) next = 2_000;
    }
    return next;
  }

  /**
   * Deletes pods at once, a few in flight (a node's pods are all due at the same moment), each with an
   * Event. The node cannot confirm a graceful stop; its agent, if it returns, stops the containers (fencing).
   */
  private async deleteNow(pods: KubeObject[], reason: string, message: (pod: KubeObject) => string): Promise<void> {
    await inParallel(pods, EVICTIONS_IN_FLIGHT, async (pod) => {
      try {
        await this.deps.service.delete(podType(), pod.metadata.namespace ?? '', pod.metadata.name ?? '', {
          gracePeriodSeconds: 0,
          preconditions: { uid: pod.metadata.uid },
        });
        this.deps.events.record(pod, 'Normal', reason, message(pod));
      } catch (err) {
        if (!(err instanceof NotFoundError) && !(err instanceof ConflictError)) throw err;
      }
    });
  }

  /** Read-modify-write of a Node (spec taints and status conditions together); undefined when gone or unchanged. */
  private async updateNode(
    name: string,
    change: (n: KubeObject) => KubeObject | undefined,
  ): Promise<StoredObject | undefined> {
    try {
      return await retrying(
        async () => {
          const current = await this.deps.store.get({ kind: nodeType().kind, namespace: '', name });
          if (!current) return undefined;
          const next = change(structuredClone(current));
          if (!next) return undefined;
          return await this.deps.store.update(next, current);
        },
        { retryable: (e, attempt) => e instanceof ConflictError && attempt < RETRIES },
      );
    } catch (e) {
      if (e instanceof NotFoundError) return undefined;
      throw e;
    }
  }
}

type Taint = { key: string; effect: string; value?: string; timeAdded?: string };

function markUnreachable(n: KubeObject, now: string, taint: boolean): KubeObject | undefined {
  const conditions = conditionsOf(n).filter((c) => c.type !== 'Ready');
  const prev = findCondition(n, 'Ready');
  const ready: Condition = {
    type: 'Ready',
    status: 'Unknown',
    reason: 'NodeStatusUnknown',
    message: 'Kubelet stopped posting node status.',
    lastHeartbeatTime: prev?.lastHeartbeatTime,
    lastTransitionTime: prev?.status === 'Unknown' ? prev.lastTransitionTime : now,
  };
  const taints = ((n.spec?.taints ?? []) as Taint[]).filter((t) => t.key !== TAINT_NODE_UNREACHABLE);
  const had = ((n.spec?.taints ?? []) as Taint[]).find(
    (t) => t.key === TAINT_NODE_UNREACHABLE && t.effect === 'NoExecute',
  );
  if (taint) taints.push(had ?? { key: TAINT_NODE_UNREACHABLE, effect: 'NoExecute', timeAdded: now });
  n.spec = { ...n.spec, taints };
  n.status = { ...n.status, conditions: [...conditions, ready] };
  return n;
}

function removeUnreachableTaint(n: KubeObject): KubeObject | undefined {
  const taints = (n.spec?.taints ?? []) as Taint[];
  if (!taints.some((t) => t.key === TAINT_NODE_UNREACHABLE)) return undefined;
  n.spec = { ...n.spec, taints: taints.filter((t) => t.key !== TAINT_NODE_UNREACHABLE) };
  return n;
}
