import {
  ANN_LOCAL_VOLUMES_DIR,
  LOCAL_PROVISIONER,
  LOCAL_VOLUME_CLEANUP_FINALIZER,
  PV_PROTECTION_FINALIZER,
  accessModesOf,
  claimRefTo,
  localRoomOn,
  requestedBytes,
  requestedStorage,
} from '../../model/storage.js';
import { LABEL_HOSTNAME } from '../../model/well-known.js';
import { formatBinaryQuantity } from '../../model/quantity.js';
import type { KubeObject } from '../../model/types.js';

/**
 * Provisioners behind one interface (Kubernetes' ProvisionableVolumePlugin, or a CSI driver behind the
 * external-provisioner): given a claim, its class and (WaitForFirstConsumer) the node its first pod
 * goes to, describe the PersistentVolume that now exists for it; given a released volume, delete what
 * backs it. The binder writes the objects and the events.
 */

export interface ProvisionRequest {
  claim: KubeObject;
  storageClass: KubeObject;
  /** The selected node, for classes that bind on first consumer. */
  node?: KubeObject;
  /** The name the volume gets: `pvc-<claim uid>`, as Kubernetes names provisioned volumes. */
  volumeName: string;
  /** Every PersistentVolume now (what a node's local volumes already take). */
  volumes: readonly KubeObject[];
}

export type ProvisionResult = { volume: KubeObject } | { failed: string };

export interface Provisioner {
  readonly name: string;
  /** Needs the node first: provisioning with volumeBindingMode Immediate fails with this message. */
  readonly needsNode?: string;
  provision(req: ProvisionRequest): Promise<ProvisionResult>;
  /**
   * Deletes what backs a released volume. `done`: the object may go; `pending`: someone else (the
   * node, for local volumes) finishes and removes the volume's finalizer.
   */
  delete(volume: KubeObject): Promise<{ done: true } | { pending: true } | { failed: string }>;
}

/**
 * kumo.dev/local: a directory per volume under the node agent's own data directory (what its Node's
 * `kumo.dev/local-volumes-dir` annotation says), reachable only on that node: the volume is a `local`
 * PersistentVolume with node affinity to it, as Kubernetes' local volumes and k3s's local-path
 * provisioner make them. The agent makes the directory at first mount and removes it when the volume
 * is deleted (then it drops the cleanup finalizer). Capacity is recorded, not enforced: a directory
 * has no quota.
 */
export const localProvisioner: Provisioner = {
  name: LOCAL_PROVISIONER,
  needsNode: `the ${LOCAL_PROVISIONER} provisioner makes a volume on the node its first pod goes to: its StorageClass needs volumeBindingMode WaitForFirstConsumer`,
  async provision({ claim, storageClass, node, volumeName, volumes }) {
    if (!node) return { failed: this.needsNode ?? 'no node selected' };
    const dir = node.metadata.annotations?.[ANN_LOCAL_VOLUMES_DIR];
    if (!dir)
      return {
        failed: `node "${node.metadata.name}" offers no local volumes: its agent's runtime mounts no volumes (the process runtime), or it predates local volumes`,
      };
    const room = localRoomOn(node, volumes);
    if (room !== undefined && requestedBytes(claim) > room)
      return {
        failed: `node "${node.metadata.name}" has ${formatBinaryQuantity(Math.max(0, room))} of local volume capacity left and the claim asks for ${requestedStorage(claim)}`,
      };
    const reclaim = String((storageClass as Record<string, unknown>).reclaimPolicy ?? 'Delete');
    const hostname = node.metadata.labels?.[LABEL_HOSTNAME] ?? node.metadata.name ?? '';
    return {
      volume: {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: {
          name: volumeName,
          annotations: { 'pv.kubernetes.io/provisioned-by': LOCAL_PROVISIONER },
          // The node must remove the directory before the object goes (reclaim policy Delete only).
          finalizers: [PV_PROTECTION_FINALIZER, ...(reclaim === 'Delete' ? [LOCAL_VOLUME_CLEANUP_FINALIZER] : [])],
        },
        spec: {
          capacity: { storage: requestedStorage(claim) },
          accessModes: accessModesOf(claim),
          persistentVolumeReclaimPolicy: reclaim,
          storageClassName: storageClass.metadata.name,
          volumeMode: 'Filesystem',
          local: { path: `${dir.replace(/\/+$/, '')}/${volumeName}` },
          nodeAffinity: {
            required: {
              nodeSelectorTerms: [{ matchExpressions: [{ key: LABEL_HOSTNAME, operator: 'In', values: [hostname] }] }],
            },
          },
          claimRef: claimRefTo(claim),
        },
      },
    };
  },
  // The directory is on the node: its agent removes it and then the finalizer.
  async delete() {
    return { pending: true };
  },
};

export const PROVISIONERS: readonly Provisioner[] = [localProvisioner];
