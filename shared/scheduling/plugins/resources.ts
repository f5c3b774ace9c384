import { OK, reject, type FilterPlugin, type NodeInfo, type ScorePlugin } from '../framework.js';
import type { Resources } from '../../model/resources.js';

/** NodeResourcesFit: the pod's requests must fit in allocatable minus what is already bound. */
export const resourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter({ requests }, { allocatable, requested }) {
    const reasons: string[] = [];
    if (requested.pods + 1 > allocatable.pods) reasons.push('Too many pods');
    if (requests.cpuMilli > 0 && requested.cpuMilli + requests.cpuMilli > allocatable.cpuMilli)
      reasons.push('Insufficient cpu');
    if (requests.memoryBytes > 0 && requested.memoryBytes + requests.memoryBytes > allocatable.memoryBytes)
      reasons.push('Insufficient memory');
    return reasons.length ? reject(...reasons) : OK;
  },
};

/** The fraction of cpu and memory that would be in use after placing the pod, 0..1 each. */
function utilisation(requests: Resources, n: NodeInfo) {
  const frac = (used: number, req: number, cap: number) => (cap > 0 ? Math.min(1, (used + req) / cap) : 1);
  return [
    frac(n.requested.cpuMilli, requests.cpuMilli, n.allocatable.cpuMilli),
    frac(n.requested.memoryBytes, requests.memoryBytes, n.allocatable.memoryBytes),
  ];
}

/** Spreading (the default): prefer the node with the most room left. */
export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  weight: 1,
  score: ({ requests }, n) => {
    const [cpu = 1, mem = 1] = utilisation(requests, n);
    return Math.round(((1 - cpu) * 100 + (1 - mem) * 100) / 2);
  },
};

/** Bin-packing: prefer the fullest node that still fits, leaving whole nodes free. */
export const mostAllocated: ScorePlugin = {
  name: 'NodeResourcesMostAllocated',
  weight: 1,
  score: ({ requests }, n) => {
    const [cpu = 0, mem = 0] = utilisation(requests, n);
    return Math.round((cpu * 100 + mem * 100) / 2);
  },
};
