import { milliCpu, parseQuantity } from './quantity.js';
import type { KubeObject } from './types.js';
import { nodeStatus } from './typed.js';

/** What a pod asks for, in the units the scheduler accounts in. */
export interface Resources {
  cpuMilli: number;
  memoryBytes: number;
  pods: number;
}

type Container = { resources?: { requests?: Record<string, string | number> } };
const containersOf = (spec: unknown, field: 'containers' | 'initContainers'): Container[] => {
  const list = (spec as Record<string, unknown> | undefined)?.[field];
  return Array.isArray(list) ? (list as Container[]) : [];
};
const request = (c: Container, name: string) => c.resources?.requests?.[name];

/**
 * A pod's effective request, as Kubernetes computes it: the sum over its containers, or the largest
 * init container if that is more (init containers run one at a time, before the others).
 */
export function podRequests(pod: KubeObject): Resources {
  const sum = (cs: Container[], name: string, f: (q: string | number) => number) =>
    cs.reduce((n, c) => n + (request(c, name) !== undefined ? f(request(c, name) as string | number) : 0), 0);
  const max = (cs: Container[], name: string, f: (q: string | number) => number) =>
    cs.reduce((n, c) => Math.max(n, request(c, name) !== undefined ? f(request(c, name) as string | number) : 0), 0);
  const main = containersOf(pod.spec, 'containers');
  const init = containersOf(pod.spec, 'initContainers');
  const bytes = (q: string | number) => Math.ceil(parseQuantity(q) ?? 0);
  return {
    cpuMilli: Math.max(sum(main, 'cpu', milliCpu), max(init, 'cpu', milliCpu)),
    memoryBytes: Math.max(sum(main, 'memory', bytes), max(init, 'memory', bytes)),
    pods: 1,
  };
}

/** A node's allocatable resources from its status (capacity when allocatable is absent). */
export function nodeAllocatable(node: KubeObject): Resources {
  const status = nodeStatus(node);
  const list = status.allocatable ?? status.capacity ?? {};
  return {
    cpuMilli: list.cpu !== undefined ? milliCpu(list.cpu) : 0,
    memoryBytes: list.memory !== undefined ? Math.floor(parseQuantity(list.memory) ?? 0) : 0,
    pods: list.pods !== undefined ? Math.floor(parseQuantity(list.pods) ?? 0) : 0,
  };
}

export const addResources = (a: Resources, b: Resources): Resources => ({
  cpuMilli: a.cpuMilli + b.cpuMilli,
  memoryBytes: a.memoryBytes + b.memoryBytes,
  pods: a.pods + b.pods,
});
