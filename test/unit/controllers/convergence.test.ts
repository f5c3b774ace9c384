import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { converged } from '../../../shared/controllers/convergence.js';

const o = (
  kind: string,
  spec: Record<string, unknown>,
  status: Record<string, unknown>,
  generation = 1,
): KubeObject => ({ apiVersion: 'v1', kind, metadata: { name: 'x', generation }, spec, status });

describe('converged', () => {
  it.each<[string, KubeObject, boolean]>([
    [
      'a rolled-out Deployment',
      o(
        'Deployment',
        { replicas: 2 },
        { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
      ),
      true,
    ],
    [
      'a Deployment mid-rollout',
      o(
        'Deployment',
        { replicas: 2 },
        { observedGeneration: 1, replicas: 3, updatedReplicas: 1, availableReplicas: 2 },
      ),
      false,
    ],
    [
      'a Deployment whose new generation is unobserved',
      o(
        'Deployment',
        { replicas: 2 },
        { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 },
        2,
      ),
      false,
    ],
    [
      'a full ReplicaSet',
      o('ReplicaSet', { replicas: 3 }, { observedGeneration: 1, replicas: 3, availableReplicas: 3 }),
      true,
    ],
    [
      'a ReplicaSet short of pods',
      o('ReplicaSet', { replicas: 3 }, { observedGeneration: 1, replicas: 2, availableReplicas: 2 }),
      false,
    ],
    ['a running Job', o('Job', {}, { active: 1 }), false],
    ['a finished Job', o('Job', {}, { conditions: [{ type: 'Complete', status: 'True' }] }), true],
  ])('%s → %s', (_n, obj, expected) => expect(converged(obj, Date.now())).toBe(expected));
});
