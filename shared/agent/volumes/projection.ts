import type { KubeObject } from '../../model/types.js';
import { parseQuantity } from '../../model/quantity.js';
import { podSpec } from '../../model/typed.js';
import { fieldValue, type Lookup, type PodFacts } from '../env.js';

/**
 * The files of configMap, secret, downwardAPI and projected volumes (serviceAccountToken sources
 * included), as kubelet's volume plugins make their payloads (pkg/volume/{configmap,secret,downwardapi,projected}: MakePayload): every key, or the
 * listed `items` at their paths, each with the item's `mode` or the volume's `defaultMode`.
 */

export interface FileProjection {
  data: Buffer;
  mode: number;
}

/** Relative path → contents. */
export type Payload = Map<string, FileProjection>;

/** A volume cannot be set up now (a missing object or key): FailedMount, and the pod waits. */
export class MountError extends Error {}

interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}
interface ObjectSource {
  name?: string;
  /** A secret volume names its Secret so (projected sources say `name`). */
  secretName?: string;
  items?: KeyToPath[];
  defaultMode?: number;
  optional?: boolean;
}
interface DownwardFile {
  path: string;
  mode?: number;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
}
interface DownwardSource {
  items?: DownwardFile[];
  defaultMode?: number;
}
interface TokenProjection {
  audience?: string;
  expirationSeconds?: number;
  path: string;
}
interface ProjectedSource {
  sources?: {
    configMap?: ObjectSource;
    secret?: ObjectSource;
    downwardAPI?: { items?: DownwardFile[] };
    serviceAccountToken?: TokenProjection;
  }[];
  defaultMode?: number;
}

export interface VolumeSources {
  configMap?: ObjectSource;
  secret?: ObjectSource;
  downwardAPI?: DownwardSource;
  projected?: ProjectedSource;
}

const DEFAULT_MODE = 0o644;

/** What the node asks the control plane for a projected token: the pod's account, bound to the pod. */
export interface PodTokenRequest {
  namespace: string;
  serviceAccount: string;
  pod: { name: string; uid: string };
  /** Absent: the API's own audiences. */
  audience?: string;
  expirationSeconds: number;
}

/** A token for a pod's projected volume (agent/service-account-token-cache.ts keeps and refreshes them). */
export type TokenSource = (request: PodTokenRequest) => Promise<string>;

/** Keys → bytes: a ConfigMap's data and binaryData, a Secret's data (base64). */
function keysOf(o: KubeObject): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (o.kind === 'Secret') {
    for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v, 'base64'));
    return out;
  }
  for (const [k, v] of Object.entries((o.data ?? {}) as Record<string, string>)) out.set(k, Buffer.from(v, 'utf8'));
  for (const [k, v] of Object.entries((o.binaryData ?? {}) as Record<string, string>))
    out.set(k, Buffer.from(v, 'base64'));
  return out;
}

async function objectPayload(
  kind: 'ConfigMap' | 'Secret',
  source: ObjectSource,
  defaultMode: number,
  namespace: string,
  lookup: Lookup,
  into: Payload,
): Promise<void> {
  const name = source.name ?? '';
  const o = await lookup(kind, namespace, name);
  if (!o) {
    if (source.optional) return;
    throw new MountError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const keys = keysOf(o);
  if (!source.items?.length) {
    for (const [k, data] of keys) into.set(k, { data, mode: defaultMode });
    return;
  }
  for (const item of source.items) {
    const data = keys.get(item.key);
    if (data === undefined) {
      if (source.optional) continue;
      // Kubernetes' own wording, which differs between the two plugins.
      throw new MountError(
        kind === 'ConfigMap'
          ? `configmap references non-existent config key: ${item.key}`
          : `references non-existent secret key: ${item.key}`,
      );
    }
    into.set(item.path, { data, mode: item.mode ?? defaultMode });
  }
}

/** A container's resource as the downward API writes it: rounded up to whole divisors (pkg/api/v1/resource). */
function resourceValue(pod: KubeObject, ref: NonNullable<DownwardFile['resourceFieldRef']>): string {
  const containers = podSpec(pod).containers ?? [];
  const c = containers.find((x) => x.name === ref.containerName) ?? containers[0];
  const [section, resource] = ref.resource.split('.') as ['limits' | 'requests', string];
  const raw = c?.resources?.[section]?.[resource];
  const divisor = parseQuantity(ref.divisor ?? (resource === 'cpu' ? '1' : '1')) || 1;
  if (raw === undefined) return section === 'limits' ? '' : '0';
  return String(Math.ceil((parseQuantity(raw) ?? 0) / divisor));
}

function downwardPayload(
  pod: KubeObject,
  items: DownwardFile[],
  defaultMode: number,
  facts: PodFacts,
  into: Payload,
): void {
  for (const item of items) {
    const text = item.fieldRef
      ? downwardField(pod, item.fieldRef.fieldPath, facts)
      : item.resourceFieldRef
        ? resourceValue(pod, item.resourceFieldRef)
        : '';
    into.set(item.path, { data: Buffer.from(text, 'utf8'), mode: item.mode ?? defaultMode });
  }
}

/** Labels and annotations are written whole, `key="value"` per line and sorted, as kubelet writes them. */
function downwardField(pod: KubeObject, path: string, facts: PodFacts): string {
  if (path === 'metadata.labels' || path === 'metadata.annotations') {
    const map = (path === 'metadata.labels' ? pod.metadata.labels : pod.metadata.annotations) ?? {};
    return Object.keys(map)
      .sort()
      .map((k) => `${k}=${JSON.stringify(map[k])}`)
      .join('\n');
  }
  return fieldValue(pod, path, facts);
}

/**
 * A serviceAccountToken source (kubelet's projected plugin): a token of the pod's account, bound to
 * the pod, for the source's audience and lifetime, written with the volume's mode.
 */
async function tokenPayload(
  pod: KubeObject,
  t: TokenProjection,
  mode: number,
  tokens: TokenSource | undefined,
  into: Payload,
): Promise<void> {
  if (!tokens) throw new MountError('this node cannot request service account tokens');
  const token = await tokens({
    namespace: pod.metadata.namespace ?? 'default',
    serviceAccount: podSpec(pod).serviceAccountName ?? 'default',
    pod: { name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '' },
    ...(t.audience ? { audience: t.audience } : {}),
    expirationSeconds: t.expirationSeconds ?? 3600,
  });
  into.set(t.path, { data: Buffer.from(token, 'utf8'), mode });
}

/** The payload of one volume of the pod, read through `lookup` (ConfigMaps and Secrets in the pod's namespace). */
export async function payloadOf(
  pod: KubeObject,
  volume: VolumeSources,
  lookup: Lookup,
  facts: PodFacts,
  tokens?: TokenSource,
): Promise<Payload> {
  const namespace = pod.metadata.namespace ?? 'default';
  const out: Payload = new Map();
  if (volume.configMap)
    await objectPayload(
      'ConfigMap',
      volume.configMap,
      volume.configMap.defaultMode ?? DEFAULT_MODE,
      namespace,
      lookup,
      out,
    );
  else if (volume.secret)
    await objectPayload(
      'Secret',
      { ...volume.secret, name: volume.secret.secretName ?? volume.secret.name },
      volume.secret.defaultMode ?? DEFAULT_MODE,
      namespace,
      lookup,
      out,
    );
  else if (volume.downwardAPI)
    downwardPayload(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? DEFAULT_MODE, facts, out);
  else if (volume.projected) {
    const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
    for (const s of volume.projected.sources ?? []) {
      if (s.configMap) await objectPayload('ConfigMap', s.configMap, mode, namespace, lookup, out);
      else if (s.secret) await objectPayload('Secret', s.secret, mode, namespace, lookup, out);
      else if (s.downwardAPI) downwardPayload(pod, s.downwardAPI.items ?? [], mode, facts, out);
      else if (s.serviceAccountToken) await tokenPayload(pod, s.serviceAccountToken, mode, tokens, out);
    }
  }
  return out;
}
