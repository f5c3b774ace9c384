import type { KubeObject } from '../model/types.js';
import { workloadSpec, workloadStatus } from '../model/typed.js';

/**
 * Whether a workload object has reached what it asks for. The periodic sweep re-enqueues only the
 * ones that have not, so a lost event delays convergence but never stops it.
 */
export function converged(o: KubeObject): boolean {
  const spec = workloadSpec(o);
  const status = workloadStatus(o);
  if (o.metadata.deletionTimestamp) return false;
  if ((status.observedGeneration ?? 0) < (o.metadata.generation ?? 1) && o.kind !== 'Job') return false;
  switch (o.kind) {
    case 'ReplicaSet':
    case 'ReplicationController':
      return status.replicas === (spec.replicas ?? 1) && status.availableReplicas === (spec.replicas ?? 1);
    case 'Deployment':
      return (
        status.updatedReplicas === (spec.replicas ?? 1) &&
        status.replicas === (spec.replicas ?? 1) &&
        status.availableReplicas === (spec.replicas ?? 1)
      );
    case 'Job':
      return (status.conditions ?? []).some(
        (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
      );
    default:
      return true;
  }
}

export const SWEPT_KINDS = ['Deployment', 'ReplicaSet', 'ReplicationController', 'Job'] as const;
