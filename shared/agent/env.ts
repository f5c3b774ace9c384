import type { KubeObject } from '../model/types.js';

/**
 * A container's environment as kubelet builds it: envFrom first (ConfigMaps and Secrets, with an
 * optional prefix), then env (literal values with $(VAR) expansion, keys of ConfigMaps/Secrets, and
 * pod fields). Reads go through `lookup`, so the agent fetches each referenced object once per start.
 */

/** The objects a node reads for its pods (Kubernetes' Node authorizer allows exactly these). */
export type LookupKind = 'ConfigMap' | 'Secret' | 'PersistentVolumeClaim' | 'PersistentVolume';
/** Reads one; a PersistentVolume is cluster-scoped (its namespace is ""). */
export type Lookup = (kind: LookupKind, namespace: string, name: string) => Promise<KubeObject | undefined>;

/** A reference that cannot be satisfied: the container waits with reason CreateContainerConfigError. */
export class EnvConfigError extends Error {}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
  };
}

interface EnvFrom {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface PodFacts {
  podIP?: string;
  hostIP?: string;
  /** The Service variables (service-env.ts): the lowest layer, which envFrom and env may override and refer to. */
  serviceEnv?: Record<string, string>;
}

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

function dataOf(o: KubeObject): Record<string, string> {
  if (o.kind === 'Secret')
    return Object.fromEntries(Object.entries((o.data ?? {}) as Record<string, string>).map(([k, v]) => [k, decode(v)]));
  return { ...((o.data ?? {}) as Record<string, string>) };
}

/** kubelet's $(VAR) expansion: known names are replaced, $$ escapes, unknown references stay as written. */
export function expand(value: string, env: Record<string, string>): string {
  return value.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (m, name: string | undefined) =>
    name === undefined ? '$' : (env[name] ?? m),
  );
}

export function fieldValue(pod: KubeObject, path: string, facts: PodFacts): string {
  const label = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (label) return (label[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[label[2] ?? ''] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name ?? '';
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return String(pod.spec?.nodeName ?? '');
    case 'spec.serviceAccountName':
      return String(pod.spec?.serviceAccountName ?? 'default');
    case 'status.podIP':
      return facts.podIP ?? '';
    case 'status.hostIP':
      return facts.hostIP ?? '';
    default:
      throw new EnvConfigError(`unsupported fieldRef ${JSON.stringify(path)}`);
  }
}

export async function containerEnv(
  pod: KubeObject,
  container: { env?: EnvVar[]; envFrom?: EnvFrom[] },
  lookup: Lookup,
  facts: PodFacts,
): Promise<Record<string, string>> {
  const namespace = pod.metadata.namespace ?? 'default';
  const cache = new Map<string, Promise<KubeObject | undefined>>();
  const get = (kind: 'ConfigMap' | 'Secret', name: string) => {
    const key = `${kind}/${name}`;
    if (!cache.has(key)) cache.set(key, lookup(kind, namespace, name));
    return cache.get(key) as Promise<KubeObject | undefined>;
  };
  const env: Record<string, string> = { ...facts.serviceEnv };
  for (const from of container.envFrom ?? []) {
    const ref = from.configMapRef ?? from.secretRef;
    if (!ref) continue;
    const kind = from.configMapRef ? 'ConfigMap' : 'Secret';
    const o = await get(kind, ref.name);
    if (!o) {
      if (ref.optional) continue;
      throw new EnvConfigError(`${kind.toLowerCase()} "${ref.name}" not found`);
    }
    for (const [k, v] of Object.entries(dataOf(o))) env[`${from.prefix ?? ''}${k}`] = v;
  }
  for (const v of container.env ?? []) {
    if (v.value !== undefined || !v.valueFrom) {
      env[v.name] = expand(v.value ?? '', env);
      continue;
    }
    const { configMapKeyRef, secretKeyRef, fieldRef } = v.valueFrom;
    const keyRef = configMapKeyRef ?? secretKeyRef;
    if (keyRef) {
      const kind = configMapKeyRef ? 'ConfigMap' : 'Secret';
      const o = await get(kind, keyRef.name);
      const value = o ? dataOf(o)[keyRef.key] : undefined;
      if (value === undefined) {
        if (keyRef.optional) continue;
        throw new EnvConfigError(
          o
            ? `couldn't find key ${keyRef.key} in ${kind} ${namespace}/${keyRef.name}`
            : `${kind.toLowerCase()} "${keyRef.name}" not found`,
        );
      }
      env[v.name] = value;
    } else if (fieldRef) env[v.name] = fieldValue(pod, fieldRef.fieldPath, facts);
  }
  return env;
}
