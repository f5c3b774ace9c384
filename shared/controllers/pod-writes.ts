import { NotFoundError, StatusError } from '../model/errors.js';
import { kindNamed } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import { inParallel } from '../util/in-parallel.js';
import type { ControllerDeps } from './types.js';

const POD = kindNamed('Pod');
/** Deletes in flight at once. */
const PARALLEL_DELETES = 20;

/**
 * Creates and deletes a workload's pods through the API's rules, with the owner's events. Creates go
 * in transactions (ObjectService.createAll). A create that finds its name taken was done by another
 * reconcile of the same state (deterministic names); a delete that finds nothing was done already.
 * Both are success.
 */
export async function applyPodChanges(
  deps: ControllerDeps,
  owner: KubeObject,
  namespace: string,
  create: KubeObject[],
  remove: string[],
  reportDeletes = true,
): Promise<void> {
  if (create.length) {
    let created: KubeObject[];
    try {
      ({ created } = await deps.service.createAll(POD, namespace, create));
    } catch (e) {
      // As the ReplicaSet and Job controllers say why no pod appears (a missing ServiceAccount, a quota).
      if (e instanceof StatusError && e.code < 500)
        deps.events.record(owner, 'Warning', 'FailedCreate', `Error creating: ${e.message}`);
      throw e;
    }
    for (const pod of created)
      deps.events.record(owner, 'Normal', 'SuccessfulCreate', `Created pod: ${pod.metadata.name}`);
  }
  await inParallel(remove, PARALLEL_DELETES, async (name) => {
    try {
      await deps.service.delete(POD, namespace, name, {});
      if (reportDeletes) deps.events.record(owner, 'Normal', 'SuccessfulDelete', `Deleted pod: ${name}`);
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  });
}
