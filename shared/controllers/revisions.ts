import type { PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import { kindNamed } from '../model/kinds.js';
import type { StoredObject } from '../model/types.js';
import { workloadSpec } from '../model/typed.js';
import { equalRevisions, newRevision, nextRevisionNumber, REVISION_KIND, sortRevisions } from './history.js';
import type { ControllerDeps } from './types.js';

const REVISION = kindNamed(REVISION_KIND);
/** Name collisions with another owner's revision tolerated before giving up (CreateControllerRevision retries likewise). */
const MAX_COLLISIONS = 5;

export interface TemplateRevisions {
  /** The revision holding the owner's template now (its pods' target). */
  update: StoredObject;
  /** Every revision the owner controls, the update revision as written. */
  revisions: StoredObject[];
  /** The owner's status.collisionCount after any name collision. */
  collisionCount: number;
}

/**
 * The revision of a StatefulSet's or DaemonSet's current template (getStatefulSetRevisions,
 * constructHistory): the latest revision if it holds that template; an older one that does is
 * renumbered as the newest (a rollback reuses it); otherwise a new one is made, its name taken with a
 * higher collision count if another object holds it. Undefined when a write lost a race to another
 * reconcile (the caller looks again).
 */
export async function templateRevisions(
  deps: ControllerDeps,
  owner: StoredObject,
  collisionCount: number,
  opts: { hashLabel: string },
): Promise<TemplateRevisions | undefined> {
  const namespace = owner.metadata.namespace ?? '';
  const template: PodTemplateSpec | undefined = workloadSpec(owner).template;
  const sorted = sortRevisions(await deps.store.listOwnedBy(owner.metadata.uid, REVISION_KIND));
  const equal = equalRevisions(sorted, template);
  const latestEqual = equal[equal.length - 1];
  let update: StoredObject | undefined;
  if (latestEqual && latestEqual === sorted[sorted.length - 1]) update = latestEqual;
  else if (latestEqual) {
    try {
      update = await deps.store.update({ ...latestEqual, revision: nextRevisionNumber(sorted) }, latestEqual);
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) return undefined;
      throw e;
    }
  } else {
    for (let attempt = 0; !update; attempt++) {
      const fresh = newRevision(owner, template, nextRevisionNumber(sorted), collisionCount, opts.hashLabel);
      try {
        update = await deps.service.create(REVISION, namespace, fresh);
      } catch (e) {
        if (!(e instanceof AlreadyExistsError)) throw e;
        const held = await deps.store.get({ kind: REVISION_KIND, namespace, name: fresh.metadata.name });
        // The owner index had not caught up with a revision this owner already made: use it.
        if (
          held &&
          held.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid) &&
          jsonEqual(held.data, fresh.data)
        ) {
          update = held;
          break;
        }
        // Another object has the name: the hash is taken with a higher collision count.
        if (attempt >= MAX_COLLISIONS) throw e;
        collisionCount++;
      }
    }
  }
  const made = update;
  const revisions = sorted.some((r) => r.metadata.name === made.metadata.name)
    ? sorted.map((r) => (r.metadata.name === made.metadata.name ? made : r))
    : [...sorted, made];
  return { update: made, revisions, collisionCount };
}
