import type { KubeObject } from '../model/types.js';
import { parseQuantity } from '../model/quantity.js';
import type { ContainerSecurity } from './runtime/runtime.js';

/**
 * A container's effective securityContext (the container's fields over the pod's, as
 * pkg/securitycontext DetermineEffectiveSecurityContext merges them) turned into what a runtime sets,
 * and kubelet's checks before it creates a container.
 */

interface Capabilities {
  add?: string[];
  drop?: string[];
}
interface Profile {
  type?: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostProfile?: string;
}
export interface ContainerSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
  capabilities?: Capabilities;
  seccompProfile?: Profile;
  appArmorProfile?: Profile;
  procMount?: string;
  seLinuxOptions?: Record<string, string>;
}
export interface PodSecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  supplementalGroups?: number[];
  seccompProfile?: Profile;
  appArmorProfile?: Profile;
  seLinuxOptions?: Record<string, string>;
}

/** The container's own fields win over the pod's. */
export function effectiveContext(pod: KubeObject, c: { securityContext?: ContainerSecurityContext }) {
  const p = (pod.spec?.securityContext ?? {}) as PodSecurityContext;
  const s = c.securityContext ?? {};
  return {
    ...s,
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    seccompProfile: s.seccompProfile ?? p.seccompProfile,
    appArmorProfile: s.appArmorProfile ?? p.appArmorProfile,
    fsGroup: p.fsGroup,
    supplementalGroups: p.supplementalGroups ?? [],
  };
}

/** A container kubelet will not create; the container waits with CreateContainerConfigError. */
export class SecurityConfigError extends Error {}

const podDesc = (pod: KubeObject) => `${pod.metadata.name}_${pod.metadata.namespace}(${pod.metadata.uid})`;

/**
 * kubelet's verifyRunAsNonRoot (pkg/kubelet/kuberuntime/security_context_others.go): with runAsNonRoot
 * the container must run as a non-zero uid, from runAsUser or else the image's USER.
 */
export function verifyRunAsNonRoot(
  pod: KubeObject,
  c: { name: string; securityContext?: ContainerSecurityContext },
  imageUser: string,
): void {
  const sc = effectiveContext(pod, c);
  if (!sc.runAsNonRoot) return;
  const where = `(pod: ${JSON.stringify(podDesc(pod))}, container: ${c.name})`;
  if (sc.runAsUser !== undefined) {
    if (sc.runAsUser === 0) throw new SecurityConfigError(`container's runAsUser breaks non-root policy ${where}`);
    return;
  }
  // The image's USER is `uid`, `name`, `uid:gid` or `name:group`; empty means root.
  const user = imageUser.split(':')[0] ?? '';
  if (user === '' || user === '0' || user === 'root')
    throw new SecurityConfigError(`container has runAsNonRoot and image will run as root ${where}`);
  if (!/^\d+$/.test(user))
    throw new SecurityConfigError(
      `container has runAsNonRoot and image has non-numeric user (${user}), cannot verify user is non-root ${where}`,
    );
}

/** Kubernetes' capability names are written without the CAP_ prefix; the engine takes either. */
const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, '');

/** What the runtime sets for the container, given the image's USER (for a runAsGroup without runAsUser). */
export function containerSecurity(
  pod: KubeObject,
  c: { securityContext?: ContainerSecurityContext },
  imageUser: string,
): ContainerSecurity {
  const sc = effectiveContext(pod, c);
  const imageUid = imageUser.split(':')[0] || '0';
  const user =
    sc.runAsUser !== undefined || sc.runAsGroup !== undefined
      ? `${sc.runAsUser ?? imageUid}${sc.runAsGroup !== undefined ? `:${sc.runAsGroup}` : ''}`
      : undefined;
  return {
    ...(user ? { user } : {}),
    groups: [...new Set([...(sc.fsGroup !== undefined ? [sc.fsGroup] : []), ...sc.supplementalGroups])],
    readOnlyRootfs: sc.readOnlyRootFilesystem === true,
    capAdd: (sc.capabilities?.add ?? []).map(capName),
    capDrop: (sc.capabilities?.drop ?? []).map(capName),
    // allowPrivilegeEscalation defaults to true, and is always true for privileged or CAP_SYS_ADMIN containers.
    noNewPrivileges: sc.allowPrivilegeEscalation === false,
    privileged: sc.privileged === true,
    seccompUnconfined: sc.seccompProfile?.type === 'Unconfined',
    apparmorUnconfined: sc.appArmorProfile?.type === 'Unconfined',
  };
}

/** kubelet's MilliCPUToShares (pkg/kubelet/cm/helpers_linux.go): 1024 per CPU, within [2, 262144]. */
export function cpuShares(requestsCpu: string | number | undefined): number {
  const milli = requestsCpu === undefined ? 0 : Math.ceil((parseQuantity(requestsCpu) ?? 0) * 1000);
  if (milli === 0) return 2;
  return Math.min(262144, Math.max(2, Math.floor((milli * 1024) / 1000)));
}
