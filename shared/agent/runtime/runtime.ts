/**
 * What the agent needs from a container engine. Two drivers implement it: `process` (a container's
 * command as a child process) and `docker` (the Docker Engine API, which podman also serves).
 */

export type PullPolicy = 'Always' | 'IfNotPresent' | 'Never';

/** Labels that tie a runtime container to its pod, so that a restarted agent adopts instead of duplicating. */
export const LABELS = {
  node: 'io.kumo.node',
  podUid: 'io.kumo.pod.uid',
  podNamespace: 'io.kumo.pod.namespace',
  podName: 'io.kumo.pod.name',
  container: 'io.kumo.container',
  restartCount: 'io.kumo.restart-count',
} as const;

export interface PortMapping {
  containerPort: number;
  hostPort?: number;
  protocol: 'TCP' | 'UDP';
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
  memoryBytes?: number;
  ports: PortMapping[];
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
  /** Makes the image present per policy; true when it was pulled now. */
  ensureImage(image: string, policy: PullPolicy): Promise<boolean>;
  /** Creates and starts a container; its output goes to `output`. */
  run(spec: ContainerSpec, output: OutputSink): Promise<ContainerInfo>;
  /** Resolves when the container has exited (at once if it already has). */
  wait(id: string): Promise<ExitInfo>;
  /** SIGTERM, then SIGKILL after `graceSeconds`. Resolves once it has exited. */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** This node's containers (running or exited), found by the node label. */
  list(nodeName: string): Promise<ContainerInfo[]>;
  /** Resumes forwarding an adopted container's output. */
  follow(id: string, output: OutputSink): Promise<void>;
  /** Runs a command inside the container (exec probes). */
  exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }>;
  /** Stops and forgets everything this driver started (the process runtime's children die with the agent). */
  close(): Promise<void>;
}
