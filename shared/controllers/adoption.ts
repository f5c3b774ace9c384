import { ConflictError, NotFoundError } from '../model/errors.js';
import type { ResourceType } from '../model/kinds.js';
import { fromStructured, matchesLabels, workloadSelector } from '../model/selectors.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import type { ControllerDeps } from './types.js';

/**
 * Adoption, as Kubernetes' ControllerRefManager does it: a workload takes over the objects its
 * selector matches that no controller owns (left behind by `kubectl delete --cascade=orphan`, or
 * created by hand), so re-creating a Deployment or ReplicaSet picks up what is still running instead
 * of starting beside it. Pure parts here; `adoptOrphans` does the writes.
 */

/** The objects `owner` may adopt: matched by its (non-empty) selector, without a controller, not being deleted. */
export function adoptable<T extends KubeObject>(
  owner: KubeObject,
  candidates: T[],
  isCandidate: (o: T) => boolean = () => true,
): T[] {
  const requirements = fromStructured(workloadSelector(owner));
  if (requirements.length === 0) return []; // an empty selector would take everything
  return candidates.filter(
    (o) =>
      !o.metadata.deletionTimestamp &&
      !(o.metadata.ownerReferences ?? []).some((r) => r.controller) &&
      o.metadata.uid !== owner.metadata.uid &&
      matchesLabels(requirements, o.metadata.labels) &&
      isCandidate(o),
  );
}

export function withController<T extends KubeObject>(o: T, owner: KubeObject): T {
  const ref = {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
  return { ...o, metadata: { ...o.metadata, ownerReferences: [...(o.metadata.ownerReferences ?? []), ref] } };
}

const ATTEMPTS = 5;

/**
 * Adopts the orphans of `type` in the owner's namespace; returns how many it took. An orphan that
 * changed meanwhile (a pod's status was written) is read again and adopted if it still qualifies;
 * one that another controller took first, or that is gone, is left.
 */
export async function adoptOrphans(
  deps: ControllerDeps,
  owner: KubeObject,
  type: ResourceType,
  isCandidate?: (o: StoredObject) => boolean,
): Promise<number> {
  const namespace = owner.metadata.namespace ?? '';
  const orphans = adoptable(owner, (await deps.service.list(type, namespace)).items, isCandidate);
  let adopted = 0;
  for (const orphan of orphans) {
    let o: StoredObject | undefined = orphan;
    for (let attempt = 0; o && attempt < ATTEMPTS; attempt++) {
      try {
        await deps.store.update(withController(o, owner), o);
        adopted++;
        break;
      } catch (e) {
        if (e instanceof NotFoundError) break;
        if (!(e instanceof ConflictError)) throw e;
        const fresh: StoredObject | undefined = await deps.store.get({
          kind: o.kind,
          namespace,
          name: o.metadata.name,
        });
        o = fresh && adoptable(owner, [fresh], isCandidate).length ? fresh : undefined;
      }
    }
  }
  return adopted;
}
