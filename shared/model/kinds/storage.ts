import { cause, type StatusCause } from '../errors.js';
import { isPlainObject } from '../json.js';
import { dns1123Subdomain, qualifiedName } from '../names.js';
import { ageColumn, nameColumn, or, spec, status, text, type Column } from '../printers.js';
import { isQuantity, parseQuantity } from '../quantity.js';
import {
  ACCESS_MODES,
  accessModesText,
  classOf,
  isDefaultClass,
  LOCAL_PROVISIONER,
  PV_PROTECTION_FINALIZER,
  PVC_PROTECTION_FINALIZER,
} from '../storage.js';
import type { KubeObject } from '../types.js';
import { declareKind, type KindDeclaration } from './declaration.js';

/**
 * v1 PersistentVolumeClaim and PersistentVolume, storage.k8s.io/v1 StorageClass: Kubernetes' defaults
 * (pkg/apis/core/v1/defaults.go, pkg/apis/storage/v1/defaults.go), validation
 * (pkg/apis/core/validation ValidatePersistentVolume*, pkg/apis/storage/validation) and printers. The
 * volume binder (controllers/volume) gives them their behaviour. What kumo's nodes cannot mount is
 * refused here, naming the field, rather than stored and left unbound.
 */

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (isPlainObject(v) ? v : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

export const RECLAIM_POLICIES = ['Delete', 'Recycle', 'Retain'] as const;
export const BINDING_MODES = ['Immediate', 'WaitForFirstConsumer'] as const;
const VOLUME_MODES = ['Block', 'Filesystem'] as const;
/** The volume sources a PersistentVolume may have that kumo's nodes mount. */
const MOUNTED_PV_SOURCES = ['local', 'hostPath'];
/** Every source a v1 PersistentVolumeSpec may carry (one of them). */
const PV_SOURCES = [
  'awsElasticBlockStore',
  'azureDisk',
  'azureFile',
  'cephfs',
  'cinder',
  'csi',
  'fc',
  'flexVolume',
  'flocker',
  'gcePersistentDisk',
  'glusterfs',
  'hostPath',
  'iscsi',
  'local',
  'nfs',
  'photonPersistentDisk',
  'portworxVolume',
  'quobyte',
  'rbd',
  'scaleIO',
  'storageos',
  'vsphereVolume',
];

/** field.Required with a detail: "Required value: <detail>". */
const requiredBecause = (field: string, detail: string): StatusCause => ({
  reason: 'FieldValueRequired',
  message: `Required value: ${detail}`,
  field,
});

/** ValidatePersistentVolumeClaimSpec / ValidatePersistentVolumeSpec's access mode checks. */
function accessModeCauses(modes: unknown, field: string, claim: boolean): StatusCause[] {
  const list = arr(modes);
  if (list.length === 0)
    return [claim ? requiredBecause(field, 'at least 1 access mode is required') : cause.required(field)];
  const out: StatusCause[] = [];
  for (const m of list)
    if (!ACCESS_MODES.includes(m as (typeof ACCESS_MODES)[number]))
      out.push(cause.notSupported(field, m, ACCESS_MODES));
  if (list.includes('ReadWriteOncePod') && list.length > 1)
    out.push(cause.forbidden(field, 'may not use ReadWriteOncePod with other access modes'));
  return out;
}

function classNameCauses(name: unknown, field: string): StatusCause[] {
  if (name === undefined || name === null || name === '') return [];
  return dns1123Subdomain(String(name)).map((m) => cause.invalid(field, name, m));
}

/** Raw block volumes need a device in the container (volumeDevices), which kumo refuses. */
function volumeModeCauses(mode: unknown, field: string): StatusCause[] {
  if (mode === undefined) return [];
  if (!VOLUME_MODES.includes(mode as 'Block')) return [cause.notSupported(field, mode, VOLUME_MODES)];
  return mode === 'Block' ? [cause.forbidden(field, 'raw block volumes are not supported by kumo nodes')] : [];
}

const storageQuantityCauses = (v: unknown, field: string): StatusCause[] => {
  if (v === undefined) return [cause.required(field)];
  if (!isQuantity(v))
    return [
      cause.invalid(
        field,
        v,
        "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
      ),
    ];
  return (parseQuantity(v as string) ?? 0) > 0 ? [] : [cause.invalid(field, v, 'must be greater than zero')];
};

/** ValidatePersistentVolumeClaimSpec, at `at` (a claim's `spec`, or a StatefulSet's claim template's). */
export function claimSpecCauses(s: Obj, at: string): StatusCause[] {
  const out = [
    ...accessModeCauses(s.accessModes, `${at}.accessModes`, true),
    ...storageQuantityCauses(obj(obj(s.resources).requests).storage, `${at}.resources[storage]`),
    ...classNameCauses(s.storageClassName, `${at}.storageClassName`),
    ...volumeModeCauses(s.volumeMode, `${at}.volumeMode`),
  ];
  // kumo takes no snapshots and clones nothing: a claim that asks to start from data would start empty.
  for (const f of ['dataSource', 'dataSourceRef'])
    if (s[f] !== undefined && s[f] !== null)
      out.push(cause.forbidden(`${at}.${f}`, 'kumo provisions empty volumes only (no snapshots, no clones)'));
  if (s.volumeAttributesClassName)
    out.push(cause.forbidden(`${at}.volumeAttributesClassName`, 'kumo has no VolumeAttributesClasses'));
  return out;
}

const claimCauses = (o: KubeObject): StatusCause[] => claimSpecCauses(spec(o), 'spec');

function volumeCauses(o: KubeObject): StatusCause[] {
  const s = spec(o);
  const out: StatusCause[] = [...accessModeCauses(s.accessModes, 'spec.accessModes', false)];
  const capacity = obj(s.capacity);
  if (Object.keys(capacity).length === 0) out.push(cause.required('spec.capacity'));
  // validatePersistentVolumeCapacity: exactly the one resource, storage.
  if (Object.keys(capacity).length !== 1 || capacity.storage === undefined)
    out.push(cause.notSupported('spec.capacity', capacity, ['storage']));
  if (capacity.storage !== undefined) out.push(...storageQuantityCauses(capacity.storage, 'spec.capacity[storage]'));
  const policy = s.persistentVolumeReclaimPolicy;
  if (policy !== undefined && !RECLAIM_POLICIES.includes(policy as 'Delete'))
    out.push(cause.notSupported('spec.persistentVolumeReclaimPolicy', policy, RECLAIM_POLICIES));
  else if (policy === 'Recycle')
    out.push(
      cause.forbidden('spec.persistentVolumeReclaimPolicy', 'kumo does not recycle volumes (deprecated); use Delete'),
    );
  out.push(...classNameCauses(s.storageClassName, 'spec.storageClassName'));
  out.push(...volumeModeCauses(s.volumeMode, 'spec.volumeMode'));
  const sources = PV_SOURCES.filter((k) => s[k] !== undefined && s[k] !== null);
  if (sources.length === 0) out.push(requiredBecause('spec', 'must specify a volume type'));
  else if (sources.length > 1)
    out.push(cause.forbidden(`spec.${sources[1] ?? ''}`, 'may not specify more than 1 volume type'));
  for (const k of sources)
    if (!MOUNTED_PV_SOURCES.includes(k))
      out.push(
        cause.forbidden(
          `spec.${k}`,
          `kumo nodes mount only ${MOUNTED_PV_SOURCES.join(' and ')} volumes; use a StorageClass for dynamic volumes`,
        ),
      );
  const path = (src: unknown) => obj(src).path;
  for (const k of ['local', 'hostPath'])
    if (s[k] !== undefined) {
      const p = path(s[k]);
      if (typeof p !== 'string' || p === '') out.push(cause.required(`spec.${k}.path`));
      else if (p.split('/').includes('..')) out.push(cause.invalid(`spec.${k}.path`, p, "must not contain '..'"));
      // A relative path would name a different directory on every node and agent: kumo asks for an absolute one.
      else if (!p.startsWith('/')) out.push(cause.invalid(`spec.${k}.path`, p, 'must be an absolute path'));
    }
  // validateLocalVolumeSource: a local volume lives on one node, which only its affinity says.
  if (s.local !== undefined && !obj(obj(s.nodeAffinity).required).nodeSelectorTerms)
    out.push(requiredBecause('spec.nodeAffinity', 'Local volume requires node affinity'));
  if (arr(s.mountOptions).length)
    out.push(
      cause.forbidden(
        'spec.mountOptions',
        'kumo mounts local and hostPath volumes as bind mounts: mount options are not applied',
      ),
    );
  if (s.volumeAttributesClassName)
    out.push(cause.forbidden('spec.volumeAttributesClassName', 'kumo has no VolumeAttributesClasses'));
  if (s.claimRef !== undefined && s.claimRef !== null) {
    const ref = obj(s.claimRef);
    if (!ref.name) out.push(cause.required('spec.claimRef.name'));
    if (!ref.namespace) out.push(cause.required('spec.claimRef.namespace'));
  }
  return out;
}

/** ValidateStorageClass. */
function classCauses(o: KubeObject): StatusCause[] {
  const c = o as Obj;
  const out: StatusCause[] = [];
  const provisioner = c.provisioner;
  if (typeof provisioner !== 'string' || provisioner === '') out.push(cause.required('provisioner'));
  else for (const m of qualifiedName(provisioner.toLowerCase())) out.push(cause.invalid('provisioner', provisioner, m));
  if (c.reclaimPolicy !== undefined && !['Delete', 'Retain'].includes(c.reclaimPolicy as string))
    out.push(cause.notSupported('reclaimPolicy', c.reclaimPolicy, ['Delete', 'Retain']));
  if (c.volumeBindingMode !== undefined && !BINDING_MODES.includes(c.volumeBindingMode as 'Immediate'))
    out.push(cause.notSupported('volumeBindingMode', c.volumeBindingMode, BINDING_MODES));
  const params = obj(c.parameters);
  if (Object.keys(params).length > 512)
    out.push({
      reason: 'FieldValueTooLong',
      message: 'Too long: Provisioner Parameters exceeded max allowed',
      field: 'parameters',
    });
  if ('' in params) out.push(cause.invalid('parameters', '', 'field can not be empty.'));
  if (arr(c.allowedTopologies).length && c.volumeBindingMode !== 'WaitForFirstConsumer')
    // Accepted by Kubernetes with any mode; kumo honours topology only where it picks the node first
    // (the scheduler's VolumeBinding filter), not for Immediate provisioning.
    out.push(
      cause.forbidden(
        'allowedTopologies',
        'kumo honours allowedTopologies only with volumeBindingMode WaitForFirstConsumer',
      ),
    );
  // kumo's volumes are bind mounts of directories: no mount options would reach them.
  if (arr(c.mountOptions).length)
    out.push(
      cause.forbidden(
        'mountOptions',
        'kumo mounts volumes as bind mounts of directories: mount options are not applied',
      ),
    );
  // Its own provisioner takes none; another provisioner's parameters are that provisioner's to read.
  if (c.provisioner === LOCAL_PROVISIONER)
    for (const k of Object.keys(params))
      out.push(cause.forbidden(`parameters[${k}]`, `the ${LOCAL_PROVISIONER} provisioner takes no parameters`));
  return out;
}

/** The phase, or Terminating once deletion started (printPersistentVolume/Claim). */
const phaseCell = (o: KubeObject) => (o.metadata.deletionTimestamp ? 'Terminating' : text(status(o).phase));

const attributesClassColumn: Column = {
  name: 'VolumeAttributesClass',
  type: 'string',
  description: 'The volume attributes class.',
  cell: (o) => or(spec(o).volumeAttributesClassName, '<unset>'),
};
const volumeModeColumn: Column = {
  name: 'VolumeMode',
  type: 'string',
  priority: 1,
  description: 'Whether the volume is a filesystem or a raw block device.',
  cell: (o) => or(spec(o).volumeMode, '<unset>'),
};

const CLAIM_DEFAULTS = (o: KubeObject) => {
  const s = (o.spec ??= {}) as Obj;
  s.volumeMode ??= 'Filesystem';
};

export const STORAGE_KINDS: readonly KindDeclaration[] = [
  declareKind('PersistentVolumeClaim', '', 'v1', 'persistentvolumeclaims', {
    openApi: 'V1PersistentVolumeClaim',
    shortNames: ['pvc'],
    status: true,
    reconciled: true,
    validate: claimCauses,
    defaults: CLAIM_DEFAULTS,
    // The StorageObjectInUseProtection admission plugin: no claim is deleted under a pod that uses it.
    admit: (o, { creating }) => {
      if (!creating) return;
      const f = (o.metadata.finalizers ??= []);
      if (!f.includes(PVC_PROTECTION_FINALIZER)) f.push(PVC_PROTECTION_FINALIZER);
    },
    initialStatus: () => ({ phase: 'Pending' }),
    // printPersistentVolumeClaim.
    columns: [
      nameColumn,
      { name: 'Status', type: 'string', description: 'The claim phase.', cell: phaseCell },
      { name: 'Volume', type: 'string', description: 'The bound volume.', cell: (o) => text(spec(o).volumeName) },
      {
        name: 'Capacity',
        type: 'string',
        description: 'The capacity of the bound volume.',
        cell: (o) => (spec(o).volumeName ? text(status(o).capacity?.storage) : ''),
      },
      {
        name: 'Access Modes',
        type: 'string',
        description: 'The access modes of the bound volume.',
        cell: (o) => (spec(o).volumeName ? accessModesText(status(o).accessModes ?? []) : ''),
      },
      {
        name: 'StorageClass',
        type: 'string',
        description: 'The storage class of the claim.',
        cell: (o) => text(classOf(o) ?? ''),
      },
      attributesClassColumn,
      ageColumn,
      volumeModeColumn,
    ],
  }),

  declareKind('PersistentVolume', '', 'v1', 'persistentvolumes', {
    openApi: 'V1PersistentVolume',
    namespaced: false,
    shortNames: ['pv'],
    status: true,
    reconciled: true,
    validate: volumeCauses,
    defaults: (o) => {
      const s = (o.spec ??= {}) as Obj;
      s.persistentVolumeReclaimPolicy ??= 'Retain';
      s.volumeMode ??= 'Filesystem';
    },
    admit: (o, { creating }) => {
      if (!creating) return;
      const f = (o.metadata.finalizers ??= []);
      if (!f.includes(PV_PROTECTION_FINALIZER)) f.push(PV_PROTECTION_FINALIZER);
    },
    initialStatus: () => ({ phase: 'Pending' }),
    // printPersistentVolume.
    columns: [
      nameColumn,
      {
        name: 'Capacity',
        type: 'string',
        description: 'The capacity of the volume.',
        cell: (o) => text(spec(o).capacity?.storage),
      },
      {
        name: 'Access Modes',
        type: 'string',
        description: 'The access modes of the volume.',
        cell: (o) => accessModesText(spec(o).accessModes ?? []),
      },
      {
        name: 'Reclaim Policy',
        type: 'string',
        description: 'What happens to the volume when its claim is deleted.',
        cell: (o) => text(spec(o).persistentVolumeReclaimPolicy),
      },
      { name: 'Status', type: 'string', description: 'The volume phase.', cell: phaseCell },
      {
        name: 'Claim',
        type: 'string',
        description: 'The claim bound to the volume.',
        cell: (o) => {
          const ref = spec(o).claimRef;
          return ref?.name ? `${text(ref.namespace)}/${text(ref.name)}` : '';
        },
      },
      {
        name: 'StorageClass',
        type: 'string',
        description: 'The storage class of the volume.',
        cell: (o) => text(classOf(o) ?? ''),
      },
      attributesClassColumn,
      {
        name: 'Reason',
        type: 'string',
        description: 'Why the volume is in its phase.',
        cell: (o) => text(status(o).reason),
      },
      ageColumn,
      volumeModeColumn,
    ],
  }),

  declareKind('StorageClass', 'storage.k8s.io', 'v1', 'storageclasses', {
    openApi: 'V1StorageClass',
    namespaced: false,
    shortNames: ['sc'],
    validate: classCauses,
    defaults: (o) => {
      const c = o as Obj;
      c.reclaimPolicy ??= 'Delete';
      c.volumeBindingMode ??= 'Immediate';
    },
    // printStorageClass.
    columns: [
      {
        ...nameColumn,
        cell: (o) => `${o.metadata.name}${isDefaultClass(o) ? ' (default)' : ''}`,
      },
      {
        name: 'Provisioner',
        type: 'string',
        description: 'The provisioner.',
        cell: (o) => text((o as Obj).provisioner),
      },
      {
        name: 'ReclaimPolicy',
        type: 'string',
        description: 'What happens to its volumes when their claims are deleted.',
        cell: (o) => text((o as Obj).reclaimPolicy),
      },
      {
        name: 'VolumeBindingMode',
        type: 'string',
        description: 'When volumes are bound and provisioned.',
        cell: (o) => text((o as Obj).volumeBindingMode),
      },
      {
        name: 'AllowVolumeExpansion',
        type: 'string',
        description: 'Whether claims may grow.',
        cell: (o) => String((o as Obj).allowVolumeExpansion === true),
      },
      ageColumn,
    ],
  }),
];
