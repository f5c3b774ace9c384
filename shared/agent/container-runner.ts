import type { KubeObject } from '../model/types.js';
import type { LogStore, LogWriter } from '../logs/log-store.js';
import { backoffDelay, shouldRestart, type BackoffPolicy, type RestartPolicy } from './backoff.js';
import { containerEnv, EnvConfigError, expand, type Lookup } from './env.js';
import { ProbeLoop, probeOnce, type ProbeSpec, type ProbeTarget } from './probes.js';
import {
  ContainerConfigError,
  ContainerStartError,
  ImagePullError,
  LABELS,
  type ContainerInfo,
  type ContainerRuntime,
  type Mount,
  type PullPolicy,
  type RegistryAuth,
  type SandboxInfo,
} from './runtime/runtime.js';
import {
  containerSecurity,
  cpuShares,
  SecurityConfigError,
  verifyRunAsNonRoot,
  type ContainerSecurityContext,
} from './security.js';
import { MountError } from './volumes/projection.js';
import type { VolumeMountSpec } from './volumes/pod-volumes.js';
import { isTokenMount, unhonouredField } from './runtime-support.js';
import { parseQuantity } from '../model/quantity.js';
import { isoAt, type Timers } from '../util/timers.js';

/** The part of a Pod's container spec the agent acts on. */
export interface ContainerDef {
  name: string;
  image: string;
  imagePullPolicy?: PullPolicy;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: unknown[];
  envFrom?: unknown[];
  ports?: { name?: string; containerPort: number; hostPort?: number; protocol?: 'TCP' | 'UDP' }[];
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
  livenessProbe?: ProbeSpec;
  readinessProbe?: ProbeSpec;
  startupProbe?: ProbeSpec;
  volumeMounts?: VolumeMountSpec[];
  securityContext?: ContainerSecurityContext;
  terminationMessagePath?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
}

/** A postStart or preStop hook: a probe's exec or httpGet, or a sleep (tcpSocket is deprecated and refused). */
export type LifecycleHandler = Pick<ProbeSpec, 'exec' | 'httpGet' | 'tcpSocket'> & { sleep?: { seconds: number } };

/** What a container takes from its pod on this node: the sandbox it joins, its volumes, its pull credentials. */
export interface PodContext {
  sandbox(): SandboxInfo;
  /** The pod's IP (the sandbox's, or the node's on the host network). */
  podIP(): string;
  mounts(mounts: VolumeMountSpec[], env: Record<string, string>): Mount[];
  /** A fresh host file for the container's terminationMessagePath, and how to read it after the exit. */
  terminationFile(container: string, instance: number): { path: string; read(): string };
  pullCredentials(): Promise<RegistryAuth[]>;
  /** Which container this is, for field paths: `spec.containers[2]`. */
  fieldIndex: string;
}

/** Kubernetes' ContainerState: exactly one of the three. */
export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        startedAt?: string;
        finishedAt: string;
        containerID?: string;
      };
    };

export interface RunnerDeps {
  runtime: ContainerRuntime;
  logs: LogStore;
  lookup: Lookup;
  backoff: BackoffPolicy;
  nodeName: string;
  hostIP: string;
  timers: Timers;
  /** The node may run privileged containers (kubelet's old --allow-privileged; off by default). */
  allowPrivileged: boolean;
  /** The node's own registry credentials for an image (ECR with the node's role on AWS). */
  nodeCredentials?: (image: string) => Promise<RegistryAuth[]>;
  /** Records an Event about the pod (fieldPath names the container). */
  event: (type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;
  /** Something in this container's status changed. */
  changed: () => void;
  /** The Service environment variables for a container of this pod starting now. */
  serviceEnv?: (pod: KubeObject) => Record<string, string>;
}

/** A runtime's own timestamp (when a container started or exited), as Kubernetes writes it. */
const iso = (d: Date) => isoAt(d.getTime());

/**
 * One container of a pod through its whole life on this node: pull, start, probe, exit, back off and
 * restart per the restart policy, until told to stop. Its fields are what containerStatuses report.
 */
export class ContainerRunner {
  state: ContainerState = { waiting: { reason: 'ContainerCreating' } };
  lastState: ContainerState | Record<string, never> = {};
  restartCount = 0;
  ready = false;
  started = false;
  /** Has run at least once (the pod is no longer Pending). */
  everRan = false;
  /** Exited and will not be restarted. */
  finished = false;
  /** The runtime's id for the current instance. */
  containerId?: string;
  /** As containerStatuses report it: `<runtime>://<id>`. */
  containerID?: string;
  private stopping = false;
  private stopGraceSeconds = 0;
  private interruptSleep?: () => void;
  private probes: ProbeLoop[] = [];
  private loop?: Promise<void>;
  private consecutiveFailures = 0;
  private previousId?: string;
  /** The current instance's termination message file, when the runtime can mount one. */
  private termination?: { path: string; read(): string };

  constructor(
    private readonly pod: KubeObject,
    readonly def: ContainerDef,
    private readonly restartPolicy: RestartPolicy,
    private readonly deps: RunnerDeps,
    private readonly podContext: PodContext,
    private adopted?: ContainerInfo,
  ) {
    if (adopted) this.restartCount = Number(adopted.labels[LABELS.restartCount] ?? 0);
  }

  private get fieldPath() {
    return `spec.containers{${this.def.name}}`;
  }

  start(): Promise<void> {
    this.loop ??= this.run();
    return this.loop;
  }

  /** Graceful stop (SIGTERM, then SIGKILL after `graceSeconds`); resolves when it has exited. */
  async stop(graceSeconds: number, reason = 'Stopping container'): Promise<void> {
    this.stopping = true;
    this.stopGraceSeconds = graceSeconds;
    this.interruptSleep?.();
    this.stopProbes();
    if (this.containerId && 'running' in this.state) {
      this.deps.event('Normal', 'Killing', `${reason} ${this.def.name}`, this.fieldPath);
      // kubelet runs preStop first, and its time counts against the grace period.
      const began = this.deps.timers.now();
      const preStop = this.def.lifecycle?.preStop;
      if (preStop && graceSeconds > 0) {
        const failed = await this.runHook(preStop, this.containerId, graceSeconds * 1000);
        if (failed) this.deps.event('Warning', 'FailedPreStopHook', failed, this.fieldPath);
      }
      // kubelet leaves at least 2 s between SIGTERM and SIGKILL however long preStop took (minimumGracePeriodInSeconds).
      const spent = Math.floor((this.deps.timers.now() - began) / 1000);
      const left = preStop && graceSeconds > 0 ? Math.max(2, graceSeconds - spent) : graceSeconds;
      await this.deps.runtime.stop(this.containerId, left).catch(() => undefined);
    }
    await this.loop;
  }

  /** Runs a lifecycle hook in (or against) the container; the failure's message, or undefined when it succeeded. */
  private async runHook(h: LifecycleHandler, id: string, timeoutMs: number): Promise<string | undefined> {
    if (h.sleep) {
      await new Promise<void>((resolve) =>
        this.deps.timers.after(Math.min(h.sleep?.seconds ?? 0, timeoutMs / 1000) * 1000, resolve),
      );
      return undefined;
    }
    if (h.tcpSocket) return 'TCPSocket is deprecated and not supported as a lifecycle handler';
    const outcome = await probeOnce(
      { ...h, timeoutSeconds: Math.max(1, Math.floor(timeoutMs / 1000)) },
      this.probeTarget(id),
    );
    return outcome.ok ? undefined : outcome.message;
  }

  private probeTarget(id: string): ProbeTarget {
    return {
      host: this.podContext.podIP(),
      ports: Object.fromEntries(
        (this.def.ports ?? []).filter((p) => p.name).map((p) => [p.name as string, p.containerPort]),
      ),
      exec: (command, timeoutMs) => this.deps.runtime.exec(id, command, timeoutMs),
    };
  }

  /** Removes this container's leftovers from the runtime. */
  async cleanUp(): Promise<void> {
    for (const id of [this.previousId, this.containerId])
      if (id) await this.deps.runtime.remove(id).catch(() => undefined);
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      let info: ContainerInfo;
      let log: LogWriter | undefined;
      const adopted = this.adopted;
      this.adopted = undefined;
      try {
        if (adopted) {
          info = adopted;
          log = this.openLog(false);
          void this.deps.runtime.follow(info.id, { write: (c) => log?.write(c) }).catch(() => undefined);
        } else {
          ({ info, log } = await this.createAndStart());
        }
      } catch (e) {
        if (e instanceof ContainerStartError) {
          const now = isoAt(this.deps.timers.now());
          if (
            await this.exited({
              exitCode: 128,
              reason: 'StartError',
              message: e.message,
              finishedAt: now,
              startedAt: now,
            })
          )
            continue;
          return;
        }
        const reason =
          e instanceof ImagePullError
            ? e.reason
            : e instanceof EnvConfigError ||
                e instanceof ContainerConfigError ||
                e instanceof SecurityConfigError ||
                e instanceof MountError
              ? 'CreateContainerConfigError'
              : 'CreateContainerError';
        this.setState({ waiting: { reason, message: (e as Error).message } });
        // kubelet's pull events: the pull's own failure, then the container's (pkg/kubelet/images).
        if (e instanceof ImagePullError && e.reason === 'ErrImagePull')
          this.deps.event('Warning', 'Failed', `Failed to pull image "${e.image}": ${e.message}`, this.fieldPath);
        this.deps.event(
          'Warning',
          'Failed',
          `Error: ${e instanceof ImagePullError ? e.reason : (e as Error).message}`,
          this.fieldPath,
        );
        this.consecutiveFailures++;
        await this.sleep(backoffDelay(this.deps.backoff, this.consecutiveFailures));
        if (e instanceof ImagePullError && !this.stopping) {
          this.setState({ waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${e.image}"` } });
          this.deps.event('Normal', 'BackOff', `Back-off pulling image "${e.image}"`, this.fieldPath);
          this.deps.event('Warning', 'Failed', 'Error: ImagePullBackOff', this.fieldPath);
        }
        continue;
      }
      this.containerId = info.id;
      this.containerID = `${this.deps.runtime.name}://${info.id}`;
      this.everRan = true;
      const startedAt = info.startedAt ? iso(info.startedAt) : isoAt(this.deps.timers.now());
      if (info.running) {
        this.setState({ running: { startedAt } });
        // Asked to stop while it was being created: stop it now rather than wait for it forever.
        if (this.stopping) void this.deps.runtime.stop(info.id, this.stopGraceSeconds).catch(() => undefined);
        else if (this.def.lifecycle?.postStart && !adopted) void this.postStart(info);
        else this.startProbes(info);
      }
      const exit = await this.deps.runtime.wait(info.id);
      this.stopProbes();
      await log?.close();
      const message = await this.terminationMessage(exit.exitCode);
      const again = await this.exited({
        exitCode: exit.exitCode,
        reason: exit.reason ?? (exit.exitCode === 0 ? 'Completed' : 'Error'),
        ...(message ? { message } : {}),
        startedAt,
        finishedAt: iso(exit.finishedAt),
        containerID: this.containerID,
      });
      if (!again) return;
    }
  }

  /**
   * kubelet's termination message: the file at terminationMessagePath, or with FallbackToLogsOnError
   * and a failed exit, the log's last 80 lines (at most 2048 bytes) when the file is empty.
   */
  private async terminationMessage(exitCode: number): Promise<string | undefined> {
    const fromFile = this.termination?.read() ?? '';
    if (fromFile) return fromFile;
    if (this.def.terminationMessagePolicy !== 'FallbackToLogsOnError' || exitCode === 0) return undefined;
    const ref = {
      namespace: this.pod.metadata.namespace ?? '',
      pod: this.pod.metadata.name ?? '',
      podUid: this.pod.metadata.uid ?? '',
      container: this.def.name,
    };
    return (await this.deps.logs.read(ref, { tailLines: 80, limitBytes: 2048 }).catch(() => undefined)) || undefined;
  }

  /** Records the exit; true when the container will be started again (after the back-off). */
  private async exited(t: Extract<ContainerState, { terminated: unknown }>['terminated']): Promise<boolean> {
    this.ready = false;
    this.started = false;
    const terminated: ContainerState = { terminated: t };
    if (this.stopping || !shouldRestart(this.restartPolicy, t.exitCode)) {
      this.finished = true;
      this.setState(terminated);
      return false;
    }
    const ranMs = t.startedAt ? Date.parse(t.finishedAt) - Date.parse(t.startedAt) : 0;
    if (ranMs >= this.deps.backoff.resetAfterMs) this.consecutiveFailures = 0;
    this.consecutiveFailures++;
    const delay = backoffDelay(this.deps.backoff, this.consecutiveFailures);
    this.lastState = terminated;
    this.setState({
      waiting: {
        reason: 'CrashLoopBackOff',
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${this.def.name} pod=${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.pod.metadata.uid})`,
      },
    });
    this.deps.event('Warning', 'BackOff', 'Back-off restarting failed container', this.fieldPath);
    await this.sleep(delay);
    if (this.stopping) return false;
    this.restartCount++;
    return true;
  }

  private async createAndStart(): Promise<{ info: ContainerInfo; log: LogWriter }> {
    const d = this.def;
    // A field this node's runtime cannot honour stops the container before anything is pulled.
    const unhonoured = unhonouredField(this.pod, d, this.podContext.fieldIndex, this.deps.runtime.features, {
      allowPrivileged: this.deps.allowPrivileged,
      runtimeName: this.deps.runtime.name,
    });
    if (unhonoured) throw new ContainerConfigError(unhonoured);
    const policy: PullPolicy =
      d.imagePullPolicy ?? (d.image.endsWith(':latest') || !d.image.includes(':') ? 'Always' : 'IfNotPresent');
    const pulledAt = this.deps.timers.now();
    // The pod's pull secrets first, then the node's own (kubelet's keyring merges both the same way).
    const credentials = [
      ...(await this.podContext.pullCredentials()),
      ...((await this.deps.nodeCredentials?.(d.image).catch(() => [])) ?? []),
    ];
    const image = await this.deps.runtime.ensureImage(d.image, policy, credentials, () =>
      this.deps.event('Normal', 'Pulling', `Pulling image "${d.image}"`, this.fieldPath),
    );
    if (image.pulled)
      this.deps.event(
        'Normal',
        'Pulled',
        `Successfully pulled image "${d.image}" in ${this.deps.timers.now() - pulledAt}ms`,
        this.fieldPath,
      );
    // Only an engine keeps images to find already present (the process runtime has none).
    else if (this.deps.runtime.name !== 'process')
      this.deps.event('Normal', 'Pulled', `Container image "${d.image}" already present on machine`, this.fieldPath);
    verifyRunAsNonRoot(this.pod, d, image.user);
    const podIP = this.podContext.podIP();
    const env = await containerEnv(this.pod, d as never, this.deps.lookup, {
      hostIP: this.deps.hostIP,
      podIP,
      serviceEnv: this.deps.serviceEnv?.(this.pod),
    });
    // A runtime that mounts nothing leaves out the token's mount (the pod worker says so once).
    const wanted = (d.volumeMounts ?? []).filter(
      (m) => this.deps.runtime.features.has('volumes') || !isTokenMount(this.pod, m),
    );
    const mounts = this.podContext.mounts(wanted, env);
    // Where the runtime can mount files, the termination message file is one (kubelet's, too).
    this.termination =
      d.terminationMessagePath && this.deps.runtime.features.has('volumes')
        ? this.podContext.terminationFile(d.name, this.restartCount)
        : undefined;
    if (this.termination)
      mounts.push({
        source: this.termination.path,
        kind: 'bind',
        target: d.terminationMessagePath ?? '',
        readOnly: false,
      });
    const limits = d.resources?.limits ?? {};
    const uid = this.pod.metadata.uid ?? '';
    if (this.containerId) {
      // kubelet keeps the last exited instance for inspection; older ones go.
      if (this.previousId) await this.deps.runtime.remove(this.previousId).catch(() => undefined);
      this.previousId = this.containerId;
    }
    const log = this.openLog(true);
    const info = await this.deps.runtime
      .run(
        {
          name: `kumo_${this.pod.metadata.name}_${this.pod.metadata.namespace}_${d.name}_${uid.slice(0, 8)}_${this.restartCount}`,
          image: d.image,
          command: d.command?.map((s) => expand(s, env)),
          args: d.args?.map((s) => expand(s, env)),
          env,
          workingDir: d.workingDir,
          labels: {
            [LABELS.node]: this.deps.nodeName,
            [LABELS.podUid]: uid,
            [LABELS.podNamespace]: this.pod.metadata.namespace ?? '',
            [LABELS.podName]: this.pod.metadata.name ?? '',
            [LABELS.container]: d.name,
            [LABELS.restartCount]: String(this.restartCount),
          },
          cpuMilli:
            limits.cpu !== undefined ? Math.ceil((parseQuantity(limits.cpu) ?? 0) * 1000) || undefined : undefined,
          cpuShares: cpuShares(d.resources?.requests?.cpu),
          memoryBytes:
            limits.memory !== undefined ? Math.ceil(parseQuantity(limits.memory) ?? 0) || undefined : undefined,
          sandbox: this.podContext.sandbox(),
          pidMode: this.pod.spec?.hostPID ? 'host' : this.pod.spec?.shareProcessNamespace ? 'pod' : 'private',
          hostIPC: this.pod.spec?.hostIPC === true,
          mounts,
          security: containerSecurity(this.pod, d, image.user),
        },
        { write: (chunk) => log.write(chunk) },
      )
      .catch(async (e: unknown) => {
        await log.close();
        throw e;
      });
    this.deps.event('Normal', 'Started', `Started container ${d.name}`, this.fieldPath);
    if (this.restartCount === 0) this.warnUnenforced();
    return { info, log };
  }

  /**
   * Resources this node runs the container without enforcing say so, once, in a Warning Event naming
   * the field: ephemeral-storage limits everywhere (kubelet enforces them by eviction, which kumo nodes
   * do not do yet); CPU and memory on the process runtime, which has no cgroups of its own.
   */
  private warnUnenforced() {
    const at = this.podContext.fieldIndex;
    const fields: string[] = [];
    for (const section of ['limits', 'requests'] as const)
      for (const r of Object.keys(this.def.resources?.[section] ?? {}))
        if (r === 'ephemeral-storage' ? section === 'limits' : this.deps.runtime.name === 'process')
          fields.push(`${at}.resources.${section}.${r}`);
    if (fields.length)
      this.deps.event(
        'Warning',
        'ResourcesNotEnforced',
        `${fields.join(', ')}: not enforced on this node (${this.deps.runtime.name} runtime); the scheduler still counts requests`,
        this.fieldPath,
      );
  }

  /** A new instance starts a new log (the last one becomes "previous"); an adopted container continues its own. */
  private openLog(newInstance: boolean): LogWriter {
    const ref = {
      namespace: this.pod.metadata.namespace ?? '',
      pod: this.pod.metadata.name ?? '',
      podUid: this.pod.metadata.uid ?? '',
      container: this.def.name,
    };
    return this.deps.logs.open(ref, { rotate: newInstance });
  }

  /** kubelet's postStart: probes begin after it; a failed hook kills the container (FailedPostStartHook). */
  private async postStart(info: ContainerInfo) {
    const hook = this.def.lifecycle?.postStart;
    if (!hook) return;
    const failed = await this.runHook(hook, info.id, 120_000);
    if (this.stopping || this.containerId !== info.id) return;
    if (!failed) return this.startProbes(info);
    this.deps.event('Warning', 'FailedPostStartHook', failed, this.fieldPath);
    const grace = Number(this.pod.spec?.terminationGracePeriodSeconds ?? 30);
    void this.deps.runtime.stop(info.id, grace).catch(() => undefined);
  }

  private startProbes(info: ContainerInfo) {
    const target = this.probeTarget(info.id);
    const grace = Number(this.pod.spec?.terminationGracePeriodSeconds ?? 30);
    const kill = (which: string, message: string) => {
      this.deps.event(
        'Normal',
        'Killing',
        `Container ${this.def.name} failed ${which} probe, will be restarted`,
        this.fieldPath,
      );
      this.stopProbes();
      void this.deps.runtime.stop(info.id, grace).catch(() => undefined);
      void message;
    };
    const afterStartup = () => {
      this.started = true;
      if (this.def.livenessProbe) {
        this.addProbe(this.def.livenessProbe, target, (o, passing, crossed) => {
          if (!o.ok) this.deps.event('Warning', 'Unhealthy', `Liveness probe failed: ${o.message}`, this.fieldPath);
          if (crossed && passing === false) kill('liveness', o.message);
        });
      }
      if (this.def.readinessProbe) {
        this.addProbe(this.def.readinessProbe, target, (o, passing) => {
          if (!o.ok) this.deps.event('Warning', 'Unhealthy', `Readiness probe failed: ${o.message}`, this.fieldPath);
          this.setReady(passing === true);
        });
      } else this.setReady(true);
    };
    if (this.def.startupProbe) {
      let done = false;
      this.addProbe(this.def.startupProbe, target, (o, passing, crossed) => {
        if (done) return;
        if (!o.ok) this.deps.event('Warning', 'Unhealthy', `Startup probe failed: ${o.message}`, this.fieldPath);
        if (passing === true) {
          done = true;
          this.probes[0]?.stop();
          afterStartup();
          this.deps.changed();
        } else if (crossed && passing === false) kill('startup', o.message);
      });
    } else afterStartup();
  }

  private addProbe(spec: ProbeSpec, target: ProbeTarget, onResult: ConstructorParameters<typeof ProbeLoop>[2]) {
    const loop = new ProbeLoop(spec, target, onResult, this.deps.timers);
    this.probes.push(loop);
    loop.start();
  }

  private stopProbes() {
    for (const p of this.probes) p.stop();
    this.probes = [];
  }

  private setReady(ready: boolean) {
    if (this.ready === ready) return;
    this.ready = ready;
    this.deps.changed();
  }

  private setState(s: ContainerState) {
    this.state = s;
    this.deps.changed();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopping || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.deps.timers.after(ms, resolve);
      this.interruptSleep = () => (cancel(), resolve());
    });
  }
}
