import type { StoredObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import type { Store } from '../store/store.js';
import type { NodeAllocation } from '../store/node-ledger.js';
import type { NodeInfo, Snapshot } from './framework.js';
import { nodeAllocatable } from '../model/resources.js';

/** Reads the cluster as the scheduler sees it: every Node, and what is bound to each (from the allocations). */
export async function loadSnapshot(store: Store): Promise<Snapshot> {
  const nodes: StoredObject[] = [];
  let after: { namespace: string; name: string } | undefined;
  for (;;) {
    const page = await store.list({ kind: 'Node', limit: 1000, after });
    nodes.push(...page.items);
    const last = page.items.at(-1);
    if (!page.more || !last) break;
    after = { namespace: '', name: last.metadata.name };
  }
  const allocations = new Map((await store.listNodeAllocations()).map((a) => [a.nodeName, a]));
  const infos: NodeInfo[] = [];
  for (const node of nodes) {
    let alloc = allocations.get(node.metadata.name);
    if (!alloc) {
      await store.ensureNodeAllocation(node.metadata.name);
      alloc = { nodeName: node.metadata.name, requested: { cpuMilli: 0, memoryBytes: 0, pods: 0 }, pods: {} };
    }
    infos.push({ node, allocatable: nodeAllocatable(node), ...usage(alloc) });
  }
  return { nodes: infos };
}

function usage(alloc: NodeAllocation): Pick<NodeInfo, 'requested' | 'pods'> {
  return {
    requested: alloc.requested,
    pods: Object.entries(alloc.pods).map(([uid, e]) => {
      const [namespace = '', name = ''] = e.key.split('/');
      return { uid, namespace, name, labels: e.labels ?? {} };
    }),
  };
}

/**
 * A snapshot shared by the scheduler invocations of one warm container, reloaded when older than
 * `maxAgeMs`. Staleness is safe: every bind re-checks capacity in DynamoDB, and a lost race refreshes
 * just the node it was lost on.
 */
export class SnapshotCache {
  private current: { snapshot: Snapshot; loadedAt: number } | undefined;
  private loading: Promise<{ snapshot: Snapshot; loadedAt: number }> | undefined;

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly maxAgeMs = 5000,
  ) {}

  /** The cached snapshot, or a fresh one when it is older than maxAge or than `notBefore`. */
  async get(notBefore = 0): Promise<{ snapshot: Snapshot; loadedAt: number }> {
    const now = this.clock.now().getTime();
    if (this.current && now - this.current.loadedAt < this.maxAgeMs && this.current.loadedAt >= notBefore)
      return this.current;
    this.loading ??= (async () => {
      const loadedAt = this.clock.now().getTime();
      const snapshot = await loadSnapshot(this.store);
      return { snapshot, loadedAt };
    })().finally(() => (this.loading = undefined));
    this.current = await this.loading;
    return this.current;
  }

  /** Re-reads one node's allocation after losing a race for it. */
  async refreshNode(nodeName: string): Promise<void> {
    const info = this.current?.snapshot.nodes.find((n) => n.node.metadata.name === nodeName);
    const alloc = await this.store.getNodeAllocation(nodeName);
    if (info && alloc) Object.assign(info, usage(alloc));
  }

  invalidate() {
    this.current = undefined;
  }
}
