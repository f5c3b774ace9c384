import { AlreadyExistsError, ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { typeByKindName, type ResourceType } from '../../model/kinds.js';
import { isFinished } from '../../model/pod-state.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_PROVISIONED_BY,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
  LOCAL_VOLUME_CLEANUP_FINALIZER,
  NO_PROVISIONER,
  awaitsLocalCleanup,
  localVolumeMade,
  bindingModeOf,
  claimNamesOf,
  claimRefOf,
  claimRefTo,
  classOf,
  defaultClassOf,
  phaseOf,
  volumeNameOf,
} from '../../model/storage.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import { listAll } from '../../store/list-all.js';
import { encodeKey, workKeys } from '../../queue/work-key.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import { findMatchingVolume, reservedFor } from '../../scheduling/volume-matching.js';
import { PROVISIONERS, type Provisioner } from './provisioners.js';

/**
 * Kubernetes' PersistentVolume controller (pkg/controller/volume/persistentvolume/pv_controller.go)
 * with the pvc-protection and pv-protection controllers: binds claims to matching volumes, provisions
 * volumes through the claim's class (after the scheduler picked the node for WaitForFirstConsumer),
 * keeps both phases, releases volumes whose claims are gone and reclaims them (Retain keeps, Delete
 * deletes through the provisioner), and removes the protection finalizers once nothing uses the object.
 *
 * Binding order is Kubernetes': the volume's claimRef first, then the claim's volumeName, then the
 * phases; each step is idempotent, so a crash between two leaves what the next reconcile completes.
 */

/**
 * Pending claims are looked at again this often, besides the changes that bring them back at once (a
 * volume becoming available, a class appearing: the `pendingClaims` key). Kubernetes' PV controller
 * resyncs every 15 s, which costs nothing there; here each look is reads and a message, so the safety
 * net is slower.
 */
export const PENDING_RECHECK_MS = 60_000;

const typeOf = (kind: string): ResourceType => {
  const t = typeByKindName(kind);
  if (!t) throw new Error(`${kind} is not registered`);
  return t;
};

export class VolumeController {
  private readonly claims = typeOf('PersistentVolumeClaim');
  private readonly volumes = typeOf('PersistentVolume');

  constructor(
    private readonly deps: ControllerDeps,
    private readonly provisioners: readonly Provisioner[] = PROVISIONERS,
  ) {}

  async reconcileClaim({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const claim = await this.deps.store.get({ kind: 'PersistentVolumeClaim', namespace, name });
    if (!claim) return {};
    try {
      if (claim.metadata.deletionTimestamp) return await this.protectClaim(claim);
      const volumeName = volumeNameOf(claim);
      return volumeName ? await this.syncBoundClaim(claim, volumeName) : await this.syncUnboundClaim(claim);
    } catch (e) {
      // Someone wrote meanwhile (the scheduler's node choice, a resize): look again at once.
      if (e instanceof ConflictError || e instanceof NotFoundError) return { requeueAfterMs: 0 };
      throw e;
    }
  }

  async reconcileVolume({ name }: ObjectRef): Promise<ReconcileResult> {
    const pv = await this.deps.store.get({ kind: 'PersistentVolume', namespace: '', name });
    if (!pv) return {};
    try {
      return await this.syncVolume(pv);
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) return { requeueAfterMs: 0 };
      throw e;
    }
  }

  /** The keys of every claim still Pending (a volume or class they may want has appeared). */
  async pendingClaimKeys(): Promise<string[]> {
    const claims = await listAll(this.deps.store, { kind: 'PersistentVolumeClaim' });
    return claims
      .filter((c) => phaseOf(c) === 'Pending' && !c.metadata.deletionTimestamp)
      .map((c) => encodeKey(workKeys.of(c)));
  }

  // ---- claims ----

  /** pvcprotection: the finalizer goes once no pod that has not finished uses the claim. */
  private async protectClaim(claim: StoredObject): Promise<ReconcileResult> {
    if (!(claim.metadata.finalizers ?? []).includes(PVC_PROTECTION_FINALIZER)) return {};
    const pods = await listAll(this.deps.store, { kind: 'Pod', namespace: claim.metadata.namespace ?? '' });
    // Kubernetes' pvcprotection counts the pods scheduled to a node and not yet terminated.
    const users = pods.filter(
      (p) => !!p.spec?.nodeName && !isFinished(p) && claimNamesOf(p).includes(claim.metadata.name),
    );
    if (users.length) return {}; // each user's deletion or end brings the claim back here
    await this.removeFinalizer(this.claims, claim, PVC_PROTECTION_FINALIZER);
    return {};
  }

  private async syncBoundClaim(claim: StoredObject, volumeName: string): Promise<ReconcileResult> {
    const pv = await this.deps.store.get({ kind: 'PersistentVolume', namespace: '', name: volumeName });
    if (!pv) {
      if (phaseOf(claim) !== 'Lost') {
        await this.claimStatus(claim, { phase: 'Lost' });
        this.deps.events.record(
          claim,
          'Warning',
          'ClaimLost',
          'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
        );
      }
      return {};
    }
    if (!claimRefOf(pv)) {
      // Pre-bound by its author to this volume: bind the volume to it, if it fits.
      if (!findMatchingVolume({ ...claim, spec: { ...claim.spec, storageClassName: classOf(pv) ?? '' } }, [pv])) {
        this.deps.events.record(
          claim,
          'Warning',
          'VolumeMismatch',
          `Cannot bind to requested volume "${volumeName}": the volume is smaller than the claim or lacks its access modes`,
        );
        return { requeueAfterMs: PENDING_RECHECK_MS };
      }
      await this.bind(pv, claim, false);
      return {};
    }
    if (!reservedFor(pv, claim)) {
      if (phaseOf(claim) !== 'Lost') {
        await this.claimStatus(claim, { phase: 'Lost' });
        this.deps.events.record(
          claim,
          'Warning',
          'ClaimMisbound',
          'Two claims are bound to the same volume, this one is bound incorrectly',
        );
      }
      return {};
    }
    await this.bind(pv, claim, false);
    return {};
  }

  private async syncUnboundClaim(claim: StoredObject): Promise<ReconcileResult> {
    const classes = await listAll(this.deps.store, { kind: 'StorageClass' });
    let className = classOf(claim);
    if (className === undefined) {
      // Retroactive default StorageClass assignment (Kubernetes 1.28+): a claim that named no class gets today's default.
      const def = defaultClassOf(classes);
      if (def) {
        await this.deps.service.patch(this.claims, claim.metadata.namespace ?? '', claim.metadata.name, 'merge', {
          metadata: { resourceVersion: claim.metadata.resourceVersion },
          spec: { storageClassName: def.metadata.name },
        });
        return {}; // the change brings the claim back with its class
      }
    }
    const sc = className ? classes.find((c) => c.metadata.name === className) : undefined;
    const waitForConsumer = bindingModeOf(sc) === 'WaitForFirstConsumer';
    const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
    if (waitForConsumer && !selected) {
      this.deps.events.record(
        claim,
        'Normal',
        'WaitForFirstConsumer',
        'waiting for first consumer to be created before binding',
      );
      return {}; // the scheduler's node choice (an annotation) brings it back
    }
    const node = selected ? await this.deps.store.get({ kind: 'Node', namespace: '', name: selected }) : undefined;
    const volumes = await listAll(this.deps.store, { kind: 'PersistentVolume' });
    const match = findMatchingVolume(claim, volumes, waitForConsumer ? node : undefined);
    if (match) {
      await this.bind(match, claim, true);
      return {};
    }
    className ??= '';
    if (className === '') {
      this.deps.events.record(
        claim,
        'Normal',
        'FailedBinding',
        'no persistent volumes available for this claim and no storage class is set',
      );
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    if (!sc) {
      this.deps.events.record(
        claim,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${className}" not found`,
      );
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    return this.provision(claim, sc, node, volumes);
  }

  private async provision(
    claim: StoredObject,
    sc: KubeObject,
    node: KubeObject | undefined,
    volumes: readonly StoredObject[],
  ): Promise<ReconcileResult> {
    const provisionerName = String((sc as Record<string, unknown>).provisioner ?? '');
    if (provisionerName === NO_PROVISIONER) {
      // A class for static volumes: nothing is made, the claim waits for a volume an administrator adds.
      this.deps.events.record(
        claim,
        'Normal',
        'FailedBinding',
        `no persistent volumes available for this claim and its class "${sc.metadata.name}" provisions none (${NO_PROVISIONER})`,
      );
      return claim.metadata.annotations?.[ANN_SELECTED_NODE]
        ? this.unselectNode(claim)
        : { requeueAfterMs: PENDING_RECHECK_MS };
    }
    const ann = claim.metadata.annotations ?? {};
    if (ann[ANN_STORAGE_PROVISIONER] !== provisionerName) {
      await this.deps.service.patch(this.claims, claim.metadata.namespace ?? '', claim.metadata.name, 'merge', {
        metadata: {
          resourceVersion: claim.metadata.resourceVersion,
          annotations: { [ANN_STORAGE_PROVISIONER]: provisionerName, [ANN_BETA_STORAGE_PROVISIONER]: provisionerName },
        },
      });
      return {}; // back with the annotation
    }
    const provisioner = this.provisioners.find((p) => p.name === provisionerName);
    if (!provisioner) {
      this.deps.events.record(
        claim,
        'Normal',
        'ExternalProvisioning',
        `Waiting for a volume to be created either by the external provisioner '${provisionerName}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
      );
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    if (!node && provisioner.needsNode) {
      const selected = claim.metadata.annotations?.[ANN_SELECTED_NODE];
      this.deps.events.record(
        claim,
        'Warning',
        'ProvisioningFailed',
        selected ? `node "${selected}" selected for this claim no longer exists` : provisioner.needsNode,
      );
      return selected ? this.unselectNode(claim) : {};
    }
    const volumeName = `pvc-${claim.metadata.uid ?? ''}`;
    const existing = volumes.find((v) => v.metadata.name === volumeName);
    if (existing) {
      // Made by an earlier reconcile that stopped before binding (or not this claim's: say so).
      if (reservedFor(existing, claim)) await this.bind(existing, claim, true);
      return {};
    }
    this.deps.events.record(
      claim,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`,
    );
    const result = await provisioner.provision({
      claim,
      storageClass: sc,
      volumeName,
      volumes,
      ...(node ? { node } : {}),
    });
    if ('failed' in result) {
      this.deps.events.record(
        claim,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${sc.metadata.name}": ${result.failed}`,
      );
      // rescheduleProvisioning: the scheduler picks a node again (this one may stay full).
      return claim.metadata.annotations?.[ANN_SELECTED_NODE]
        ? this.unselectNode(claim)
        : { requeueAfterMs: PENDING_RECHECK_MS };
    }
    let pv: StoredObject;
    try {
      pv = await this.deps.service.create(this.volumes, undefined, result.volume);
    } catch (e) {
      if (!(e instanceof AlreadyExistsError)) throw e;
      return { requeueAfterMs: 0 };
    }
    this.deps.events.record(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${volumeName}`);
    await this.bind(pv, claim, true);
    return {};
  }

  /** Kubernetes' rescheduleProvisioning: the node choice goes, so the scheduler makes another. */
  private async unselectNode(claim: StoredObject): Promise<ReconcileResult> {
    await this.deps.service.patch(this.claims, claim.metadata.namespace ?? '', claim.metadata.name, 'merge', {
      metadata: { resourceVersion: claim.metadata.resourceVersion, annotations: { [ANN_SELECTED_NODE]: null } },
    });
    return {};
  }

  /** Binds both ways (volume first), then brings both phases to Bound. */
  private async bind(pv: StoredObject, claim: StoredObject, byController: boolean): Promise<void> {
    const ref = claimRefOf(pv);
    let volume = pv;
    if (!ref || ref.uid !== claim.metadata.uid) {
      volume = await this.deps.service.patch(this.volumes, '', pv.metadata.name, 'merge', {
        metadata: {
          resourceVersion: pv.metadata.resourceVersion,
          ...(ref ? {} : { annotations: { [ANN_BOUND_BY_CONTROLLER]: 'yes' } }),
        },
        spec: {
          claimRef: claimRefTo(claim, true),
        },
      });
    }
    if (phaseOf(volume) !== 'Bound') await this.volumeStatus(volume, { phase: 'Bound' });
    let current = claim;
    const ann = claim.metadata.annotations ?? {};
    if (volumeNameOf(claim) !== pv.metadata.name || ann[ANN_BIND_COMPLETED] !== 'yes')
      current = await this.deps.service.patch(
        this.claims,
        claim.metadata.namespace ?? '',
        claim.metadata.name,
        'merge',
        {
          metadata: {
            resourceVersion: claim.metadata.resourceVersion,
            annotations: {
              [ANN_BIND_COMPLETED]: 'yes',
              ...(byController && !volumeNameOf(claim) ? { [ANN_BOUND_BY_CONTROLLER]: 'yes' } : {}),
            },
          },
          spec: { volumeName: pv.metadata.name },
        },
      );
    const status = {
      phase: 'Bound',
      accessModes: volume.spec?.accessModes,
      capacity: volume.spec?.capacity,
    };
    const had = current.status ?? {};
    if (!jsonEqual({ phase: had.phase, accessModes: had.accessModes, capacity: had.capacity }, status))
      await this.claimStatus(current, status);
  }

  // ---- volumes ----

  private async syncVolume(pv: StoredObject): Promise<ReconcileResult> {
    const policy = pv.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    // A local volume switched to Retain keeps its directory: nothing is to be removed when it goes.
    // One whose directory was never made (its pods never started) has nothing for its node to remove.
    if (awaitsLocalCleanup(pv) && (policy !== 'Delete' || (pv.metadata.deletionTimestamp && !localVolumeMade(pv)))) {
      await this.removeFinalizer(this.volumes, pv, LOCAL_VOLUME_CLEANUP_FINALIZER);
      return {};
    }
    if (pv.metadata.deletionTimestamp) {
      // pv-protection: a volume goes only once no claim is bound to it.
      if ((pv.metadata.finalizers ?? []).includes(PV_PROTECTION_FINALIZER) && !(await this.boundClaimOf(pv)))
        await this.removeFinalizer(this.volumes, pv, PV_PROTECTION_FINALIZER);
      return {};
    }
    const ref = claimRefOf(pv);
    if (!ref?.name) {
      if (phaseOf(pv) !== 'Available') await this.volumeStatus(pv, { phase: 'Available' });
      return {};
    }
    const claim = await this.deps.store.get({
      kind: 'PersistentVolumeClaim',
      namespace: ref.namespace ?? '',
      name: ref.name,
    });
    if (claim && (ref.uid === undefined || ref.uid === claim.metadata.uid)) {
      const bound = volumeNameOf(claim);
      if (bound === pv.metadata.name) {
        if (phaseOf(pv) !== 'Bound') await this.volumeStatus(pv, { phase: 'Bound' });
        return {};
      }
      if (!bound) return this.reconcileClaim({ namespace: ref.namespace ?? '', name: ref.name }); // reserved: the claim binds
      // The claim went to another volume: a reservation the controller made is undone; an author's stays.
      if (pv.metadata.annotations?.[ANN_BOUND_BY_CONTROLLER] === 'yes')
        await this.deps.service.patch(this.volumes, '', pv.metadata.name, 'merge', {
          metadata: { resourceVersion: pv.metadata.resourceVersion },
          spec: { claimRef: null },
        });
      return {};
    }
    if (ref.uid === undefined) {
      // Reserved for a claim that does not exist yet: available to it alone.
      if (phaseOf(pv) !== 'Available') await this.volumeStatus(pv, { phase: 'Available' });
      return {};
    }
    // The claim is gone: the volume is released, and reclaimed per its policy.
    if (phaseOf(pv) !== 'Released' && phaseOf(pv) !== 'Failed') await this.volumeStatus(pv, { phase: 'Released' });
    if (policy !== 'Delete' || phaseOf(pv) === 'Failed') return {};
    const by = pv.metadata.annotations?.[ANN_PROVISIONED_BY];
    const provisioner = this.provisioners.find((p) => p.name === by);
    if (!provisioner) {
      const message = `error getting deleter volume plugin for volume "${pv.metadata.name}": no deletable volume plugin matched (kumo deletes only the volumes its provisioners made)`;
      await this.volumeStatus(pv, { phase: 'Failed', message });
      this.deps.events.record(pv, 'Warning', 'VolumeFailedDelete', message);
      return {};
    }
    const result = await provisioner.delete(pv);
    if ('failed' in result) {
      this.deps.events.record(pv, 'Warning', 'VolumeFailedDelete', result.failed);
      return { requeueAfterMs: PENDING_RECHECK_MS };
    }
    // Pending: the object waits on its cleanup finalizer until the node has removed what backs it.
    await this.deps.service.delete(this.volumes, '', pv.metadata.name, {
      preconditions: { uid: pv.metadata.uid ?? '' },
    });
    return {};
  }

  private async boundClaimOf(pv: KubeObject): Promise<StoredObject | undefined> {
    const ref = claimRefOf(pv);
    if (!ref?.name) return undefined;
    const claim = await this.deps.store.get({
      kind: 'PersistentVolumeClaim',
      namespace: ref.namespace ?? '',
      name: ref.name,
    });
    return claim && claim.metadata.uid === ref.uid && volumeNameOf(claim) === pv.metadata.name ? claim : undefined;
  }

  // ---- writes ----

  private async claimStatus(claim: StoredObject, status: Record<string, unknown>): Promise<void> {
    await this.deps.service.patch(
      this.claims,
      claim.metadata.namespace ?? '',
      claim.metadata.name,
      'merge',
      { metadata: { resourceVersion: claim.metadata.resourceVersion }, status },
      'status',
    );
  }

  private async volumeStatus(pv: StoredObject, status: Record<string, unknown>): Promise<void> {
    await this.deps.service.patch(
      this.volumes,
      '',
      pv.metadata.name,
      'merge',
      {
        metadata: { resourceVersion: pv.metadata.resourceVersion },
        status: { message: null, reason: null, ...status },
      },
      'status',
    );
  }

  private async removeFinalizer(type: ResourceType, o: StoredObject, finalizer: string): Promise<void> {
    const rest = (o.metadata.finalizers ?? []).filter((f) => f !== finalizer);
    await this.deps.service.patch(type, o.metadata.namespace ?? '', o.metadata.name, 'merge', {
      metadata: { resourceVersion: o.metadata.resourceVersion, finalizers: rest.length ? rest : null },
    });
  }
}
