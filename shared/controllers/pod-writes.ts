import { AlreadyExistsError, NotFoundError } from '../api/errors.js';
import { typeByKindName, type ResourceType } from '../api/kinds.js';
import type { KubeObject } from '../api/types.js';
import type { ControllerDeps } from './types.js';

const POD = typeByKindName('Pod') as ResourceType;

/**
 * Creates and deletes a workload's pods through the API's rules, with the owner's events. A create
 * that finds its name taken was done by another reconcile of the same state (deterministic names);
 * a delete that finds nothing was done already. Both are success.
 */
export async function applyPodChanges(deps: ControllerDeps, owner: KubeObject, namespace: string, create: KubeObject[], remove: string[], reportDeletes = true): Promise<void> {
  for (const pod of create) {
    try {
      await deps.service.create(POD, namespace, pod);
      deps.events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
    }
  }
  for (const name of remove) {
    try {
      await deps.service.delete(POD, namespace, name, {});
      if (reportDeletes) deps.events.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
}
