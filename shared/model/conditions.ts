import type { NodeCondition, PodCondition as K8sPodCondition } from 'kubernetes-types/core/v1.js';
import type { KubeObject } from './types.js';

/**
 * Conditions, as Kubernetes' types define them (kubernetes-types, generated from its OpenAPI): the one
 * place that reads and writes `status.conditions`, and says whether a pod or a node is Ready.
 */

/** A condition of any kind: pods' and nodes' (and the workloads', which carry the same fields). */
export type Condition = K8sPodCondition & Pick<NodeCondition, 'lastHeartbeatTime'> & { lastUpdateTime?: string };
/** The scheduler writes `lastProbeTime: null`, as kube-scheduler does. */
export type PodCondition = Omit<K8sPodCondition, 'lastProbeTime'> & { lastProbeTime?: string | null };

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The object's conditions; whatever is not a list of objects with a type reads as none. */
export function conditionsOf(o: KubeObject | undefined): Condition[] {
  const list = isObject(o?.status) ? o.status.conditions : undefined;
  return Array.isArray(list) ? (list.filter((c) => isObject(c) && typeof c.type === 'string') as Condition[]) : [];
}

export const findCondition = (o: KubeObject | undefined, type: string): Condition | undefined =>
  conditionsOf(o).find((c) => c.type === type);

/** The object with condition `c` in place of any of its type. */
export function withCondition<T extends KubeObject>(o: T, c: Condition | PodCondition): T {
  return { ...o, status: { ...o.status, conditions: [...conditionsOf(o).filter((x) => x.type !== c.type), c] } };
}

/** Kubernetes' podutil.IsPodReady: the Ready condition is True. */
export const isPodReady = (pod: KubeObject | undefined) => findCondition(pod, 'Ready')?.status === 'True';

/** The node's Ready status: `True`, `False`, `Unknown`, or undefined before the agent first reported. */
export const nodeReadyStatus = (node: KubeObject | undefined) => findCondition(node, 'Ready')?.status;

/** Kubernetes' nodeutil.IsNodeReady: the Ready condition is True. */
export const isNodeReady = (node: KubeObject | undefined) => nodeReadyStatus(node) === 'True';
