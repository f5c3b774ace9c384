import { NotFoundError } from '../../model/errors.js';
import { typeByKindName, type ResourceType } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import type { ControllerDeps, ReconcileResult } from '../types.js';
import type { GcWorkKey } from '../../queue/work-key.js';

/** How soon a Foreground deletion looks again for dependents that are still going. */
const FOREGROUND_RECHECK_MS = 2000;

/**
 * The garbage collector for one owner (by uid): Background deletes its dependents once it is gone;
 * Orphan strips their owner references, then lets the owner go; Foreground deletes the dependents
 * and lets the owner go only when none is left.
 */
export class GarbageCollector {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ kind, namespace, name, uid }: GcWorkKey): Promise<ReconcileResult> {
    const type = typeByKindName(kind);
    if (!type) return {};
    const owner = await this.deps.store.get({ kind, namespace: type.namespaced ? namespace : '', name });
    const current = owner && owner.metadata.uid === uid ? owner : undefined;
    const dependents = await this.deps.store.listOwnedBy(uid);
    const finalizers = current?.metadata.finalizers ?? [];
    if (current && finalizers.includes('orphan')) {
      for (const d of dependents) await this.orphan(d, uid);
      await this.release(type, current, 'orphan');
      return {};
    }
    if (current && !finalizers.includes('foregroundDeletion')) return {}; // alive, or waiting on someone else's finalizer
    for (const d of dependents) await this.deleteDependent(d);
    if (current) {
      if (dependents.length) return { requeueAfterMs: FOREGROUND_RECHECK_MS };
      await this.release(type, current, 'foregroundDeletion');
    }
    return {};
  }

  private async deleteDependent(d: StoredObject) {
    const type = typeByKindName(d.kind);
    if (!type || d.metadata.deletionTimestamp) return;
    try {
      await this.deps.service.delete(type, d.metadata.namespace ?? '', d.metadata.name, {});
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }

  private async orphan(d: StoredObject, ownerUid: string) {
    const type = typeByKindName(d.kind);
    if (!type) return;
    const refs = (d.metadata.ownerReferences ?? []).filter((r) => r.uid !== ownerUid);
    await this.deps.service.patch(type, d.metadata.namespace ?? '', d.metadata.name, 'merge', {
      metadata: { ownerReferences: refs.length ? refs : null },
    });
  }

  private async release(type: ResourceType, owner: StoredObject, finalizer: string) {
    const rest = (owner.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    try {
      await this.deps.service.patch(type, owner.metadata.namespace ?? '', owner.metadata.name, 'merge', {
        metadata: { finalizers: rest.length ? rest : null },
      });
    } catch (e) {
      if (!(e instanceof NotFoundError)) throw e;
    }
  }
}
