import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import type { StoredObject } from '../../model/types.js';
import { kindNamed } from '../../model/kinds.js';
import { adoptOrphans } from '../adoption.js';
import { isActive } from '../pods.js';
import { claimedByOther, CLAIM_MS, releaseClaim, withClaim, withoutClaim } from '../claim.js';
import { applyPodChanges } from '../pod-writes.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';
import { refusesSpec } from '../spec-guard.js';
import { planReplicaSet } from './plan.js';
import { fromStructured, matchesLabels, workloadSelector } from '../../model/selectors.js';

const POD = kindNamed('Pod');

/**
 * Reads a ReplicaSet (or a ReplicationController: the same controller with a label-map selector, as
 * Kubernetes runs both from one) and the pods it owns, applies planReplicaSet, writes the status it computed.
 * A reconcile that creates or deletes pods claims the ReplicaSet first (see claim.ts), so duplicate
 * keys handled at once do the work once instead of racing each other over the same pod names.
 */
export class ReplicaSetController {
  constructor(
    private readonly deps: ControllerDeps,
    private readonly kind: 'ReplicaSet' | 'ReplicationController' = 'ReplicaSet',
  ) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const rs = await this.deps.store.get({ kind: this.kind, namespace, name });
    if (!rs) return {}; // gone: its pods are the garbage collector's
    if (refusesSpec(this.deps, rs)) return {};
    const holder = randomUUID();
    // Another reconcile is writing its pods: the write that ends its claim brings the next reconcile
    // (and the sweep, should it die).
    if (claimedByOther(rs, holder, this.deps.clock.now().getTime())) return {};
    // A new ReplicaSet first takes over the running pods it selects that nobody controls.
    if (rs.status?.observedGeneration === undefined && !rs.metadata.deletionTimestamp)
      await adoptOrphans(this.deps, rs, POD, isActive);
    const all = await this.deps.store.listOwnedBy(rs.metadata.uid, 'Pod');
    const owned = await this.releaseUnselected(rs, all);
    const now = this.deps.clock.now().getTime();
    const plan = await this.plan(rs, owned, now, all);
    let current: StoredObject = rs;
    if (plan.create.length || plan.delete.length) {
      try {
        current = await this.deps.store.update(withClaim(rs, holder, now + CLAIM_MS), rs);
      } catch (e) {
        if (e instanceof ConflictError || e instanceof NotFoundError) return { requeueAfterMs: 0 }; // changed meanwhile: look again
        throw e;
      }
      try {
        await applyPodChanges(this.deps, rs, namespace, plan.create, plan.delete);
      } catch (e) {
        await this.release(namespace, name, holder).catch(() => undefined); // the claim would lapse anyway; retries need not wait for it
        throw e;
      }
    }
    // Pods created or deleted just now are not in this status; their own events bring the next reconcile.
    const next = withoutClaim({ ...current, status: { ...current.status, ...plan.status } });
    if (!jsonEqual(next, current)) {
      try {
        await this.deps.store.update(next, current);
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        await this.release(namespace, name, holder);
        return { requeueAfterMs: 0 }; // changed meanwhile: look again
      }
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  }

  /**
   * The plan, with new pods named clear of pods this controller does not own: names are deterministic
   * slots, and a pod it let go keeps its slot's name (Kubernetes' controllers use generateName and
   * cannot collide). Only a plan that creates looks (one batch read of the names it would take).
   */
  private async plan(rs: StoredObject, owned: StoredObject[], now: number, all: StoredObject[]) {
    const others = all.map((p) => p.metadata.name);
    for (let round = 0; ; round++) {
      const plan = planReplicaSet(rs, owned, now, others);
      if (!plan.create.length || round >= 3) return plan;
      const held = await this.deps.store.getMany(
        plan.create.map((p) => ({ kind: 'Pod', namespace: rs.metadata.namespace ?? '', name: p.metadata.name ?? '' })),
      );
      if (!held.length) return plan;
      others.push(...held.map((p) => p.metadata.name));
    }
  }

  /**
   * ClaimPods' release: an owned pod whose labels no longer match the selector (a relabelled pod, or a
   * ReplicationController whose selector changed) is let go (its controller reference removed) and no
   * longer counted, so the replacement is made. A pod being deleted stays counted until it goes.
   */
  private async releaseUnselected(rs: StoredObject, owned: StoredObject[]): Promise<StoredObject[]> {
    const selector = fromStructured(workloadSelector(rs));
    if (!selector.length) return owned; // an empty selector (refused at admission) would let everything go
    const keep: StoredObject[] = [];
    for (const pod of owned) {
      if (pod.metadata.deletionTimestamp || matchesLabels(selector, pod.metadata.labels)) {
        keep.push(pod);
        continue;
      }
      const refs = (pod.metadata.ownerReferences ?? []).filter((r) => r.uid !== rs.metadata.uid);
      try {
        await this.deps.store.update(
          { ...pod, metadata: { ...pod.metadata, ownerReferences: refs.length ? refs : undefined } },
          pod,
        );
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        keep.push(pod); // changed meanwhile: the next reconcile looks again
      }
    }
    return keep;
  }

  /** Removes this reconcile's claim from a ReplicaSet that changed under it. */
  private release(namespace: string, name: string, holder: string): Promise<void> {
    return releaseClaim(this.deps.store, { kind: this.kind, namespace, name }, holder);
  }
}
