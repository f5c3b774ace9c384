import type { KubeObject } from '../model/types.js';

/**
 * What a work queue message names: a tagged union, encoded to the short strings the queues carry
 * (`Deployment/default/web`) and decoded where the work is done. Dispatch, the sweep, the controller
 * manager and the scheduler all go through this codec; nobody builds or splits a key by hand.
 * Kubernetes names and namespaces never contain `/`, so the fields cannot run into each other.
 */
export type WorkKey =
  /** Reconcile this object (a controller's key; for a Pod, the scheduler's). `*` as the name: every object of the kind in the namespace. */
  | { type: 'object'; kind: string; namespace: string; name: string }
  /** The garbage collector: the dependents of this owner, which pointed at it by uid. */
  | { type: 'gc'; kind: string; namespace: string; name: string; uid: string }
  /** The node lifecycle controller: one key, a reconcile looks at every node. */
  | { type: 'nodeLifecycle' }
  /** The scheduler: re-examine every pod still waiting (the cluster changed in a way that may make room). */
  | { type: 'wakeUp' }
  /** The scheduler: free a finished or deleted pod's share of its node, exactly once. */
  | { type: 'release'; nodeName: string; uid: string }
  /** The controllers: wake every node's agent (a Service or its endpoints changed, which every node serves). */
  | { type: 'wakeNodes' }
  /** The controllers: reconcile every DaemonSet (a node came, went, or changed where daemon pods may run). */
  | { type: 'daemonSets' }
  /** The controllers: reconcile every Pending claim (a volume became available, or a class appeared or changed). */
  | { type: 'pendingClaims' }
  /** An RBAC object changed: the API containers' copies of them are stale (store/generation.ts). */
  | { type: 'rbacChanged' };

export type ObjectWorkKey = Extract<WorkKey, { type: 'object' }>;
export type GcWorkKey = Extract<WorkKey, { type: 'gc' }>;

/** The name that stands for every object of a kind in a namespace (the Endpoints controller's key for a namespace's pods). */
export const EVERY_NAME = '*';

export const workKeys = {
  object: (kind: string, namespace: string, name: string): ObjectWorkKey => ({ type: 'object', kind, namespace, name }),
  of: (o: KubeObject): ObjectWorkKey => workKeys.object(o.kind, o.metadata.namespace ?? '', o.metadata.name ?? ''),
  gc: (o: KubeObject): GcWorkKey => ({
    type: 'gc',
    kind: o.kind,
    namespace: o.metadata.namespace ?? '',
    name: o.metadata.name ?? '',
    uid: o.metadata.uid ?? '',
  }),
  nodeLifecycle: { type: 'nodeLifecycle' } as const satisfies WorkKey,
  wakeUp: { type: 'wakeUp' } as const satisfies WorkKey,
  wakeNodes: { type: 'wakeNodes' } as const satisfies WorkKey,
  daemonSets: { type: 'daemonSets' } as const satisfies WorkKey,
  pendingClaims: { type: 'pendingClaims' } as const satisfies WorkKey,
  rbacChanged: { type: 'rbacChanged' } as const satisfies WorkKey,
  release: (nodeName: string, uid: string): WorkKey => ({ type: 'release', nodeName, uid }),
};

export function encodeKey(k: WorkKey): string {
  switch (k.type) {
    case 'object':
      return `${k.kind}/${k.namespace}/${k.name}`;
    case 'gc':
      return `gc/${k.kind}/${k.namespace}/${k.name}/${k.uid}`;
    case 'nodeLifecycle':
      return 'NodeLifecycle//cluster';
    case 'wakeUp':
      return 'wakeup';
    case 'release':
      return `release/${k.nodeName}/${k.uid}`;
    case 'wakeNodes':
      return 'wakenodes';
    case 'daemonSets':
      return 'daemonsets';
    case 'pendingClaims':
      return 'pendingclaims';
    case 'rbacChanged':
      return 'rbacchanged';
  }
}

/** The key a message carries, or undefined for one this version cannot read (a bug or a stale message). */
export function decodeKey(s: string): WorkKey | undefined {
  if (s === 'wakeup') return workKeys.wakeUp;
  if (s === 'wakenodes') return workKeys.wakeNodes;
  if (s === 'daemonsets') return workKeys.daemonSets;
  if (s === 'pendingclaims') return workKeys.pendingClaims;
  if (s === 'rbacchanged') return workKeys.rbacChanged;
  if (s === 'NodeLifecycle//cluster') return workKeys.nodeLifecycle;
  const parts = s.split('/');
  const [head, a, b, c, d] = parts;
  if (head === 'gc' && parts.length === 5 && a && c && d)
    return { type: 'gc', kind: a, namespace: b ?? '', name: c, uid: d };
  if (head === 'release' && parts.length === 3 && a && b) return { type: 'release', nodeName: a, uid: b };
  if (parts.length === 3 && head && b) return { type: 'object', kind: head, namespace: a ?? '', name: b };
  return undefined;
}
