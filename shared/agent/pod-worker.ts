import type { KubeObject } from '../model/types.js';
import { backoffDelay, type RestartPolicy } from './backoff.js';
import { ContainerRunner, type ContainerDef, type PodContext, type RunnerDeps } from './container-runner.js';
import { podStatus, type ContainerView } from './pod-status.js';
import { LABELS, type ContainerInfo, type RegistryAuth, type SandboxInfo } from './runtime/runtime.js';
import { entriesOf } from './runtime/registry-auth.js';
import { dnsFor, sandboxSpec, type DnsSettings } from './sandbox-config.js';
import { PodVolumes } from './volumes/pod-volumes.js';
import type { TokenSource } from './volumes/projection.js';
import { tokenVolumeField } from './runtime-support.js';
import { TOKEN_MOUNT_PATH } from '../model/service-accounts.js';
import type { Lookup } from './env.js';
import { isoAt } from '../util/timers.js';
import { podSpec } from '../model/typed.js';

const view = (r: ContainerRunner): ContainerView => ({
  name: r.def.name,
  image: r.def.image,
  state: r.state,
  lastState: r.lastState,
  restartCount: r.restartCount,
  ready: r.ready,
  started: r.started,
  everRan: r.everRan,
  finished: r.finished,
  containerId: r.containerID,
});

export interface WorkerDeps extends Omit<RunnerDeps, 'event' | 'changed'> {
  event: (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => void;
  changed: (worker: PodWorker) => void;
  /** Where pods' volumes live on this node (`<data dir>/pods`). */
  podsDir: string;
  /** Where this node makes kumo.dev/local volumes (none: it makes none). */
  localVolumesDir?: string;
  /** Tells the control plane a local volume's directory exists now. */
  madeLocalVolume?: (name: string) => void;
  /** Tokens for serviceAccountToken projections (the node's token cache). */
  tokens?: TokenSource;
  dns: DnsSettings;
}

/**
 * One pod on this node: its init containers in order, then its containers side by side, and its
 * graceful termination. `status()` is what the agent reports for it.
 */
export class PodWorker {
  private readonly init: ContainerRunner[];
  private readonly main: ContainerRunner[];
  private readonly startTime: string;
  private terminating?: Promise<void>;
  /** Stopped and cleaned up after a deletion: the agent tells the control plane it may remove the pod. */
  terminated = false;
  private sandbox?: SandboxInfo;
  private readonly volumes: PodVolumes;
  private interruptWait?: () => void;
  private observed: KubeObject;
  /** What a changed sandbox leaves behind, removed before the pod starts again. */
  private replaced?: { containers: ContainerInfo[]; sandbox?: SandboxInfo };
  /** The sandbox and volumes being made: termination waits for it, so nothing is made after teardown. */
  private preparing?: Promise<boolean>;

  constructor(
    readonly pod: KubeObject,
    private readonly deps: WorkerDeps,
    adopted: ContainerInfo[] = [],
    adoptedSandbox?: SandboxInfo,
  ) {
    this.startTime = isoAt(deps.timers.now());
    this.observed = pod;
    this.sandbox = adoptedSandbox?.running ? adoptedSandbox : undefined;
    // Running containers without a running sandbox (it died, or an agent from before sandboxes started
    // them): kubelet kills and re-creates such a pod (SandboxChanged) rather than adopt it.
    if (adopted.some((c) => c.running) && !this.sandbox && deps.runtime.features.has('sandboxNetwork')) {
      this.replaced = { containers: adopted, sandbox: adoptedSandbox };
      adopted = [];
    }
    this.volumes = new PodVolumes(pod, deps.podsDir, {
      lookup: deps.lookup,
      ...(deps.tokens ? { tokens: deps.tokens } : {}),
      now: () => deps.timers.now(),
      ...(deps.localVolumesDir ? { localVolumesDir: deps.localVolumesDir } : {}),
      ...(deps.madeLocalVolume ? { madeLocalVolume: deps.madeLocalVolume } : {}),
    });
    const spec = podSpec(pod);
    const restartPolicy = (spec.restartPolicy ?? 'Always') as RestartPolicy;
    // The runner reads a subset of Container whose enums (pull policy, protocol) admission has checked.
    const containers = (spec.containers ?? []) as ContainerDef[];
    const initContainers = (spec.initContainers ?? []) as ContainerDef[];
    const runnerDeps: RunnerDeps = {
      ...deps,
      event: (...a) => deps.event(pod, ...a),
      changed: () => deps.changed(this),
    };
    const adoptedFor = (name: string) =>
      adopted
        .filter((c) => c.labels[LABELS.container] === name && c.running)
        .sort((a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0))[0];
    const context = (fieldIndex: string): PodContext => ({
      fieldIndex,
      sandbox: () => {
        if (!this.sandbox) throw new Error('the pod sandbox is not running');
        return this.sandbox;
      },
      podIP: () => this.podIP ?? this.deps.hostIP,
      mounts: (mounts, env) => this.volumes.mountsFor(mounts, env),
      terminationFile: (container, instance) => {
        const path = this.volumes.terminationFile(container, instance);
        return { path, read: () => PodVolumes.readTerminationMessage(path) };
      },
      pullCredentials: () => this.pullCredentials(),
    });
    // Init containers must succeed once; a pod that never restarts fails with its first failed init container.
    this.init = initContainers.map(
      (c, i) =>
        new ContainerRunner(
          pod,
          c,
          restartPolicy === 'Never' ? 'Never' : 'OnFailure',
          runnerDeps,
          context(`spec.initContainers[${i}]`),
        ),
    );
    // A pod adopted after an agent restart is past its init containers.
    const adopting = adopted.some((c) => c.running);
    if (adopting)
      for (const r of this.init)
        Object.assign(r, {
          finished: true,
          state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: this.startTime } },
        });
    this.main = containers.map(
      (c, i) =>
        new ContainerRunner(pod, c, restartPolicy, runnerDeps, context(`spec.containers[${i}]`), adoptedFor(c.name)),
    );
  }

  /**
   * The sandbox's IP; the node's on the host network and on runtimes without a network of their own.
   * None before the sandbox exists, as in Kubernetes (podIP is empty until the sandbox has one).
   */
  private get podIP(): string | undefined {
    if (this.sandbox) return this.sandbox.ip ?? this.deps.hostIP;
    return this.deps.runtime.features.has('sandboxNetwork') ? undefined : this.deps.hostIP;
  }

  /** The pod's own address (its sandbox's, not the node's it shares on the host network), if it has one. */
  get ownIP(): string | undefined {
    const ip = this.podIP;
    return ip && ip !== this.deps.hostIP ? ip : undefined;
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string) {
    this.deps.event(this.pod, type, reason, message);
  }

  /**
   * The pod's sandbox and volumes, before any container (kubelet's SyncPod: createPodSandbox, then
   * WaitForAttachAndMount). A failure is an Event (FailedCreatePodSandBox, FailedMount) and a retry
   * after a back-off; the containers wait in ContainerCreating meanwhile.
   */
  private async prepare(): Promise<boolean> {
    const spec = sandboxSpec(this.pod, this.deps.nodeName, this.deps.dns);
    const fallback = dnsFor(this.pod, this.deps.dns).fallback;
    for (let attempt = 1; !this.terminating; attempt++) {
      try {
        if (!this.sandbox) {
          this.sandbox = await this.deps.runtime.runSandbox(spec);
          if (fallback)
            this.event(
              'Warning',
              'MissingClusterDNS',
              `pod: ${JSON.stringify(`${this.pod.metadata.name}_${this.pod.metadata.namespace}(${this.uid})`)}. ${fallback}`,
            );
          this.deps.changed(this);
        }
      } catch (e) {
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${(e as Error).message}`);
        await this.wait(backoffDelay(this.deps.backoff, attempt));
        continue;
      }
      try {
        // A runtime that mounts nothing gets no files on the host either (its containers that mount wait).
        if (this.deps.runtime.features.has('volumes'))
          await this.volumes.setUp(this.sandbox, { hostIP: this.deps.hostIP, podIP: this.podIP });
        else this.warnUnmountedToken();
        this.warnNoApiService();
        this.warnUnenforcedVolumes();
        return true;
      } catch (e) {
        this.event('Warning', 'FailedMount', (e as Error).message);
        await this.wait(backoffDelay(this.deps.backoff, attempt));
      }
    }
    return false;
  }

  /** The containers of a pod on a runtime without volumes run without their ServiceAccount token: said once. */
  private warnUnmountedToken() {
    const volume = tokenVolumeField(this.pod);
    if (volume)
      this.event(
        'Warning',
        'TokenNotMounted',
        `${volume}: the ${this.deps.runtime.name} runtime cannot mount volumes, so the containers run without their ServiceAccount token at ${TOKEN_MOUNT_PATH}; set automountServiceAccountToken: false if they do not need it, or run the pod on a node with the docker runtime`,
      );
  }

  /**
   * A pod with API credentials but no address to find the API by: no `kubernetes` Service with a
   * cluster IP, and no API URL from the registration (as on AWS). In-cluster clients fail to configure: said once.
   */
  private warnNoApiService() {
    const volume = tokenVolumeField(this.pod);
    if (volume && !this.deps.serviceEnv?.(this.pod).KUBERNETES_SERVICE_HOST)
      this.event(
        'Warning',
        'NoKubernetesService',
        `${volume}: the pod has its ServiceAccount token, but this node knows no address for the API (no kubernetes Service with a cluster IP in the default namespace, and no API URL from the control plane), so KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set and in-cluster clients cannot find the API; give them its URL`,
      );
  }

  /**
   * A disk emptyDir's sizeLimit is enforced by kubelet's eviction manager, which kumo nodes do not have
   * yet (a memory emptyDir's is: the tmpfs is that size): said once, naming the field.
   */
  private warnUnenforcedVolumes() {
    const fields = (podSpec(this.pod).volumes ?? []).flatMap((v, i) =>
      v.emptyDir?.sizeLimit !== undefined && v.emptyDir.medium !== 'Memory'
        ? [`spec.volumes[${i}].emptyDir.sizeLimit`]
        : [],
    );
    if (fields.length)
      this.event(
        'Warning',
        'ResourcesNotEnforced',
        `${fields.join(', ')}: not enforced on this node (kubelet evicts a pod whose emptyDir outgrows it; kumo nodes do not evict yet)`,
      );
  }

  /** The host paths of the claimed volumes this pod has mounted. */
  claimedPaths(): string[] {
    return this.volumes.claimedPaths();
  }

  /** Keeps configMap, secret, downwardAPI and projected volumes in step with their sources (the agent's resync). */
  async refreshVolumes(lookup?: Lookup): Promise<void> {
    if (this.terminating || !this.sandbox) return;
    const facts = { hostIP: this.deps.hostIP, podIP: this.podIP };
    await this.volumes.refresh(this.observed, facts, lookup).catch(() => undefined);
  }

  /** The pod as the control plane last sent it (labels and annotations change; the spec does not). */
  observe(pod: KubeObject): void {
    this.observed = pod;
  }

  /** The pod's imagePullSecrets, read afresh for each pull; a missing one is kubelet's warning, not a failure. */
  private async pullCredentials(): Promise<RegistryAuth[]> {
    const refs = podSpec(this.pod).imagePullSecrets ?? [];
    const out: RegistryAuth[] = [];
    const missing: string[] = [];
    for (const ref of refs) {
      const secret = ref.name
        ? await this.deps.lookup('Secret', this.pod.metadata.namespace ?? 'default', ref.name).catch(() => undefined)
        : undefined;
      if (!secret) {
        missing.push(`"${ref.name ?? ''}"`);
        continue;
      }
      const data = (secret.data ?? {}) as Record<string, string>;
      const payload = data['.dockerconfigjson'] ?? data['.dockercfg'];
      if (payload)
        out.push(...entriesOf(secret.type as string | undefined, Buffer.from(payload, 'base64').toString('utf8')));
    }
    if (missing.length)
      this.event(
        'Warning',
        'FailedToRetrieveImagePullSecret',
        `Unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed.`,
      );
    return out;
  }

  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const cancel = this.deps.timers.after(ms, resolve);
      this.interruptWait = () => (cancel(), resolve());
    });
  }

  get uid(): string {
    return this.pod.metadata.uid ?? '';
  }

  start(): void {
    void this.runAll();
  }

  private async runAll() {
    if (this.replaced) {
      const { containers, sandbox } = this.replaced;
      this.replaced = undefined;
      this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const grace = Number(this.pod.spec?.terminationGracePeriodSeconds ?? 30);
      await Promise.all(
        containers.map(async (c) => {
          await this.deps.runtime.stop(c.id, grace).catch(() => undefined);
          await this.deps.runtime.remove(c.id).catch(() => undefined);
        }),
      );
      if (sandbox) await this.deps.runtime.removeSandbox(sandbox.id).catch(() => undefined);
    }
    this.preparing = this.prepare();
    if (!(await this.preparing)) return;
    for (const r of this.init) {
      if (r.finished) continue;
      await r.start();
      if (!('terminated' in r.state) || r.state.terminated.exitCode !== 0 || this.terminating) return;
    }
    if (this.terminating) return;
    await Promise.all(this.main.map((r) => r.start()));
  }

  /** Graceful stop of every container, then removal; idempotent. */
  terminate(graceSeconds: number, reason?: string): Promise<void> {
    this.terminating ??= (async () => {
      this.interruptWait?.();
      await Promise.all([...this.init, ...this.main].map((r) => r.stop(graceSeconds, reason)));
      await Promise.all([...this.init, ...this.main].map((r) => r.cleanUp()));
      // A sandbox or volume in the making is finished first, then removed with the rest.
      await this.preparing?.catch(() => false);
      // After its containers: the sandbox, then the volumes (a Secret's files leave the node with the pod).
      const sandbox = this.sandbox ?? (await this.findSandbox());
      if (sandbox) await this.deps.runtime.removeSandbox(sandbox.id).catch(() => undefined);
      this.volumes.tearDown();
      this.terminated = true;
      this.deps.changed(this);
    })();
    return this.terminating;
  }

  /** A sandbox made while this worker was being told to stop (its start was in flight). */
  private async findSandbox(): Promise<SandboxInfo | undefined> {
    const all = await this.deps.runtime.listSandboxes(this.deps.nodeName).catch(() => []);
    return all.find((s) => s.labels[LABELS.podUid] === this.uid);
  }

  /** The app containers running now, with the runtime's ids (what resource metrics are read for). */
  runningContainers(): { name: string; id: string }[] {
    return this.main.flatMap((r) =>
      r.containerId && 'running' in r.state ? [{ name: r.def.name, id: r.containerId }] : [],
    );
  }

  get isTerminating(): boolean {
    return this.terminating !== undefined;
  }

  status(previous: KubeObject['status'] | undefined) {
    const ip = this.podIP;
    return podStatus({
      init: this.init.map(view),
      main: this.main.map(view),
      hostIP: this.deps.hostIP,
      podIP: ip,
      startTime: this.startTime,
      now: isoAt(this.deps.timers.now()),
      previous: previous as never,
    });
  }
}
