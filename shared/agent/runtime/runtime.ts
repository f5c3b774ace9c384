/**
 * What the agent needs from a container engine. Two drivers implement it: `process` (a container's
 * command as a child process) and `docker` (the Docker Engine API, which podman also serves).
 */

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/**
 * What a driver may or may not be able to do with a pod's fields. The docker driver does all; the
 * process driver runs commands on the host and does few (README: "Pod fields on each runtime").
 */
export const RUNTIME_FEATURES = [
  'sandboxNetwork',
  'hostname',
  'hostAliases',
  'dnsConfig',
  'sysctls',
  'volumes',
  'memoryVolumes',
  'runAsUser',
  'runAsGroup',
  'supplementalGroups',
  'fsGroup',
  'readOnlyRootFilesystem',
  'capabilities',
  'allowPrivilegeEscalation',
  'privileged',
  'seccompProfile',
  'appArmorProfile',
  'cpuShares',
] as const;
export type RuntimeFeature = (typeof RUNTIME_FEATURES)[number];

/** Labels that tie a runtime container to its pod, so that a restarted agent adopts instead of duplicating. */
export const LABELS = {
  node: 'io.kumo.node',
  podUid: 'io.kumo.pod.uid',
  podNamespace: 'io.kumo.pod.namespace',
  podName: 'io.kumo.pod.name',
  container: 'io.kumo.container',
  restartCount: 'io.kumo.restart-count',
  /** Marks a pod's sandbox (the infra container that owns its network, hostname and DNS). */
  sandbox: 'io.kumo.sandbox',
} as const;

export interface PortMapping {
  containerPort: number;
  hostPort?: number;
  /** The node address the hostPort binds (all of them when unset). */
  hostIP?: string;
  protocol: 'TCP' | 'UDP';
}

/** A volume (or a file or directory inside one) made visible at `target` in a container. */
export interface Mount {
  /** A host path, or the name of a volume the runtime made for the sandbox (`SandboxInfo.volumes`). */
  source: string;
  kind: 'bind' | 'volume';
  target: string;
  readOnly: boolean;
}

/** The container's identity and privileges: its securityContext, resolved against the pod's. */
export interface ContainerSecurity {
  /** `uid` or `uid:gid` (gid alone is `<image user>:gid`, resolved by the caller). */
  user?: string;
  /** Supplemental groups, fsGroup included (kubelet adds it). */
  groups: number[];
  readOnlyRootfs: boolean;
  capAdd: string[];
  capDrop: string[];
  noNewPrivileges: boolean;
  privileged: boolean;
  seccompUnconfined: boolean;
  apparmorUnconfined: boolean;
}

export interface ContainerSpec {
  /** Unique per start: `kumo_<pod>_<namespace>_<container>_<uid prefix>_<restart>`. */
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  env: Record<string, string>;
  workingDir?: string;
  labels: Record<string, string>;
  cpuMilli?: number;
  /** CPU weight from requests.cpu (kubelet's MilliCPUToShares). */
  cpuShares?: number;
  memoryBytes?: number;
  /** The pod's sandbox, whose network, IPC and hostname the container joins. */
  sandbox: SandboxInfo;
  /** The node's PID namespace (hostPID), the pod's (shareProcessNamespace), or the container's own. */
  pidMode: 'host' | 'pod' | 'private';
  /** The node's IPC namespace (hostIPC), or the sandbox's. */
  hostIPC: boolean;
  mounts: Mount[];
  security: ContainerSecurity;
}

/** What a pod's sandbox owns (CRI's PodSandboxConfig): one per pod, created before its containers. */
export interface SandboxSpec {
  /** `kumo_<pod>_<namespace>_<uid prefix>_sandbox`. */
  name: string;
  labels: Record<string, string>;
  hostname: string;
  /** `<subdomain>.<namespace>.svc.<cluster domain>` when the pod names a subdomain. */
  domain?: string;
  hostNetwork: boolean;
  hostIPC: boolean;
  hostAliases: { ip: string; hostnames: string[] }[];
  /** Name servers, searches and options for resolv.conf; undefined keeps the node's (dnsPolicy Default). */
  dns?: { servers: string[]; searches: string[]; options: string[] };
  /** Every container's ports: hostPorts map to the sandbox. */
  ports: PortMapping[];
  /** Namespaced sysctls of the pod's securityContext. */
  sysctls: Record<string, string>;
  /** emptyDir volumes with `medium: Memory`: made by the runtime, shared by the pod's containers. */
  memoryVolumes: { name: string; sizeBytes?: number }[];
}

export interface SandboxInfo {
  id: string;
  labels: Record<string, string>;
  running: boolean;
  /** The pod's IP (the node's on the host network). */
  ip?: string;
  /** Where each memory volume lives, by volume name: the `source` of its mounts. */
  volumes: Record<string, string>;
}

/** The registry credentials for a pull (from the pod's imagePullSecrets, or the node's own for ECR). */
export interface RegistryAuth {
  serveraddress: string;
  username?: string;
  password?: string;
  auth?: string;
  identitytoken?: string;
}

/** What an image says about how it runs; the agent checks runAsNonRoot against `user`. */
export interface ImageInfo {
  /** Pulled now (for the `Pulled` event). */
  pulled: boolean;
  /** The image's USER ("" is root). */
  user: string;
}

export interface ContainerInfo {
  id: string;
  labels: Record<string, string>;
  running: boolean;
  exitCode?: number;
  /** OOMKilled when the engine says so; otherwise derived from the exit code by the caller. */
  reason?: string;
  startedAt?: Date;
  finishedAt?: Date;
  /** The container's own address when it has one (docker bridge); undefined on the host network. */
  ip?: string;
}

/**
 * What a container has used, as cumulative counters (the agent turns two samples into a rate):
 * cAdvisor's usageCoreNanoSeconds and working set, which kubelet's resource metrics carry.
 */
export interface ContainerUsage {
  /** CPU time used since the container started, in nanoseconds. */
  cpuNanoSeconds: number;
  /** Memory in use that cannot be reclaimed at once (the working set), in bytes. */
  memoryBytes: number;
}

export interface ExitInfo {
  exitCode: number;
  reason?: string;
  finishedAt: Date;
}

/** Where a container's output goes, one chunk at a time (the log store's writer). */
export interface OutputSink {
  write(chunk: string, stream: 'stdout' | 'stderr'): void;
}

/**
 * The container was created but its process could not be started (a missing binary, say): containerd's
 * StartError, exit code 128. Like any exit it counts a restart and backs off (CrashLoopBackOff).
 */
export class ContainerStartError extends Error {}

export class ImagePullError extends Error {
  constructor(
    readonly image: string,
    readonly reason: 'ErrImagePull' | 'ErrImageNeverPull',
    message: string,
  ) {
    super(message);
  }
}

/** The spec cannot be run by this driver (e.g. the process runtime without a command). */
export class ContainerConfigError extends Error {}

export interface ContainerRuntime {
  readonly name: 'process' | 'docker';
  /** The Node's containerRuntimeVersion: `<runtime>://<version>`. */
  version(): Promise<string>;
  /** What this driver can honour of a pod (runtime-support.ts checks a pod against it before a container starts). */
  readonly features: ReadonlySet<RuntimeFeature>;
  /** Makes the image present per policy, with the matching credentials in `auth`; `onPulling` before a pull. */
  ensureImage(image: string, policy: PullPolicy, auth?: RegistryAuth[], onPulling?: () => void): Promise<ImageInfo>;
  /** Creates and starts a pod's sandbox, or returns the one already running under this name. */
  runSandbox(spec: SandboxSpec): Promise<SandboxInfo>;
  /** Removes a sandbox and what it owns (after its containers). */
  removeSandbox(id: string): Promise<void>;
  /** This node's sandboxes, found by the node label. */
  listSandboxes(nodeName: string): Promise<SandboxInfo[]>;
  /** Creates and starts a container; its output goes to `output`. */
  run(spec: ContainerSpec, output: OutputSink): Promise<ContainerInfo>;
  /** Resolves when the container has exited (at once if it already has). */
  wait(id: string): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceSeconds`. Resolves once it has exited. */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** This node's containers (running or exited, sandboxes excluded), found by the node label. */
  list(nodeName: string): Promise<ContainerInfo[]>;
  /** Resumes forwarding an adopted container's output. */
  follow(id: string, output: OutputSink): Promise<void>;
  /** Runs a command inside the container (exec probes). */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** What each running container has used so far (containers it cannot read are left out). */
  usage(ids: string[]): Promise<Map<string, ContainerUsage>>;
  /** Stops and forgets everything this driver started (the process runtime's children die with the agent). */
  close(): Promise<void>;
}
