import type { KubeObject } from '../model/types.js';
import type { RuntimeFeature } from './runtime/runtime.js';
import { effectiveContext, type ContainerSecurityContext } from './security.js';
import { isTokenVolume, TOKEN_MOUNT_PATH } from '../model/service-accounts.js';

/**
 * The node's half of the fidelity rule: a container whose pod asks for something this node's runtime
 * cannot do does not start; it waits with CreateContainerConfigError and an Event naming the field
 * (what can never work anywhere is refused at admission instead: model/pod-support.ts).
 */

interface PodSpecView {
  hostname?: string;
  subdomain?: string;
  setHostnameAsFQDN?: boolean;
  hostAliases?: unknown[];
  dnsPolicy?: string;
  dnsConfig?: unknown;
  volumes?: { name: string; emptyDir?: { medium?: string }; projected?: unknown }[];
  securityContext?: {
    fsGroup?: number;
    supplementalGroups?: number[];
    sysctls?: unknown[];
    runAsUser?: number;
    runAsGroup?: number;
    seccompProfile?: { type?: string };
    appArmorProfile?: { type?: string };
  };
}

interface ContainerView {
  volumeMounts?: { name: string; mountPath?: string }[];
  securityContext?: ContainerSecurityContext;
}

/** One requirement: the field that asks, and the feature it needs. */
interface Need {
  field: string;
  feature: RuntimeFeature;
}

/** What a pod and one of its containers need of the runtime, with the field that asks for each. */
export function needsOf(pod: KubeObject, c: ContainerView, at: string): Need[] {
  const spec = (pod.spec ?? {}) as PodSpecView;
  const psc = spec.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const eff = effectiveContext(pod, c);
  const needs: Need[] = [];
  const need = (when: unknown, field: string, feature: RuntimeFeature) => {
    if (when) needs.push({ field, feature });
  };
  need(spec.hostname, 'spec.hostname', 'hostname');
  need(spec.subdomain, 'spec.subdomain', 'hostname');
  need(spec.setHostnameAsFQDN, 'spec.setHostnameAsFQDN', 'hostname');
  need(spec.hostAliases?.length, 'spec.hostAliases', 'hostAliases');
  need(spec.dnsConfig || spec.dnsPolicy === 'None', 'spec.dnsConfig', 'dnsConfig');
  need(psc.sysctls?.length, 'spec.securityContext.sysctls', 'sysctls');
  const volumes = new Map((spec.volumes ?? []).map((v, i) => [v.name, { v, i }]));
  for (const m of c.volumeMounts ?? []) {
    const hit = volumes.get(m.name);
    if (!hit || isTokenMount(pod, m)) continue;
    need(true, `spec.volumes[${hit.i}]`, hit.v.emptyDir?.medium === 'Memory' ? 'memoryVolumes' : 'volumes');
  }
  const own = (k: keyof ContainerSecurityContext) =>
    sc[k] !== undefined ? `${at}.securityContext.${k}` : `spec.securityContext.${k}`;
  need(eff.runAsUser !== undefined, own('runAsUser'), 'runAsUser');
  need(eff.runAsGroup !== undefined, own('runAsGroup'), 'runAsGroup');
  need(psc.supplementalGroups?.length, 'spec.securityContext.supplementalGroups', 'supplementalGroups');
  // fsGroup owns the volumes and is a supplemental group of every container, volumes or not.
  need(psc.fsGroup !== undefined, 'spec.securityContext.fsGroup', 'fsGroup');
  need(sc.readOnlyRootFilesystem, `${at}.securityContext.readOnlyRootFilesystem`, 'readOnlyRootFilesystem');
  need(
    sc.capabilities?.add?.length || sc.capabilities?.drop?.length,
    `${at}.securityContext.capabilities`,
    'capabilities',
  );
  need(
    sc.allowPrivilegeEscalation === false,
    `${at}.securityContext.allowPrivilegeEscalation`,
    'allowPrivilegeEscalation',
  );
  need(sc.privileged, `${at}.securityContext.privileged`, 'privileged');
  need(eff.seccompProfile && eff.seccompProfile.type !== 'Unconfined', own('seccompProfile'), 'seccompProfile');
  need(eff.appArmorProfile && eff.appArmorProfile.type !== 'Unconfined', own('appArmorProfile'), 'appArmorProfile');
  return needs;
}

/**
 * The mount of the API credentials ServiceAccount admission added. A runtime that mounts nothing runs
 * the container without it and says so once (PodWorker): refusing it would stop every pod there.
 */
export function isTokenMount(pod: KubeObject, m: { name: string; mountPath?: string }): boolean {
  if (m.mountPath !== TOKEN_MOUNT_PATH) return false;
  return ((pod.spec as PodSpecView | undefined)?.volumes ?? []).some((v) => v.name === m.name && isTokenVolume(v));
}

/** The `spec.volumes[i] (name)` of the pod's token volume, if it has one. */
export function tokenVolumeField(pod: KubeObject): string | undefined {
  const volumes = (pod.spec as PodSpecView | undefined)?.volumes ?? [];
  const i = volumes.findIndex(isTokenVolume);
  return i < 0 ? undefined : `spec.volumes[${i}] (${volumes[i]?.name ?? ''})`;
}

/** Why this container cannot start on this runtime, naming the field; undefined when it can. */
export function unhonouredField(
  pod: KubeObject,
  c: ContainerView,
  at: string,
  features: ReadonlySet<RuntimeFeature>,
  node: { allowPrivileged: boolean; runtimeName: string },
): string | undefined {
  for (const n of needsOf(pod, c, at)) {
    if (n.feature === 'privileged' && !node.allowPrivileged)
      return `${n.field}: privileged containers are not allowed on this node (start the agent with --allow-privileged)`;
    if (!features.has(n.feature))
      return `${n.field}: the ${node.runtimeName} runtime cannot honour this field; run the pod on a node with the docker runtime`;
  }
  const procMount = c.securityContext?.procMount;
  if (procMount && procMount !== 'Default')
    return `${at}.securityContext.procMount: only "Default" is supported, not ${JSON.stringify(procMount)}`;
  // Localhost profiles name a file on the node, which kumo nodes do not provision: the effective one
  // (the container's over the pod's) decides, and the message names the field that asked.
  const eff = effectiveContext(pod, c);
  for (const key of ['seccompProfile', 'appArmorProfile'] as const)
    if (eff[key]?.type === 'Localhost') {
      const field = c.securityContext?.[key] ? `${at}.securityContext.${key}` : `spec.securityContext.${key}`;
      return `${field}: Localhost profiles are not supported on kumo nodes`;
    }
  return undefined;
}
