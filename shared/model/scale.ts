import { BadRequestError } from './errors.js';
import { isPlainObject } from './json.js';
import { formatLabelSelector, fromStructured, workloadSelector } from './selectors.js';
import type { StoredObject } from './types.js';

/** The autoscaling/v1 Scale view of a Deployment, ReplicaSet or ReplicationController (what `kubectl scale` reads and patches). */
export function scaleOf(o: StoredObject) {
  const selector = formatLabelSelector(fromStructured(workloadSelector(o)));
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: o.metadata.name,
      namespace: o.metadata.namespace,
      uid: o.metadata.uid,
      resourceVersion: o.metadata.resourceVersion,
      creationTimestamp: o.metadata.creationTimestamp,
    },
    spec: { replicas: (o.spec?.replicas as number | undefined) ?? 0 },
    status: { replicas: (o.status?.replicas as number | undefined) ?? 0, selector },
  };
}

/** The replica count a Scale body (after any patch) asks for. */
export function replicasFromScale(scale: unknown): number {
  const replicas = isPlainObject(scale) && isPlainObject(scale.spec) ? scale.spec.replicas : undefined;
  if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0)
    throw new BadRequestError('spec.replicas must be a non-negative integer');
  return replicas;
}
