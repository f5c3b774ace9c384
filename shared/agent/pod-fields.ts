/**
 * Every PodSpec and Container field (with their securityContexts, volumes and volume mounts), and what
 * each kind of node does with it: the README's "Pod fields" table is rendered from this list
 * (`npm run generate:pod-fields`), and test/unit/agent/pod-fields.test.ts holds each row to the code:
 * `422` rows to admission (model/pod-support.ts), `waits` rows to the node's check
 * (runtime-support.ts), and the list itself to Kubernetes' field catalog.
 */

/**
 * - `yes`: honoured as Kubernetes does.
 * - `422`: refused at admission, naming the field.
 * - `waits`: the container does not start: CreateContainerConfigError and an Event naming the field.
 * - `warned`: runs, with a Warning Event naming the field (not enforced).
 * - `control plane`: the API server, scheduler or controllers honour it; the node has nothing to do.
 * - `n/a`: means nothing on this runtime (the process runtime pulls no images).
 */
export type Support = 'yes' | '422' | 'waits' | 'warned' | 'control plane' | 'n/a';

export interface FieldRow {
  /** `spec.X`, `spec.containers[*].X`, `spec.securityContext.X`, `spec.volumes[*].X`, ... */
  field: string;
  docker: Support;
  process: Support;
  how: string;
}

const both = (field: string, s: Support, how: string): FieldRow => ({ field, docker: s, process: s, how });
const dockerOnly = (field: string, how: string): FieldRow => ({ field, docker: 'yes', process: 'waits', how });

const P = 'spec';
const C = 'spec.containers[*]';
const PSC = 'spec.securityContext';
const CSC = 'spec.containers[*].securityContext';
const V = 'spec.volumes[*]';
const VM = 'spec.containers[*].volumeMounts[*]';

export const POD_FIELDS: FieldRow[] = [
  both(`${P}.activeDeadlineSeconds`, 'control plane', 'the Job controller enforces it'),
  both(`${P}.affinity`, 'control plane', 'node affinity and inter-pod (anti-)affinity in the scheduler'),
  {
    field: `${P}.automountServiceAccountToken`,
    docker: 'yes',
    process: 'warned',
    how: 'ServiceAccount admission adds the kube-api-access-<x> volume (token, ca.crt, namespace) unless the pod or its account turns it off; process: the containers run without it (TokenNotMounted event)',
  },
  both(`${P}.containers`, 'yes', 'run side by side in the pod sandbox'),
  dockerOnly(
    `${P}.dnsConfig`,
    "resolv.conf of the sandbox; process: honoured when the agent is root (the pod's own resolv.conf in a mount namespace), else waits",
  ),
  both(
    `${P}.dnsPolicy`,
    'yes',
    "ClusterFirst points resolv.conf at the node's cluster DNS (search path and ndots:5 as kubelet); a process-runtime agent that is not root gives pods no resolv.conf of their own, so ClusterFirst falls back to Default with a MissingClusterDNS event; None and Default as kubelet",
  ),
  both(`${P}.enableServiceLinks`, 'yes', "the Service variables of the pod's namespace as kubelet sets them"),
  both(`${P}.ephemeralContainers`, '422', 'no ephemeralcontainers subresource'),
  dockerOnly(
    `${P}.hostAliases`,
    "/etc/hosts of the sandbox; process: honoured when the agent is root (the host's /etc/hosts and the aliases, as kubelet writes it for hostNetwork pods), else waits",
  ),
  both(`${P}.hostIPC`, 'yes', 'docker: the sandbox joins the host IPC namespace; process: always the host'),
  both(`${P}.hostNetwork`, 'yes', 'docker: the sandbox on the host network; process: always the host'),
  both(`${P}.hostPID`, 'yes', 'docker: containers in the host PID namespace; process: always the host'),
  both(`${P}.hostUsers`, '422', 'false (user namespaces) is refused; true is the default'),
  dockerOnly(
    `${P}.hostname`,
    "the sandbox hostname, shared by every container (UTS namespace); process: honoured when the agent is root (each container in a UTS namespace of that name, with the pod's name or FQDN on 127.0.0.1 in its /etc/hosts), else waits",
  ),
  both(`${P}.hostnameOverride`, '422', 'alpha field'),
  {
    field: `${P}.imagePullSecrets`,
    docker: 'yes',
    process: 'n/a',
    how: 'dockerconfigjson and dockercfg Secrets, matched by registry',
  },
  both(`${P}.initContainers`, 'yes', 'in order, before the containers'),
  both(`${P}.nodeName`, 'control plane', 'binds the pod to that node'),
  both(`${P}.nodeSelector`, 'control plane', 'scheduler filter'),
  both(`${P}.os`, '422', 'only linux'),
  both(`${P}.overhead`, '422', 'set by RuntimeClass, and kumo has none'),
  both(`${P}.preemptionPolicy`, 'control plane', 'stored; the scheduler does not preempt'),
  both(`${P}.priority`, 'control plane', 'stored; the scheduler does not preempt'),
  both(`${P}.priorityClassName`, 'control plane', 'stored; the scheduler does not preempt'),
  both(`${P}.readinessGates`, '422', 'readiness gates are not evaluated yet'),
  both(`${P}.resourceClaims`, '422', 'no dynamic resource allocation'),
  both(`${P}.resources`, '422', 'pod-level resources: set them per container'),
  both(`${P}.restartPolicy`, 'yes', 'with kubelet back-off'),
  both(`${P}.runtimeClassName`, '422', 'no RuntimeClasses'),
  both(`${P}.schedulerName`, 'control plane', 'stored; one scheduler'),
  both(`${P}.schedulingGates`, 'control plane', 'the scheduler leaves a gated pod Pending (SchedulingGated)'),
  both(`${P}.securityContext`, 'yes', 'see its fields'),
  both(`${P}.serviceAccount`, 'control plane', 'deprecated: mirrors serviceAccountName, as in Kubernetes'),
  both(
    `${P}.serviceAccountName`,
    'control plane',
    "defaults to `default`; a missing account is refused at admission (403); the account's imagePullSecrets are added; no token is mounted yet",
  ),
  dockerOnly(`${P}.setHostnameAsFQDN`, 'the sandbox hostname is the FQDN; process: as hostname'),
  both(
    `${P}.shareProcessNamespace`,
    'yes',
    "docker: containers join the sandbox's PID namespace; process: always the host",
  ),
  dockerOnly(
    `${P}.subdomain`,
    'the sandbox domain: <hostname>.<subdomain>.<namespace>.svc.<cluster domain>; process: as hostname',
  ),
  both(`${P}.terminationGracePeriodSeconds`, 'yes', 'SIGTERM, then SIGKILL after it'),
  both(`${P}.tolerations`, 'control plane', 'scheduler and NoExecute eviction'),
  both(`${P}.topologySpreadConstraints`, 'control plane', 'scheduler'),
  both(`${P}.volumes`, 'yes', 'see the volume types; the process runtime mounts none (waits)'),

  both(`${C}.args`, 'yes', 'with $(VAR) expansion'),
  both(`${C}.command`, 'yes', 'with $(VAR) expansion; the process runtime needs it (no image entrypoint)'),
  both(`${C}.env`, 'yes', 'values, ConfigMap and Secret keys, pod fields'),
  both(`${C}.envFrom`, 'yes', 'ConfigMaps and Secrets with prefix'),
  {
    field: `${C}.image`,
    docker: 'yes',
    process: 'n/a',
    how: 'pulled per policy; the process runtime runs the command on the host',
  },
  { field: `${C}.imagePullPolicy`, docker: 'yes', process: 'n/a', how: 'Always, IfNotPresent, Never' },
  both(`${C}.lifecycle`, 'yes', 'postStart and preStop: exec, httpGet, sleep (tcpSocket fails as in kubelet)'),
  both(`${C}.livenessProbe`, 'yes', 'exec, httpGet, tcpSocket, grpc'),
  both(`${C}.name`, 'yes', ''),
  both(
    `${C}.ports`,
    'yes',
    'hostPort (on hostIP) maps to the sandbox (docker); the process runtime shares the host network',
  ),
  both(`${C}.readinessProbe`, 'yes', 'exec, httpGet, tcpSocket, grpc'),
  both(`${C}.resizePolicy`, 'yes', 'resources are immutable, so there is no resize to apply it to'),
  {
    field: `${C}.resources`,
    docker: 'yes',
    process: 'warned',
    how: 'docker: CPU limit, CPU shares from requests, memory limit (OOMKilled, 137); ephemeral-storage limits warned; hugepages 422',
  },
  both(`${C}.restartPolicy`, '422', 'sidecar containers are not supported yet'),
  both(`${C}.restartPolicyRules`, '422', 'alpha field'),
  both(`${C}.securityContext`, 'yes', 'see its fields'),
  both(`${C}.startupProbe`, 'yes', 'exec, httpGet, tcpSocket, grpc'),
  both(`${C}.stdin`, '422', 'kumo does not attach to containers'),
  both(`${C}.stdinOnce`, '422', 'kumo does not attach to containers'),
  {
    field: `${C}.terminationMessagePath`,
    docker: 'yes',
    process: 'n/a',
    how: 'a host file mounted there (docker); the process runtime mounts nothing, so only FallbackToLogsOnError gives a message',
  },
  both(`${C}.terminationMessagePolicy`, 'yes', 'File and FallbackToLogsOnError'),
  both(`${C}.tty`, '422', 'kumo does not attach to containers'),
  both(`${C}.volumeDevices`, '422', 'no raw block volumes'),
  both(`${C}.volumeMounts`, 'yes', 'see the mount fields; the process runtime mounts none (waits)'),
  both(`${C}.workingDir`, 'yes', ''),

  dockerOnly(`${PSC}.appArmorProfile`, 'RuntimeDefault is the engine default, Unconfined as asked; Localhost waits'),
  dockerOnly(
    `${PSC}.fsGroup`,
    'volume files and directories get the group (setgid, group-readable), and the group joins the containers',
  ),
  both(`${PSC}.fsGroupChangePolicy`, 'yes', 'ownership is set when the files are written, so both policies hold'),
  dockerOnly(`${PSC}.runAsGroup`, ''),
  both(
    `${PSC}.runAsNonRoot`,
    'yes',
    "kubelet's check against runAsUser or the image's USER (process: the agent's user)",
  ),
  dockerOnly(`${PSC}.runAsUser`, ''),
  both(`${PSC}.seLinuxChangePolicy`, 'yes', 'no SELinux labels are set, so there is nothing to relabel'),
  both(`${PSC}.seLinuxOptions`, '422', 'no SELinux on kumo nodes'),
  dockerOnly(`${PSC}.seccompProfile`, 'RuntimeDefault is the engine default, Unconfined as asked; Localhost waits'),
  dockerOnly(`${PSC}.supplementalGroups`, ''),
  both(`${PSC}.supplementalGroupsPolicy`, 'yes', 'Merge (the default); Strict is alpha'),
  dockerOnly(`${PSC}.sysctls`, 'set on the sandbox'),
  both(`${PSC}.windowsOptions`, 'yes', 'ignored on Linux, as kubelet does'),

  dockerOnly(`${CSC}.allowPrivilegeEscalation`, 'false sets no_new_privs'),
  dockerOnly(`${CSC}.appArmorProfile`, 'as the pod field; Localhost waits'),
  dockerOnly(`${CSC}.capabilities`, 'add and drop'),
  dockerOnly(`${CSC}.privileged`, 'only on nodes started with --allow-privileged; elsewhere waits'),
  both(`${CSC}.procMount`, 'yes', 'Default; Unmasked waits'),
  dockerOnly(`${CSC}.readOnlyRootFilesystem`, 'no tmpfs over /tmp either, as in Kubernetes'),
  dockerOnly(`${CSC}.runAsGroup`, ''),
  both(`${CSC}.runAsNonRoot`, 'yes', 'as the pod field'),
  dockerOnly(`${CSC}.runAsUser`, ''),
  both(`${CSC}.seLinuxOptions`, '422', 'no SELinux on kumo nodes'),
  dockerOnly(`${CSC}.seccompProfile`, 'as the pod field'),
  both(`${CSC}.windowsOptions`, 'yes', 'ignored on Linux, as kubelet does'),

  dockerOnly(`${V}.configMap`, 'atomic ..data swap; follows the ConfigMap within a resync'),
  dockerOnly(`${V}.downwardAPI`, 'fieldRef and resourceFieldRef files'),
  dockerOnly(
    `${V}.emptyDir`,
    'a directory per pod (0777); medium Memory is a tmpfs volume of the sandbox with sizeLimit',
  ),
  dockerOnly(`${V}.hostPath`, "with kubelet's type checks"),
  both(`${V}.name`, 'yes', ''),
  dockerOnly(
    `${V}.persistentVolumeClaim`,
    'its bound local or hostPath volume; the pod is not scheduled while the claim is missing or unbound',
  ),
  dockerOnly(
    `${V}.projected`,
    'configMap, secret, downwardAPI and serviceAccountToken sources (a token bound to the pod, renewed at 80 % of its life)',
  ),
  dockerOnly(`${V}.secret`, 'files under the agent-only pods directory, removed with the pod'),
  ...[
    'awsElasticBlockStore',
    'azureDisk',
    'azureFile',
    'cephfs',
    'cinder',
    'csi',
    'ephemeral',
    'fc',
    'flexVolume',
    'flocker',
    'gcePersistentDisk',
    'gitRepo',
    'glusterfs',
    'image',
    'iscsi',
    'nfs',
    'photonPersistentDisk',
    'portworxVolume',
    'quobyte',
    'rbd',
    'scaleIO',
    'storageos',
    'vsphereVolume',
  ].map((t) => both(`${V}.${t}`, '422', 'volume type kumo nodes do not mount')),

  both(`${VM}.mountPath`, 'yes', 'unique per container'),
  both(`${VM}.mountPropagation`, '422', 'only None'),
  both(`${VM}.name`, 'yes', 'must name a volume of the pod'),
  both(`${VM}.readOnly`, 'yes', 'configMap, secret, downwardAPI and projected volumes are always read-only'),
  both(`${VM}.recursiveReadOnly`, 'yes', 'Disabled and IfPossible; Enabled 422'),
  both(
    `${VM}.subPath`,
    'yes',
    'a file of a projected volume is bound once and does not follow updates, as in Kubernetes',
  ),
  both(`${VM}.subPathExpr`, 'yes', 'expanded with the container environment'),
];

/** The README's table, rendered from the list. */
export function renderPodFieldsTable(rows: FieldRow[] = POD_FIELDS): string {
  const lines = ['| Field | docker runtime | process runtime | How |', '|---|---|---|---|'];
  for (const r of rows) lines.push(`| \`${r.field}\` | ${r.docker} | ${r.process} | ${r.how} |`);
  return lines.join('\n');
}
