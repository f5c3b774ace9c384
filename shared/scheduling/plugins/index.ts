import type { Plugins } from '../framework.js';
import {
  defaultSpreadScore,
  interPodAffinity,
  interPodAffinityScore,
  topologySpread,
  topologySpreadScore,
} from './inter-pod.js';
import { nodeAffinityFilter, nodeAffinityScore } from './node-affinity.js';
import { nodeState } from './node-state.js';
import { leastAllocated, mostAllocated, resourcesFit } from './resources.js';
import { taintToleration, taintTolerationScore } from './taint-toleration.js';
import { volumeBinding } from './volume-binding.js';

export type ScoringStrategy = 'LeastAllocated' | 'MostAllocated';

/** The annotation a pod sets to choose bin-packing (or spreading) for itself, overriding the cluster default. */
export const SCORING_ANNOTATION = 'scheduling.kumo.dev/scoring-strategy';

/** The default profile, in kube-scheduler's order: cheap filters first. */
export function defaultPlugins(strategy: ScoringStrategy = 'LeastAllocated'): Plugins {
  return {
    filters: [
      nodeState,
      nodeAffinityFilter,
      taintToleration,
      resourcesFit,
      volumeBinding,
      interPodAffinity,
      topologySpread,
    ],
    scores: [
      strategy === 'MostAllocated' ? mostAllocated : leastAllocated,
      nodeAffinityScore,
      taintTolerationScore,
      interPodAffinityScore,
      topologySpreadScore,
      defaultSpreadScore,
    ],
  };
}
