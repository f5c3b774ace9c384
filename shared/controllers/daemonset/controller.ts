import { randomUUID } from 'node:crypto';
import { NotFoundError } from '../../model/errors.js';
import { kindNamed } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import { daemonSetStatus } from '../../model/typed.js';
import { LABEL_CONTROLLER_REVISION_HASH } from '../../model/well-known.js';
import { listAll } from '../../store/list-all.js';
import { encodeKey, workKeys } from '../../queue/work-key.js';
import { adoptOrphans } from '../adoption.js';
import { claimedByOther, writeUnderClaim } from '../claim.js';
import { excessRevisions, sortRevisions } from '../history.js';
import { applyPodChanges } from '../pod-writes.js';
import { isActive } from '../pods.js';
import { templateRevisions } from '../revisions.js';
import { refusesSpec } from '../spec-guard.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import { planDaemonSet } from './plan.js';

const POD = kindNamed('Pod');
const REVISION = kindNamed('ControllerRevision');

/**
 * Reads a DaemonSet, every Node and the DaemonSet's pods and revisions, makes sure a revision holds
 * its template, applies planDaemonSet and writes the status it computed. Node changes reach it through
 * the `daemonSets` key (every DaemonSet), pod changes through their owner's key.
 */
export class DaemonSetController {
  constructor(private readonly deps: ControllerDeps) {}

  /**
   * Every DaemonSet of the cluster (a node came, went or changed where daemon pods may run): each gets
   * a key of its own, so one that fails or takes long holds up none of the others.
   */
  async keysOfAll(): Promise<string[]> {
    return (await listAll(this.deps.store, { kind: 'DaemonSet' })).map((ds) => encodeKey(workKeys.of(ds)));
  }

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const ds = await this.deps.store.get({ kind: 'DaemonSet', namespace, name });
    // Gone: its pods and revisions are the garbage collector's. Being deleted: left as it is (syncDaemonSet).
    if (!ds || ds.metadata.deletionTimestamp) return {};
    if (refusesSpec(this.deps, ds)) return {};
    const holder = randomUUID();
    // Another reconcile is writing its pods: the write that ends its claim brings the next reconcile,
    // and the sweep should its holder die.
    if (claimedByOther(ds, holder, this.deps.clock.now().getTime())) return {};
    if (ds.status?.observedGeneration === undefined) {
      await adoptOrphans(this.deps, ds, POD, isActive);
      await adoptOrphans(this.deps, ds, REVISION);
    }
    const history = await templateRevisions(this.deps, ds, daemonSetStatus(ds).collisionCount ?? 0, {
      hashLabel: LABEL_CONTROLLER_REVISION_HASH,
    });
    if (!history) return { requeueAfterMs: 0 }; // a revision changed meanwhile: look again
    const hash = history.update.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH] ?? history.update.metadata.name;
    const nodes = await listAll(this.deps.store, { kind: 'Node' });
    const pods = await this.pods(ds);
    const now = this.deps.clock.now().getTime();
    const plan = planDaemonSet(ds, nodes, pods, hash, now, history.collisionCount);

    const outcome = await writeUnderClaim(this.deps.store, ds, holder, now, {
      claim: plan.create.length + plan.delete.length > 0,
      work: async () => {
        if (plan.create.length || plan.delete.length) {
          for (const e of plan.events) this.deps.events.record(ds, e.type, e.reason, e.message);
          await applyPodChanges(this.deps, ds, namespace, plan.create, plan.delete);
        }
        await this.cleanupHistory(ds, history.revisions, pods, history.update.metadata.name);
      },
      status: plan.status,
    });
    return outcome === 'conflict' ? { requeueAfterMs: 0 } : { requeueAfterMs: plan.requeueAfterMs };
  }

  /** Its pods as they are now: the owner index finds them, the base table gives their current state. */
  private async pods(ds: StoredObject): Promise<StoredObject[]> {
    const listed = await this.deps.store.listOwnedBy(ds.metadata.uid, 'Pod');
    const fresh = await this.deps.store.getMany(
      listed.map((p) => ({ kind: 'Pod', namespace: ds.metadata.namespace ?? '', name: p.metadata.name })),
    );
    return fresh.filter((p) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === ds.metadata.uid));
  }

  /** cleanupHistory: old revisions beyond revisionHistoryLimit go, never the current one or one a pod carries. */
  private async cleanupHistory(
    ds: StoredObject,
    revisions: StoredObject[],
    pods: StoredObject[],
    current: string,
  ): Promise<void> {
    const liveHashes = new Set(pods.map((p) => p.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH]));
    const live = new Set([
      current,
      ...revisions
        .filter((r) => liveHashes.has(r.metadata.labels?.[LABEL_CONTROLLER_REVISION_HASH]))
        .map((r) => r.metadata.name),
    ]);
    const limit = Number(ds.spec?.revisionHistoryLimit ?? 10);
    for (const name of excessRevisions(sortRevisions(revisions), live, limit)) {
      try {
        await this.deps.service.delete(REVISION, ds.metadata.namespace ?? '', name, {});
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
  }
}
