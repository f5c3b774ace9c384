import { cause, type StatusCause } from '../model/errors.js';
import { jsonEqual } from '../model/json.js';
import type { KubeObject } from '../model/types.js';
import { serviceUpdateCauses } from './service-allocation.js';
import { TZ_IN_SCHEDULE } from '../model/kinds/batch.js';
import { parseQuantity } from '../model/quantity.js';
import { roleRefChangeCauses } from '../model/kinds/rbac.js';

/** Fields that may not change after create, as Kubernetes' ValidateUpdate functions enforce them. */

type Obj = Record<string, unknown>;
const spec = (o: KubeObject): Obj => (o.spec ?? {}) as Obj;

/** A pod's spec is fixed once created, except these (kubelet and controllers rely on it). */
function podUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const strip = (s: Obj) => {
    const copy = structuredClone(s);
    delete copy.activeDeadlineSeconds;
    delete copy.tolerations;
    delete copy.terminationGracePeriodSeconds;
    for (const c of [...((copy.containers as Obj[]) ?? []), ...((copy.initContainers as Obj[]) ?? [])]) delete c.image;
    return copy;
  };
  if (jsonEqual(strip(spec(next)), strip(spec(prev)))) return [];
  // spec.nodeName is set by a binding only (the scheduler's, or pods/binding), never by an update: an
  // update would place the pod where no filter ran and no node's capacity ledger counts it. Kubernetes
  // names the whole spec; when nodeName is what changed, the cause names it so a client sees why.
  const onlyNodeName =
    !jsonEqual(spec(next).nodeName, spec(prev).nodeName) &&
    jsonEqual(strip({ ...spec(next), nodeName: null }), strip({ ...spec(prev), nodeName: null }));
  return [
    cause.forbidden(
      onlyNodeName ? 'spec.nodeName' : 'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}

const immutableField = (field: string, a: unknown, b: unknown): StatusCause[] =>
  jsonEqual(a, b)
    ? []
    : [{ reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(a)}: field is immutable`, field }];

/** ValidateStatefulSetUpdate: only these spec fields may change. */
const STATEFULSET_MUTABLE = [
  'replicas',
  'ordinals',
  'template',
  'updateStrategy',
  'persistentVolumeClaimRetentionPolicy',
  'minReadySeconds',
] as const;

function statefulSetUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const fixed = (o: KubeObject) => {
    const copy: Obj = { ...spec(o) };
    for (const f of STATEFULSET_MUTABLE) delete copy[f];
    return copy;
  };
  if (jsonEqual(fixed(next), fixed(prev))) return [];
  return [
    cause.forbidden(
      'spec',
      "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    ),
  ];
}

/** ValidateCronJobUpdate: TZ in the schedule only where the old schedule had it, and then not with timeZone. */
function cronJobUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const schedule = String(spec(next).schedule ?? '');
  if (!schedule.includes('TZ')) return [];
  if (!String(spec(prev).schedule ?? '').includes('TZ'))
    return [cause.invalid('spec.schedule', schedule, TZ_IN_SCHEDULE)];
  return spec(next).timeZone != null
    ? [cause.invalid('spec.schedule', schedule, 'cannot use both timeZone field and TZ or CRON_TZ in schedule')]
    : [];
}

/** ValidatePersistentVolumeClaimUpdate: volumeName and a missing class may be set once; the rest stays. */
function claimUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const out: StatusCause[] = [];
  const storage = (o: KubeObject) => ((spec(o).resources as Obj | undefined)?.requests as Obj | undefined)?.storage;
  const [was, now] = [parseQuantity(String(storage(prev) ?? '')), parseQuantity(String(storage(next) ?? ''))];
  if (was !== undefined && now !== undefined && now < was)
    out.push(cause.forbidden('spec.resources.requests.storage', 'field can not be less than previous value'));
  else if (was !== undefined && now !== undefined && now > was)
    // Kubernetes expands through the class's provisioner; kumo's provisioners cannot yet, so nothing would grow.
    out.push(cause.forbidden('spec.resources.requests.storage', 'kumo does not expand volumes yet'));
  const comparable = (o: KubeObject, other: KubeObject) => {
    const s = structuredClone(spec(o));
    if (!spec(prev).volumeName) s.volumeName = spec(other).volumeName;
    if (spec(prev).storageClassName == null) s.storageClassName = spec(other).storageClassName;
    delete s.resources;
    delete s.volumeMode;
    return s;
  };
  if (!jsonEqual(comparable(next, next), comparable(prev, next)))
    out.push(
      cause.forbidden(
        'spec',
        'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims',
      ),
    );
  out.push(...immutableField('volumeMode', spec(next).volumeMode, spec(prev).volumeMode));
  return out;
}

/** ValidatePersistentVolumeUpdate: the volume source, its mode and a set node affinity stay. */
function volumeUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const source = (o: KubeObject) => {
    const s = structuredClone(spec(o));
    for (const k of [
      'capacity',
      'accessModes',
      'claimRef',
      'persistentVolumeReclaimPolicy',
      'storageClassName',
      'mountOptions',
      'nodeAffinity',
      'volumeMode',
      'volumeAttributesClassName',
    ])
      delete s[k];
    return s;
  };
  return [
    ...(jsonEqual(source(next), source(prev))
      ? []
      : [cause.forbidden('spec.persistentvolumesource', 'spec.persistentvolumesource is immutable after creation')]),
    ...immutableField('volumeMode', spec(next).volumeMode, spec(prev).volumeMode),
    ...(spec(prev).nodeAffinity
      ? immutableField('nodeAffinity', spec(next).nodeAffinity, spec(prev).nodeAffinity)
      : []),
  ];
}

/** ValidateStorageClassUpdate. */
function storageClassUpdateCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  const [n, p] = [next as Obj, prev as Obj];
  const forbid = (f: string) =>
    jsonEqual(n[f] ?? null, p[f] ?? null) ? [] : [cause.forbidden(f, `updates to ${f} are forbidden.`)];
  return [
    ...forbid('parameters'),
    ...forbid('provisioner'),
    ...forbid('reclaimPolicy'),
    ...immutableField('volumeBindingMode', n.volumeBindingMode, p.volumeBindingMode),
  ];
}

export function immutabilityCauses(next: KubeObject, prev: KubeObject): StatusCause[] {
  switch (next.kind) {
    case 'Pod':
      return podUpdateCauses(next, prev);
    case 'Service':
      return serviceUpdateCauses(next, prev);
    case 'Deployment':
    case 'ReplicaSet':
    case 'DaemonSet':
      return immutableField('spec.selector', spec(next).selector, spec(prev).selector);
    case 'StatefulSet':
      return statefulSetUpdateCauses(next, prev);
    case 'CronJob':
      return cronJobUpdateCauses(next, prev);
    case 'PersistentVolumeClaim':
      return claimUpdateCauses(next, prev);
    case 'PersistentVolume':
      return volumeUpdateCauses(next, prev);
    case 'StorageClass':
      return storageClassUpdateCauses(next, prev);
    case 'ControllerRevision':
      return immutableField('data', next.data, prev.data);
    case 'RoleBinding':
    case 'ClusterRoleBinding':
      return roleRefChangeCauses(next, prev);
    case 'Job':
      return [
        ...immutableField('spec.selector', spec(next).selector, spec(prev).selector),
        ...immutableField('spec.completions', spec(next).completions, spec(prev).completions),
        ...immutableField('spec.template', spec(next).template, spec(prev).template),
      ];
    case 'ConfigMap':
    case 'Secret':
      if (prev.immutable !== true) return [];
      return [
        ...immutableField('immutable', next.immutable, prev.immutable),
        ...immutableField('data', next.data, prev.data),
        ...(next.kind === 'ConfigMap' ? immutableField('binaryData', next.binaryData, prev.binaryData) : []),
      ];
    default:
      return [];
  }
}
