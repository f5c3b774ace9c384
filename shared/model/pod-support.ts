import { cause, type StatusCause } from './errors.js';
import { isPlainObject } from './json.js';

/**
 * Admission's half of the fidelity rule for pods and pod templates: what no kumo node can ever honour
 * is refused with a 422 naming the field, and the volume mounts get Kubernetes' own checks
 * (pkg/apis/core/validation: ValidateVolumeMounts, validateMountPropagation, validateHostPathType).
 * What only some runtimes can do is the node's to report (agent/runtime-support.ts). The README's
 * "Pod fields" table lists every field with what happens to it; test/unit/model/pod-support.test.ts
 * holds the table to this module.
 */

/** The volume types kumo nodes mount. */
export const SUPPORTED_VOLUMES = [
  'emptyDir',
  'configMap',
  'secret',
  'downwardAPI',
  'projected',
  'hostPath',
  'persistentVolumeClaim',
] as const;

const HOST_PATH_TYPES = [
  '',
  'DirectoryOrCreate',
  'Directory',
  'FileOrCreate',
  'File',
  'Socket',
  'CharDevice',
  'BlockDevice',
];
const PROPAGATION = ['None', 'HostToContainer', 'Bidirectional'];

/** Pod fields refused wherever they are set, with why. */
export const REFUSED_POD_FIELDS: Record<string, string> = {
  ephemeralContainers: 'cannot be set on create (kumo serves no ephemeralcontainers subresource)',
  runtimeClassName: 'kumo has no RuntimeClasses',
  overhead: 'pod overhead comes from a RuntimeClass, and kumo has none',
  resourceClaims: 'kumo does not allocate dynamic resources (DRA)',
  resources: 'pod-level resources are not supported; set them per container',
  hostnameOverride: 'not supported (an alpha field)',
  readinessGates: 'kumo nodes do not evaluate readiness gates yet',
};

/** Container fields refused wherever they are set, with why. */
export const REFUSED_CONTAINER_FIELDS: Record<string, string> = {
  stdin: 'kumo does not attach to containers',
  stdinOnce: 'kumo does not attach to containers',
  tty: 'kumo does not attach to containers',
  volumeDevices: 'raw block volumes are not supported',
  restartPolicy: 'sidecar containers (restartPolicy in a container) are not supported yet',
  restartPolicyRules: 'not supported (an alpha field)',
};

type Obj = Record<string, unknown>;
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isPlainObject) : []);
const set = (v: unknown) => v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0);
const nonEmpty = (v: unknown) => isPlainObject(v) && Object.keys(v).length > 0;

/** validateLocalNonReservedPath: relative, no `..` element, not starting with `..` (kubelet's reserved names). */
function localPathProblems(p: unknown, field: string): StatusCause[] {
  if (typeof p !== 'string') return [];
  if (p === '') return [cause.required(field)];
  if (p.startsWith('/')) return [cause.invalid(field, p, 'must be a relative path')];
  if (p.split('/').includes('..')) return [cause.invalid(field, p, "must not contain '..'")];
  if (p.startsWith('..')) return [cause.invalid(field, p, "must not start with '..'")];
  return [];
}

/** File modes of projected files: 0 to 0777 (no setuid, setgid or sticky bits). */
function modeProblems(mode: unknown, field: string): StatusCause[] {
  if (mode === undefined || (typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 0o777))
    return [];
  return [cause.invalid(field, mode, 'must be a number between 0 and 0777 (octal), both inclusive')];
}

/** items (KeyToPath or DownwardAPIVolumeFile) and modes of one projection source found at `at`. */
function projectionProblems(source: unknown, at: string): StatusCause[] {
  if (!isPlainObject(source)) return [];
  const out = modeProblems(source.defaultMode, `${at}.defaultMode`);
  arr(source.items).forEach((item, k) => {
    out.push(...localPathProblems(item.path, `${at}.items[${k}].path`));
    out.push(...modeProblems(item.mode, `${at}.items[${k}].mode`));
  });
  return out;
}

/** validateProjectionSources for a serviceAccountToken source: a path, and a lifetime from ten minutes to 2^32 s. */
function tokenProjectionProblems(t: Obj, at: string): StatusCause[] {
  const out: StatusCause[] = [];
  const seconds = t.expirationSeconds;
  if (typeof seconds === 'number' && seconds < 600)
    out.push(cause.invalid(`${at}.expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
  if (typeof seconds === 'number' && seconds > 2 ** 32)
    out.push(cause.invalid(`${at}.expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
  if (t.path === undefined || t.path === '') out.push(cause.required(`${at}.path`));
  else out.push(...localPathProblems(t.path, `${at}.path`));
  return out;
}

function volumeProblems(volumes: Obj[], at: string): StatusCause[] {
  const out: StatusCause[] = [];
  volumes.forEach((v, i) => {
    const path = `${at}.volumes[${i}]`;
    for (const kind of ['configMap', 'secret', 'downwardAPI', 'projected'])
      out.push(...projectionProblems(v[kind], `${path}.${kind}`));
    arr(isPlainObject(v.projected) ? v.projected.sources : undefined).forEach((src, j) => {
      for (const kind of ['configMap', 'secret', 'downwardAPI'])
        out.push(...projectionProblems(src[kind], `${path}.projected.sources[${j}].${kind}`));
      if (isPlainObject(src.serviceAccountToken))
        out.push(
          ...tokenProjectionProblems(src.serviceAccountToken, `${path}.projected.sources[${j}].serviceAccountToken`),
        );
    });
    for (const key of Object.keys(v)) {
      if (key === 'name' || (SUPPORTED_VOLUMES as readonly string[]).includes(key)) continue;
      out.push(
        cause.forbidden(
          `${path}.${key}`,
          `kumo nodes cannot mount ${key} volumes (supported: ${SUPPORTED_VOLUMES.join(', ')})`,
        ),
      );
    }
    const medium = isPlainObject(v.emptyDir) ? v.emptyDir.medium : undefined;
    if (medium !== undefined && medium !== '' && medium !== 'Memory')
      out.push(cause.notSupported(`${path}.emptyDir.medium`, medium, ['', 'Memory']));
    const hostPathType = isPlainObject(v.hostPath) ? v.hostPath.type : undefined;
    if (hostPathType !== undefined && !HOST_PATH_TYPES.includes(String(hostPathType)))
      out.push(cause.notSupported(`${path}.hostPath.type`, hostPathType, HOST_PATH_TYPES));
    arr(isPlainObject(v.projected) ? v.projected.sources : undefined).forEach((s, j) => {
      for (const key of Object.keys(s))
        if (!['configMap', 'secret', 'downwardAPI', 'serviceAccountToken'].includes(key))
          out.push(
            cause.forbidden(
              `${path}.projected.sources[${j}].${key}`,
              `kumo cannot project ${key} (supported: configMap, secret, downwardAPI, serviceAccountToken)`,
            ),
          );
    });
  });
  return out;
}

function mountProblems(c: Obj, at: string, volumeNames: Set<string>): StatusCause[] {
  const out: StatusCause[] = [];
  const seen = new Set<string>();
  arr(c.volumeMounts).forEach((m, j) => {
    const path = `${at}.volumeMounts[${j}]`;
    if (typeof m.name === 'string' && !volumeNames.has(m.name))
      out.push({
        reason: 'FieldValueNotFound',
        message: `Not found: ${JSON.stringify(m.name)}`,
        field: `${path}.name`,
      });
    if (typeof m.mountPath === 'string') {
      if (seen.has(m.mountPath)) out.push(cause.invalid(`${path}.mountPath`, m.mountPath, 'must be unique'));
      seen.add(m.mountPath);
    }
    for (const key of ['subPath', 'subPathExpr'] as const) {
      const sub = m[key];
      if (typeof sub !== 'string' || sub === '') continue;
      if (sub.startsWith('/')) out.push(cause.invalid(`${path}.${key}`, sub, 'must be a relative path'));
      else if (sub.split('/').includes('..')) out.push(cause.invalid(`${path}.${key}`, sub, "must not contain '..'"));
    }
    if (m.subPath && m.subPathExpr)
      out.push(cause.invalid(`${path}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
    const propagation = m.mountPropagation;
    if (propagation !== undefined) {
      if (!PROPAGATION.includes(String(propagation)))
        out.push(cause.notSupported(`${path}.mountPropagation`, propagation, PROPAGATION));
      else if (propagation !== 'None')
        out.push(cause.forbidden(`${path}.mountPropagation`, 'kumo nodes mount volumes with propagation None only'));
    }
    if (m.recursiveReadOnly === 'Enabled')
      out.push(cause.forbidden(`${path}.recursiveReadOnly`, 'recursively read-only mounts are not supported'));
  });
  return out;
}

function securityProblems(sc: unknown, at: string): StatusCause[] {
  if (!isPlainObject(sc)) return [];
  return nonEmpty(sc.seLinuxOptions)
    ? [cause.forbidden(`${at}.seLinuxOptions`, 'SELinux is not available on kumo nodes')]
    : [];
}

/**
 * What admission refuses in a pod spec found at `at` (`spec`, or `spec.template.spec` of a workload).
 * `claimedVolumes` are volume names the workload adds to its pods (a StatefulSet's claim templates).
 */
export function podSupportProblems(spec: unknown, at: string, claimedVolumes: string[] = []): StatusCause[] {
  if (!isPlainObject(spec)) return [];
  const out: StatusCause[] = [];
  for (const [field, why] of Object.entries(REFUSED_POD_FIELDS))
    if (set(spec[field]) && !(isPlainObject(spec[field]) && !nonEmpty(spec[field])))
      out.push(cause.forbidden(`${at}.${field}`, why));
  if (spec.hostUsers === false)
    out.push(cause.forbidden(`${at}.hostUsers`, 'user namespaces are not supported on kumo nodes'));
  const os = isPlainObject(spec.os) ? spec.os.name : undefined;
  if (os !== undefined && os !== 'linux') out.push(cause.forbidden(`${at}.os.name`, 'kumo nodes run Linux'));
  out.push(...securityProblems(spec.securityContext, `${at}.securityContext`));
  const volumes = arr(spec.volumes);
  out.push(...volumeProblems(volumes, at));
  const names = new Set([...volumes.map((v) => String(v.name)), ...claimedVolumes]);
  for (const list of ['initContainers', 'containers'] as const)
    arr(spec[list]).forEach((c, i) => {
      const cat = `${at}.${list}[${i}]`;
      for (const [field, why] of Object.entries(REFUSED_CONTAINER_FIELDS))
        if (set(c[field])) out.push(cause.forbidden(`${cat}.${field}`, why));
      out.push(...mountProblems(c, cat, names));
      out.push(...securityProblems(c.securityContext, `${cat}.securityContext`));
      const limits = isPlainObject(c.resources) && isPlainObject(c.resources.limits) ? c.resources.limits : {};
      for (const r of Object.keys(limits))
        if (r.startsWith('hugepages-'))
          out.push(cause.forbidden(`${cat}.resources.limits[${r}]`, 'huge pages are not available on kumo nodes'));
    });
  return out;
}

/** The same for a workload's pod template. */
export function templateSupportProblems(o: { spec?: unknown }): StatusCause[] {
  const template = isPlainObject(o.spec) ? o.spec.template : undefined;
  // A StatefulSet's pods get a volume per claim template, which their containers mount by its name.
  const claimed = arr(isPlainObject(o.spec) ? o.spec.volumeClaimTemplates : undefined)
    .map((t) => (isPlainObject(t.metadata) ? t.metadata.name : undefined))
    .filter((n): n is string => typeof n === 'string');
  return podSupportProblems(isPlainObject(template) ? template.spec : undefined, 'spec.template.spec', claimed);
}
