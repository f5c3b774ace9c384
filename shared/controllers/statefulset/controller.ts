import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, ConflictError, NotFoundError, StatusError } from '../../model/errors.js';
import { kindNamed } from '../../model/kinds.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import { statefulSetSpec, statefulSetStatus } from '../../model/typed.js';
import { adoptOrphans } from '../adoption.js';
import { claimedByOther, writeUnderClaim } from '../claim.js';
import { excessRevisions, revisionTemplate, sortRevisions, STATEFULSET_HASH_LABEL } from '../history.js';
import { templateRevisions } from '../revisions.js';
import { isActive } from '../pods.js';
import { refusesSpec } from '../spec-guard.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import { inParallel } from '../../util/in-parallel.js';
import { claimNameFor, claimTemplatesOf, ordinalOf, planStatefulSet, revisionOf, type Revision } from './plan.js';
import { BURST } from '../replicaset/plan.js';

const POD = kindNamed('Pod');
const CLAIM = kindNamed('PersistentVolumeClaim');
const REVISION = kindNamed('ControllerRevision');
/** Pod deletes in flight at once (a Parallel scale-down). */
const PARALLEL_DELETES = 20;

type NamedSet = StoredObject;

/**
 * Reads a StatefulSet, its pods and its ControllerRevisions, makes sure a revision holds its current
 * template, applies planStatefulSet and writes the status it computed. Pods are read by name (the
 * ordinals in range and the ones the owner index knows), strongly consistent: a pod just created or
 * deleted is seen as it is, which OrderedReady's one-at-a-time depends on.
 */
export class StatefulSetController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const set = await this.deps.store.get({ kind: 'StatefulSet', namespace, name });
    if (!set) return {}; // gone: its pods and revisions are the garbage collector's
    if (refusesSpec(this.deps, set)) return {};
    const holder = randomUUID();
    // Another reconcile is writing its pods: the write that ends its claim brings the next reconcile,
    // and the sweep should its holder die.
    if (claimedByOther(set, holder, this.deps.clock.now().getTime())) return {};
    // A new StatefulSet takes over the pods of its ordinals and the revisions nobody controls (a set
    // re-created after `kubectl delete --cascade=orphan` keeps its pods and history).
    if (set.status?.observedGeneration === undefined && !set.metadata.deletionTimestamp) {
      await adoptOrphans(
        this.deps,
        set,
        POD,
        (p) => isActive(p) && ordinalOf(set.metadata.name, p.metadata.name) !== undefined,
      );
      await adoptOrphans(this.deps, set, REVISION);
    }
    const pods = await this.pods(set);
    const history = await templateRevisions(this.deps, set, statefulSetStatus(set).collisionCount ?? 0, {
      hashLabel: STATEFULSET_HASH_LABEL,
    });
    if (!history) return { requeueAfterMs: 0 }; // the revision changed meanwhile: look again
    const { update: updateRevision, collisionCount, revisions } = history;
    // The current revision is the one the status names (getStatefulSetRevisions), else the update revision.
    const currentRevision =
      revisions.find((r) => r.metadata.name === statefulSetStatus(set).currentRevision) ?? updateRevision;
    const view = (r: StoredObject): Revision => ({ name: r.metadata.name, template: revisionTemplate(r) });
    const [current, update] = [view(currentRevision), view(updateRevision)];
    const now = this.deps.clock.now().getTime();
    const plan = planStatefulSet(set, pods, current, update, now, collisionCount);

    const outcome = await writeUnderClaim(this.deps.store, set, holder, now, {
      claim: plan.create.length + plan.delete.length + plan.relabel.length > 0,
      work: async () => {
        await this.apply(set, plan.create, plan.delete, plan.relabel);
        await this.truncateHistory(set, revisions, pods, current, update);
      },
      status: plan.status,
    });
    return outcome === 'conflict' ? { requeueAfterMs: 0 } : { requeueAfterMs: plan.requeueAfterMs };
  }

  /** The pods this set controls: its ordinals in range and whatever the owner index lists, read fresh. */
  private async pods(set: NamedSet): Promise<StoredObject[]> {
    const namespace = set.metadata.namespace ?? '';
    const spec = statefulSetSpec(set);
    const start = spec.ordinals?.start ?? 0;
    const listed = await this.deps.store.listOwnedBy(set.metadata.uid, 'Pod');
    const names = new Set(listed.map((p) => p.metadata.name));
    // Every ordinal up to a burst beyond the highest the owner index lists (it may lag a burst behind).
    const highest = Math.max(
      -1,
      ...listed.map((p) => (ordinalOf(set.metadata.name, p.metadata.name) ?? start) - start),
    );
    const span = Math.min(spec.replicas ?? 1, Math.max(highest + 1, listed.length) + 2 * BURST);
    for (let i = 0; i < span; i++) names.add(`${set.metadata.name}-${start + i}`);
    const pods = await this.deps.store.getMany([...names].map((name) => ({ kind: 'Pod', namespace, name })));
    return pods.filter((p) => p.metadata.ownerReferences?.some((r) => r.controller && r.uid === set.metadata.uid));
  }

  private async apply(set: NamedSet, create: KubeObject[], remove: string[], relabel: KubeObject[]): Promise<void> {
    const namespace = set.metadata.namespace ?? '';
    const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
      this.deps.events.record(set, type, reason, message);
    // A pod is made only once its claims exist (createPersistentVolumeClaims before the pod).
    if (create.length) create = await this.ensureClaims(set, create);
    if (create.length) {
      let created: StoredObject[] = [];
      let taken: string[] = [];
      try {
        ({ created, taken } = await this.deps.service.createAll(POD, namespace, create));
      } catch (e) {
        if (e instanceof StatusError && e.code < 500)
          for (const p of create)
            event(
              'Warning',
              'FailedCreate',
              `create Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${e.message}`,
            );
        throw e;
      }
      for (const p of created)
        event(
          'Normal',
          'SuccessfulCreate',
          `create Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        );
      // A name held by a pod this set does not control (read fresh just now): say so, as the create error would.
      const stillTaken = (
        await this.deps.store.getMany(taken.map((name) => ({ kind: 'Pod', namespace, name })))
      ).filter((p) => !p.metadata.ownerReferences?.some((r) => r.controller && r.uid === set.metadata.uid));
      for (const p of stillTaken)
        event(
          'Warning',
          'FailedCreate',
          `create Pod ${p.metadata.name} in StatefulSet ${set.metadata.name} failed error: pods "${p.metadata.name}" already exists`,
        );
    }
    await inParallel(remove, PARALLEL_DELETES, async (name) => {
      try {
        await this.releaseClaimsOnScaleDown(set, name);
        await this.deps.service.delete(POD, namespace, name, {});
        event('Normal', 'SuccessfulDelete', `delete Pod ${name} in StatefulSet ${set.metadata.name} successful`);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    });
    for (const pod of relabel) {
      try {
        await this.deps.service.patch(POD, namespace, pod.metadata.name ?? '', 'merge', {
          metadata: { labels: pod.metadata.labels, resourceVersion: pod.metadata.resourceVersion },
        });
        event(
          'Normal',
          'SuccessfulUpdate',
          `update Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} successful`,
        );
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
      }
    }
  }

  /**
   * The claims of each pod about to be made: created from the set's templates where missing (labels
   * from the template with the selector's over them, owned per persistentVolumeClaimRetentionPolicy).
   * A pod whose claim is being deleted, or could not be made, waits, with Kubernetes' FailedCreate.
   */
  private async ensureClaims(set: NamedSet, pods: KubeObject[]): Promise<KubeObject[]> {
    const templates = claimTemplatesOf(set);
    if (!templates.length) return pods;
    const namespace = set.metadata.namespace ?? '';
    const spec = statefulSetSpec(set);
    const ownedBySet = spec.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete';
    const setRef = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      name: set.metadata.name,
      uid: set.metadata.uid,
      controller: true,
      blockOwnerDeletion: true,
    };
    const ready: KubeObject[] = [];
    for (const pod of pods) {
      const ordinal = ordinalOf(set.metadata.name, pod.metadata.name ?? '') ?? 0;
      let ok = true;
      for (const t of templates) {
        const name = claimNameFor(set, t, ordinal);
        const fail = (why: string) => {
          ok = false;
          this.deps.events.record(
            set,
            'Warning',
            'FailedCreate',
            `create Claim ${name} for Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} failed error: ${why}`,
          );
        };
        const existing = await this.deps.store.get({ kind: 'PersistentVolumeClaim', namespace, name });
        if (existing) {
          if (existing.metadata.deletionTimestamp) fail(`pvc ${name} is being deleted`);
          // Back in range after a scale-down: the claim is no longer its old pod's to take along
          // (updateClaimOwnerRefForSetAndPod), and is the set's again if the set's deletion takes it.
          else if (existing.metadata.ownerReferences?.some((r) => r.kind === 'Pod')) {
            const refs = (existing.metadata.ownerReferences ?? []).filter(
              (r) => r.kind !== 'Pod' && r.uid !== set.metadata.uid,
            );
            await this.deps.service
              .patch(CLAIM, namespace, name, 'merge', {
                metadata: {
                  resourceVersion: existing.metadata.resourceVersion,
                  ownerReferences: ownedBySet ? [...refs, setRef] : refs.length ? refs : null,
                },
              })
              .catch((e: unknown) => {
                if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
              });
          }
          continue;
        }
        try {
          await this.deps.service.create(CLAIM, namespace, {
            apiVersion: 'v1',
            kind: 'PersistentVolumeClaim',
            metadata: {
              ...(t.metadata?.annotations ? { annotations: t.metadata.annotations } : {}),
              name,
              labels: { ...t.metadata?.labels, ...spec.selector?.matchLabels },
              ...(ownedBySet ? { ownerReferences: [setRef] } : {}),
            },
            spec: t.spec ?? {},
          });
          this.deps.events.record(
            set,
            'Normal',
            'SuccessfulCreate',
            `create Claim ${name} Pod ${pod.metadata.name} in StatefulSet ${set.metadata.name} success`,
          );
        } catch (e) {
          if (e instanceof AlreadyExistsError) continue;
          if (e instanceof StatusError && e.code < 500) fail(e.message);
          else throw e;
        }
      }
      if (ok) ready.push(pod);
    }
    return ready;
  }

  /**
   * whenScaled: Delete: the claims of an ordinal the set no longer has are owned by its pod, so they go
   * with it (the garbage collector follows the reference), as Kubernetes' retention policy does.
   */
  private async releaseClaimsOnScaleDown(set: NamedSet, podName: string): Promise<void> {
    const spec = statefulSetSpec(set);
    const templates = claimTemplatesOf(set);
    if (!templates.length || spec.persistentVolumeClaimRetentionPolicy?.whenScaled !== 'Delete') return;
    const ordinal = ordinalOf(set.metadata.name, podName);
    const start = spec.ordinals?.start ?? 0;
    if (ordinal === undefined || ordinal < start + (spec.replicas ?? 1)) return; // replaced, not scaled away
    const namespace = set.metadata.namespace ?? '';
    const pod = await this.deps.store.get({ kind: 'Pod', namespace, name: podName });
    if (!pod) return;
    for (const t of templates) {
      const name = claimNameFor(set, t, ordinal);
      const claim = await this.deps.store.get({ kind: 'PersistentVolumeClaim', namespace, name });
      if (!claim || claim.metadata.ownerReferences?.some((r) => r.uid === pod.metadata.uid)) continue;
      await this.deps.service
        .patch(CLAIM, namespace, name, 'merge', {
          metadata: {
            resourceVersion: claim.metadata.resourceVersion,
            ownerReferences: [
              ...(claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid),
              {
                apiVersion: 'v1',
                kind: 'Pod',
                name: podName,
                uid: pod.metadata.uid,
                controller: true,
                blockOwnerDeletion: true,
              },
            ],
          },
        })
        .catch((e: unknown) => {
          if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        });
    }
  }

  /** truncateHistory: revisions beyond revisionHistoryLimit go, never the current, the update or one a pod carries. */
  private async truncateHistory(
    set: NamedSet,
    revisions: StoredObject[],
    pods: StoredObject[],
    current: Revision,
    update: Revision,
  ): Promise<void> {
    const live = new Set([current.name, update.name, ...pods.map(revisionOf).filter((r): r is string => !!r)]);
    const limit = statefulSetSpec(set).revisionHistoryLimit ?? 10;
    for (const name of excessRevisions(sortRevisions(revisions), live, limit)) {
      try {
        await this.deps.service.delete(REVISION, set.metadata.namespace ?? '', name, {});
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
  }
}
