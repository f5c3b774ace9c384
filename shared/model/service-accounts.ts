import { ForbiddenError } from './errors.js';
import { isPlainObject } from './json.js';
import type { KubeObject } from './types.js';

/** The account every namespace has and a pod without serviceAccountName runs as. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';

/** Finds a ServiceAccount of the pods' namespace by name (undefined: there is none). */
export type ServiceAccountLookup = (name: string) => Promise<KubeObject | undefined>;

/** Where kubelet mounts a pod's API credentials (DefaultAPITokenMountPath). */
export const TOKEN_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** The prefix of the projected volume admission adds (ServiceAccountVolumeName). */
export const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** The ConfigMap with the API's CA bundle in every namespace (the root CA publisher's). */
export const ROOT_CA_CONFIG_MAP = 'kube-root-ca.crt';
/**
 * The token's lifetime admission asks for: kube-apiserver's magic 3607 s (an hour and a bit, so a
 * token of this volume is told apart from one a client asked for).
 */
const TOKEN_EXPIRATION_SECONDS = 3607;

/** The projected source of a pod's API credentials (serviceaccount admission.go, TokenVolumeSource). */
export function tokenVolumeSource(): Record<string, unknown> {
  return {
    defaultMode: 0o644,
    sources: [
      { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
      { configMap: { name: ROOT_CA_CONFIG_MAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
      {
        downwardAPI: {
          items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
        },
      },
    ],
  };
}

/** Whether this is the volume admission adds for the token (by its name and projection). */
export function isTokenVolume(v: unknown): boolean {
  return (
    isPlainObject(v) &&
    typeof v.name === 'string' &&
    v.name.startsWith(TOKEN_VOLUME_PREFIX) &&
    isPlainObject(v.projected) &&
    Array.isArray(v.projected.sources) &&
    v.projected.sources.some((s) => isPlainObject(s) && s.serviceAccountToken !== undefined)
  );
}

type Obj = Record<string, unknown>;
const containersOf = (spec: Obj): Obj[] =>
  [spec.initContainers, spec.containers].flatMap((list) =>
    Array.isArray(list) ? list.filter((c): c is Obj => isPlainObject(c)) : [],
  );
const mountsOf = (c: Obj): Obj[] =>
  Array.isArray(c.volumeMounts) ? c.volumeMounts.filter((m): m is Obj => isPlainObject(m)) : [];

/**
 * The pod's own choice, else its account's, else true (admission.go shouldAutomount).
 */
const shouldAutomount = (spec: Obj, account: KubeObject) =>
  typeof spec.automountServiceAccountToken === 'boolean'
    ? spec.automountServiceAccountToken
    : account.automountServiceAccountToken !== false;

/**
 * mountServiceAccountToken: every init and app container without a mount at the token path gets one
 * of the `kube-api-access-<random>` volume (a volume the pod already has by that prefix is reused),
 * read-only; the volume is added when some container needs it.
 */
function mountToken(spec: Obj, suffix: string): void {
  const volumes = Array.isArray(spec.volumes) ? (spec.volumes as unknown[]) : [];
  const existing = volumes.find(
    (v): v is Obj => isPlainObject(v) && typeof v.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX),
  );
  const name = existing ? String(existing.name) : `${TOKEN_VOLUME_PREFIX}${suffix}`;
  let needed = false;
  for (const c of containersOf(spec)) {
    if (mountsOf(c).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) continue;
    c.volumeMounts = [...mountsOf(c), { name, readOnly: true, mountPath: TOKEN_MOUNT_PATH }];
    needed = true;
  }
  if (!existing && needed) spec.volumes = [...volumes, { name, projected: tokenVolumeSource() }];
}

const nameRefs = (v: unknown): { name: string }[] =>
  (Array.isArray(v) ? v : [])
    .map((r: unknown) => (isPlainObject(r) && typeof r.name === 'string' ? { name: r.name } : undefined))
    .filter((r): r is { name: string } => r !== undefined);

/**
 * Kubernetes' ServiceAccount admission for pods being created (plugin/pkg/admission/serviceaccount
 * admission.go, Admit): a pod without serviceAccountName runs as `default`; the account must exist,
 * or the create is Forbidden with Kubernetes' message; a pod without imagePullSecrets gets the
 * account's; unless the pod or its account turns automount off, every container gets the account's
 * token, the API's CA bundle and the namespace at /var/run/secrets/kubernetes.io/serviceaccount (a
 * projected volume the agent fills, agent/volumes/projection.ts). The deprecated `serviceAccount`
 * field mirrors the name, as the v1 conversion keeps it.
 */
export async function admitServiceAccounts(
  pods: KubeObject[],
  lookup: ServiceAccountLookup,
  nameSuffix: () => string,
): Promise<void> {
  for (const pod of pods) {
    const spec = (pod.spec ??= {});
    const named =
      (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName) ||
      (typeof spec.serviceAccount === 'string' && spec.serviceAccount) ||
      DEFAULT_SERVICE_ACCOUNT;
    spec.serviceAccountName = named;
    spec.serviceAccount = named;
    const account = await lookup(named);
    if (!account) {
      const { name, generateName, namespace } = pod.metadata;
      // admission.NewForbidden names the object, or its generateName before a name is generated.
      const shown = generateName && name?.startsWith(generateName) ? generateName : name;
      throw new ForbiddenError(
        { resource: 'pods', group: '', name: shown },
        `error looking up service account ${namespace ?? ''}/${named}: serviceaccount "${named}" not found`,
      );
    }
    const own = nameRefs(spec.imagePullSecrets);
    const inherited = nameRefs(account.imagePullSecrets);
    if (own.length === 0 && inherited.length) spec.imagePullSecrets = inherited;
    if (shouldAutomount(spec, account)) mountToken(spec, nameSuffix());
  }
}

/**
 * On a pod update, what admission set at create stays when the update leaves it out, so the same
 * manifest applied or PUT again is no change: Kubernetes' v1 conversion makes `serviceAccount` a
 * mirror of `serviceAccountName` rather than a field of its own, and neither the account's
 * imagePullSecrets nor the token volume and its mounts were ever in the manifest.
 */
export function keepAdmittedServiceAccount(next: KubeObject, current: KubeObject): void {
  if (next.kind !== 'Pod') return;
  const n = (next.spec ??= {});
  const c = current.spec ?? {};
  if (!n.serviceAccountName) n.serviceAccountName = n.serviceAccount || c.serviceAccountName;
  if (n.serviceAccountName === undefined) delete n.serviceAccountName;
  if (n.serviceAccount === undefined && c.serviceAccount !== undefined && n.serviceAccountName === c.serviceAccountName)
    n.serviceAccount = c.serviceAccount;
  if (n.imagePullSecrets === undefined && c.imagePullSecrets !== undefined) n.imagePullSecrets = c.imagePullSecrets;
  keepTokenVolume(n, c);
}

/** The token volume and its mounts, when an update leaves out what admission added. */
function keepTokenVolume(n: Obj, c: Obj): void {
  const volume = (Array.isArray(c.volumes) ? (c.volumes as unknown[]) : []).find(isTokenVolume) as Obj | undefined;
  if (!volume || (n.volumes !== undefined && !Array.isArray(n.volumes))) return;
  const volumes = (n.volumes ?? []) as unknown[];
  if (volumes.some((v) => isPlainObject(v) && v.name === volume.name)) return;
  n.volumes = [...volumes, volume];
  const before = new Map(containersOf(c).map((x) => [x.name, x]));
  for (const x of containersOf(n)) {
    const old = before.get(x.name);
    const mount = old && mountsOf(old).find((m) => m.name === volume.name && m.mountPath === TOKEN_MOUNT_PATH);
    if (mount && !mountsOf(x).some((m) => m.mountPath === TOKEN_MOUNT_PATH)) x.volumeMounts = [...mountsOf(x), mount];
  }
}

export const DESCRIPTION_ANNOTATION = 'kubernetes.io/description';

/** `kube-root-ca.crt` as Kubernetes' root CA publisher writes it, with its description. */
export function rootCAConfigMap(namespace: string, pem: string): KubeObject & { data: Record<string, string> } {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: {
      name: ROOT_CA_CONFIG_MAP,
      namespace,
      annotations: {
        [DESCRIPTION_ANNOTATION]:
          'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.',
      },
    },
    data: { 'ca.crt': pem },
  };
}

/** The `default` ServiceAccount of a namespace, as Kubernetes' service account controller makes it. */
export function defaultServiceAccount(namespace: string): KubeObject {
  return { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } };
}
