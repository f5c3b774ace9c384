import type { KubeObject } from './types.js';
import { parseQuantity } from './quantity.js';

/**
 * What every layer reads of PersistentVolumeClaims, PersistentVolumes and StorageClasses: the names
 * Kubernetes gives their annotations and finalizers, and the small questions (what a claim asks for,
 * which class it names, which node a volume lives on) answered one way for the binder, the scheduler,
 * the agent and the printers.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;
/** kubectl's short forms (GetAccessModesAsString). */
const ACCESS_MODE_SHORT: Record<string, string> = {
  ReadWriteOnce: 'RWO',
  ReadOnlyMany: 'ROX',
  ReadWriteMany: 'RWX',
  ReadWriteOncePod: 'RWOP',
};

/** The StorageClass annotation that makes it the default (storageutil.IsDefaultAnnotation; the beta name too). */
export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

/** The PV controller's annotations (pkg/controller/volume/persistentvolume/util). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
export const ANN_PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** Written by the scheduler on a WaitForFirstConsumer claim: the node its first pod goes to. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';

export const PVC_PROTECTION_FINALIZER = 'kubernetes.io/pvc-protection';
export const PV_PROTECTION_FINALIZER = 'kubernetes.io/pv-protection';
/**
 * Holds a local volume whose reclaim policy is Delete until its node has removed the directory (the
 * role of the CSI external-provisioner's `external-provisioner.volume.kubernetes.io/finalizer`).
 */
export const LOCAL_VOLUME_CLEANUP_FINALIZER = 'kumo.dev/local-volume-cleanup';

/** The provisioner of classes for static volumes only (local volumes an administrator made): nothing is provisioned. */
export const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

/** kumo's own provisioner: a directory per volume under the node agent's data directory. */
export const LOCAL_PROVISIONER = 'kumo.dev/local';
/** Where a node offers local volumes: the directory its agent makes them in (absent: it offers none). */
export const ANN_LOCAL_VOLUMES_DIR = 'kumo.dev/local-volumes-dir';
/** What a node's local volumes may add up to (a quantity): the provisioner and the scheduler keep within it. */
export const ANN_LOCAL_VOLUMES_CAPACITY = 'kumo.dev/local-volumes-capacity';

/**
 * The room left for local volumes on `node`, in bytes, given every volume (undefined: the node sets no
 * limit). Each local volume counts its capacity until its object is gone, as its directory may hold that much.
 */
export function localRoomOn(node: KubeObject, volumes: readonly KubeObject[]): number | undefined {
  const capacity = node.metadata.annotations?.[ANN_LOCAL_VOLUMES_CAPACITY];
  if (capacity === undefined) return undefined;
  const used = volumes
    .filter((pv) => localVolumeNodeOf(pv) === node.metadata.name)
    .reduce((sum, pv) => sum + capacityBytes(pv), 0);
  return (parseQuantity(capacity) ?? 0) - used;
}

export const accessModesOf = (o: KubeObject): string[] => strings(obj(o.spec).accessModes);

/** "RWO,RWX" as kubectl prints access modes: in Kubernetes' fixed order, each once. */
export const accessModesText = (modes: readonly string[]): string =>
  ACCESS_MODES.filter((m) => modes.includes(m))
    .map((m) => ACCESS_MODE_SHORT[m])
    .join(',');

/**
 * The class a claim or volume names: `spec.storageClassName`, else the beta annotation Kubernetes still
 * honours (storagehelpers.GetPersistentVolumeClaimClass). `undefined` means none was named (the
 * default class may be given), "" means explicitly no class.
 */
export function classOf(o: KubeObject): string | undefined {
  const beta = o.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
  if (beta !== undefined) return beta;
  const name = obj(o.spec).storageClassName;
  return typeof name === 'string' ? name : undefined;
}

/** What a claim asks for, as written ("1Gi"). */
export const requestedStorage = (claim: KubeObject): string =>
  String(obj(obj(obj(claim.spec).resources).requests).storage ?? '');

/** What a claim asks for, in bytes (0 when unreadable: validation refuses those). */
export const requestedBytes = (claim: KubeObject): number =>
  parseQuantity(obj(obj(obj(claim.spec).resources).requests).storage as string) ?? 0;

/** A volume's size, in bytes. */
export const capacityBytes = (pv: KubeObject): number =>
  parseQuantity(obj(obj(pv.spec).capacity).storage as string) ?? 0;

export const isDefaultClass = (sc: KubeObject): boolean =>
  sc.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true' ||
  sc.metadata.annotations?.[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';

/** The default class when several are marked: the newest, then by name, as Kubernetes 1.26+ picks. */
export function defaultClassOf(classes: readonly KubeObject[]): KubeObject | undefined {
  return classes
    .filter((c) => isDefaultClass(c) && !c.metadata.deletionTimestamp)
    .sort(
      (a, b) =>
        String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')) ||
        (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
    )[0];
}

export const bindingModeOf = (sc: KubeObject | undefined): 'Immediate' | 'WaitForFirstConsumer' =>
  obj(sc).volumeBindingMode === 'WaitForFirstConsumer' ? 'WaitForFirstConsumer' : 'Immediate';

/** The claims a pod mounts, by volume: `persistentVolumeClaim` volumes (ephemeral volumes are refused at admission). */
export function claimNamesOf(pod: KubeObject): string[] {
  const volumes = Array.isArray(obj(pod.spec).volumes) ? (obj(pod.spec).volumes as unknown[]) : [];
  return [
    ...new Set(
      volumes
        .map((v) => obj(obj(v).persistentVolumeClaim).claimName)
        .filter((n): n is string => typeof n === 'string' && n !== ''),
    ),
  ];
}

export const volumeNameOf = (claim: KubeObject): string | undefined => {
  const v = obj(claim.spec).volumeName;
  return typeof v === 'string' && v !== '' ? v : undefined;
};

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

export interface ClaimRef {
  namespace?: string;
  name?: string;
  uid?: string;
}

export const claimRefOf = (pv: KubeObject): ClaimRef | undefined => {
  const ref = obj(obj(pv.spec).claimRef);
  if (!Object.keys(ref).length) return undefined;
  return { namespace: str(ref.namespace), name: str(ref.name), uid: str(ref.uid) };
};

export const phaseOf = (o: KubeObject): string | undefined => obj(o.status).phase as string | undefined;

/** Set on a kumo local volume by its node when it first makes the directory (before that, there is nothing to remove). */
export const ANN_LOCAL_VOLUME_MADE = 'kumo.dev/local-volume-made';
export const localVolumeMade = (pv: KubeObject): boolean =>
  pv.metadata.annotations?.[ANN_LOCAL_VOLUME_MADE] !== undefined;

/** A kumo local volume whose directory its node must remove before the object goes (reclaim policy Delete). */
export const awaitsLocalCleanup = (pv: KubeObject): boolean =>
  (pv.metadata.finalizers ?? []).includes(LOCAL_VOLUME_CLEANUP_FINALIZER);

/** The node a kumo local volume lives on (the one value of its hostname node affinity); undefined for every other volume. */
export function localVolumeNodeOf(pv: KubeObject): string | undefined {
  if (pv.metadata.annotations?.[ANN_PROVISIONED_BY] !== LOCAL_PROVISIONER) return undefined;
  const terms = obj(obj(obj(pv.spec).nodeAffinity).required).nodeSelectorTerms;
  const first = Array.isArray(terms) ? obj(terms[0]) : {};
  const exprs = Array.isArray(first.matchExpressions) ? first.matchExpressions.map(obj) : [];
  const host = exprs.find((e) => e.key === 'kubernetes.io/hostname' && e.operator === 'In');
  const values = strings(host?.values);
  return values.length === 1 ? values[0] : undefined;
}

/** The claimRef a volume bound or reserved for `claim` carries (its resourceVersion when binding, as Kubernetes writes it). */
export function claimRefTo(claim: KubeObject, withVersion = false): Record<string, unknown> {
  return {
    kind: 'PersistentVolumeClaim',
    apiVersion: 'v1',
    namespace: claim.metadata.namespace,
    name: claim.metadata.name,
    uid: claim.metadata.uid,
    ...(withVersion ? { resourceVersion: claim.metadata.resourceVersion } : {}),
  };
}
