import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { jsonEqual } from '../model/json.js';
import { isFinished } from '../model/pod-state.js';
import type { KubeObject } from '../model/types.js';
import type { LogStore } from '../logs/log-store.js';
import type {
  AgentEvent,
  MetricsReport,
  PodRef,
  PodStatusReport,
  RegisterRequest,
  SyncResponse,
} from '../nodes/protocol.js';
import { KUBELET_BACKOFF, backoffDelay, type BackoffPolicy } from './backoff.js';
import { FencedByControlPlane, type NodeClient, type WakeSource } from './node-client.js';
import { PodWorker } from './pod-worker.js';
import { PodVolumes } from './volumes/pod-volumes.js';
import type { PodTokenRequest } from './volumes/projection.js';
import { ServiceAccountTokenCache } from './service-account-token-cache.js';
import {
  LABELS,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerUsage,
  type RegistryAuth,
  type SandboxInfo,
} from './runtime/runtime.js';
import type { DnsSettings } from './sandbox-config.js';
import type { Lookup, LookupKind } from './env.js';
import { delay, systemTimers, type Timers } from '../util/timers.js';
import type { NodeNetwork } from './network/node-network.js';
import { apiAddressOf, serviceEnv, type ApiAddress } from './service-env.js';
import { nodeUsage } from './metrics/proc-usage.js';
import { UsageMeter } from './metrics/usage-meter.js';

export interface AgentOptions {
  nodeName: string;
  client: NodeClient;
  runtime: ContainerRuntime;
  logs: LogStore;
  /** What the Node says about this machine (capacity, labels, addresses, ...), minus the holder. */
  machine: Omit<RegisterRequest, 'holder'>;
  /** Recorded on the lease: which process holds it. */
  holder: string;
  /** The node's address: pods' hostIP, and podIP on host-network runtimes. */
  hostIP: string;
  /** Where pods' volumes live on this node. */
  podsDir: string;
  /** Cluster DNS settings for pods' resolv.conf (no cluster DNS yet: ClusterFirst falls back to the node's). */
  dns?: DnsSettings;
  /** The node may run privileged containers. */
  allowPrivileged?: boolean;
  /** The node's data path and DNS for Services (kube-proxy's and CoreDNS' roles). */
  network?: NodeNetwork;
  /** The node's own registry credentials for an image (ECR on AWS). */
  nodeCredentials?: (image: string) => Promise<RegistryAuth[]>;
  /** Builds the wake-up source for the queue the control plane names at registration. */
  wakeSource?: (queueUrl: string) => WakeSource;
  backoff?: BackoffPolicy;
  /** Wait this long after a local change before syncing, to report a burst in one call. */
  debounceMs?: number;
  /** The machine's cumulative CPU and memory use (/proc by default): the node's resource metrics. */
  nodeUsage?: () => ContainerUsage | undefined;
  /** The clock and timers (the system's by default; tests advance a manual one). */
  timers?: Timers;
  log?: (msg: string) => void;
}

const MAX_PER_SYNC = 500;
const MAX_BUFFERED_EVENTS = 500;
/** How long to wait before retrying an unreachable control plane, at most. */
const MAX_RETRY_MS = 30_000;
/** A sync renews the lease once this much of a heartbeat period has passed since the last renewal. */
const RENEW_AFTER = 0.8;
/** Reading usage must not hold up a heartbeat: past this, the renewal goes without metrics. */
const MEASURE_TIMEOUT_MS = 3_000;
const NODE_KEY = '';

const refOf = (pod: KubeObject): PodRef => ({
  namespace: pod.metadata.namespace ?? '',
  name: pod.metadata.name ?? '',
  uid: pod.metadata.uid ?? '',
});
const graceOf = (pod: KubeObject) =>
  Number(pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30);

/**
 * The node agent (kubelet's role). One loop: sync with the control plane (lease renewal, status
 * deltas, finished deletions, events, and assignments when something may have changed), act on the
 * assignments, then sleep until the next heartbeat, a wake-up, a resync or a local change.
 */
export class Agent {
  private epoch = 0;
  private heartbeatMs = 15_000;
  private resyncMs = 60_000;
  private readonly workers = new Map<string, PodWorker>();
  /** The last status the control plane accepted, per pod uid. */
  private readonly reported = new Map<string, unknown>();
  private readonly dirty = new Set<string>();
  private readonly terminated = new Map<string, PodRef>();
  private events: AgentEvent[] = [];
  private needFetch = true;
  /** Local volumes removed from disk, to report (their PersistentVolumes' cleanup finalizers go). */
  private readonly cleanedVolumes: string[] = [];
  /** Local volumes whose directories were made here, to report (their deletion then waits for this node). */
  private readonly madeVolumes: string[] = [];
  private digest?: string;
  private servicesDigest?: string;
  private lastFetchAt = 0;
  /** When this agent's last renewal was accepted: the next heartbeat is due a heartbeat after it. */
  private lastRenewAt = 0;
  private adoptable = new Map<string, ContainerInfo[]>();
  private adoptableSandboxes = new Map<string, SandboxInfo>();
  private kick?: () => void;
  private kicked = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private loop?: Promise<void>;
  private wakeLoop?: Promise<void>;
  /** Counters for the benchmark and the closing note: what this agent asked of the control plane. */
  readonly stats = { syncs: 0, fetches: 0, registrations: 0, wakeups: 0, fenced: 0 };

  private readonly timers: Timers;
  private meter = new UsageMeter();
  private lastMeasuredAt?: number;
  /** The control plane asks for usage while someone reads it (an autoscaler, `kubectl top`). */
  private sendMetrics = false;
  private measuring?: Promise<unknown>;

  /** Where pods reach the API when the cluster keeps no `kubernetes` Service (the registration says). */
  private apiAddress?: ApiAddress;
  /** Its pods' projected ServiceAccount tokens (kubelet's token manager). */
  private readonly tokens: ServiceAccountTokenCache;

  constructor(private readonly o: AgentOptions) {
    this.timers = o.timers ?? systemTimers;
    this.tokens = new ServiceAccountTokenCache(
      (req) => this.o.client.requestToken(req),
      () => this.timers.now(),
    );
  }

  private log(msg: string) {
    this.o.log?.(`[agent ${this.o.nodeName}] ${msg}`);
  }

  async start(): Promise<void> {
    for (const c of await this.o.runtime.list(this.o.nodeName)) {
      const uid = c.labels[LABELS.podUid];
      if (uid) this.adoptable.set(uid, [...(this.adoptable.get(uid) ?? []), c]);
    }
    for (const s of await this.o.runtime.listSandboxes(this.o.nodeName)) {
      const uid = s.labels[LABELS.podUid];
      if (uid) this.adoptableSandboxes.set(uid, s);
    }
    await this.register();
    this.loop = this.run();
  }

  /** Stops the loop; `stopPods` also stops every container (the process runtime's children die with the agent anyway). */
  async stop(opts: { stopPods: boolean } = { stopPods: false }): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.kick?.();
    await this.loop;
    await this.wakeLoop;
    if (opts.stopPods)
      await Promise.all([...this.workers.values()].map((w) => w.terminate(graceOf(w.pod), 'Stopping container')));
    await this.o.runtime.close();
    await this.o.network?.close();
  }

  get podCount(): number {
    return this.workers.size;
  }

  private async register(): Promise<void> {
    for (let attempt = 1; !this.stopped; attempt++) {
      try {
        const r = await this.o.client.register(this.o.nodeName, { ...this.o.machine, holder: this.o.holder });
        this.stats.registrations++;
        this.epoch = r.epoch;
        this.heartbeatMs = r.heartbeatSeconds * 1000;
        this.resyncMs = r.resyncSeconds * 1000;
        this.needFetch = true;
        this.digest = undefined;
        this.servicesDigest = undefined;
        this.lastRenewAt = this.timers.now(); // registering took the lease
        if (r.network && this.o.network) await this.o.network.configure(r.network);
        this.apiAddress = r.apiURL ? apiAddressOf(r.apiURL) : undefined;
        if (r.wakeQueueUrl && this.o.wakeSource && !this.wakeLoop)
          this.wakeLoop = this.listenForWakeups(this.o.wakeSource(r.wakeQueueUrl));
        this.log(
          `registered (epoch ${r.epoch}, heartbeat ${r.heartbeatSeconds}s${r.wakeQueueUrl ? ', wake-ups on' : ''})`,
        );
        return;
      } catch (e) {
        this.log(`registration failed (${(e as Error).message}); retrying`);
        await this.sleep(
          Math.min(MAX_RETRY_MS, backoffDelay({ initialMs: 500, maxMs: MAX_RETRY_MS, resetAfterMs: 0 }, attempt)),
        );
      }
    }
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopped) {
      try {
        await this.syncOnce();
        failures = 0;
      } catch (e) {
        if (e instanceof FencedByControlPlane) {
          await this.fenced(e.message);
          continue;
        }
        failures++;
        this.log(`sync failed (${(e as Error).message}); pods keep running, retrying`);
        await this.sleep(
          Math.min(this.heartbeatMs, backoffDelay({ initialMs: 500, maxMs: MAX_RETRY_MS, resetAfterMs: 0 }, failures)),
        );
        continue;
      }
      await this.idle();
    }
  }

  private async syncOnce(): Promise<void> {
    const now = this.timers.now();
    if (now - this.lastFetchAt >= this.resyncMs) this.needFetch = true;
    const statuses: PodStatusReport[] = [];
    for (const uid of [...this.dirty].slice(0, MAX_PER_SYNC)) {
      this.dirty.delete(uid);
      const w = this.workers.get(uid);
      if (!w || w.terminated) continue;
      const status = w.status(this.reported.get(uid) as KubeObject['status']);
      if (!jsonEqual(status, this.reported.get(uid))) statuses.push({ pod: refOf(w.pod), status });
    }
    const terminated = [...this.terminated.values()].slice(0, MAX_PER_SYNC);
    const events = this.events.splice(0, MAX_PER_SYNC);
    const fetch = this.needFetch;
    const cleanedVolumes = this.cleanedVolumes.splice(0, MAX_PER_SYNC);
    const madeVolumes = this.madeVolumes.splice(0, MAX_PER_SYNC);
    // Cleared now, not when the answer comes: a wake-up that arrives while this sync is in flight may
    // concern a bind the answer does not show yet, and must bring another fetch.
    this.needFetch = false;
    // Renewing is a write; the syncs of a burst between heartbeats only prove the epoch (a read).
    const renew = now - this.lastRenewAt >= this.heartbeatMs * RENEW_AFTER;
    // Measured only while asked for (the first report, a heartbeat later, has a rate to give).
    const metrics = renew && this.sendMetrics ? await this.measure() : undefined;
    let res: SyncResponse;
    try {
      res = await this.o.client.sync(this.o.nodeName, {
        epoch: this.epoch,
        renew,
        fetch,
        digest: this.digest,
        // The Services come with every fetch (the digest keeps an unchanged list off the wire).
        ...(fetch && this.o.network ? { services: { digest: this.servicesDigest } } : {}),
        statuses,
        terminated,
        events,
        ...(metrics ? { metrics } : {}),
        ...(fetch ? { localVolumes: this.localVolumes() } : {}),
        cleanedVolumes,
        madeVolumes,
      });
    } catch (e) {
      // Not accepted: report these again next time.
      if (fetch) this.needFetch = true;
      this.cleanedVolumes.unshift(...cleanedVolumes);
      this.madeVolumes.unshift(...madeVolumes);
      for (const s of statuses) this.dirty.add(s.pod.uid);
      this.events.unshift(...events);
      throw e;
    }
    this.stats.syncs++;
    if (renew) this.lastRenewAt = now;
    if (res.sendMetrics === false && this.sendMetrics) {
      // Samples from before a pause would make the first rate after it an average over the pause.
      this.meter = new UsageMeter();
      this.lastMeasuredAt = undefined;
    }
    if (res.sendMetrics === true && !this.sendMetrics) {
      // Asked from now on: a first sample now, so the next renewal already carries a rate.
      this.sendMetrics = true;
      await this.measure();
    }
    if (res.sendMetrics !== undefined) this.sendMetrics = res.sendMetrics;
    for (const s of statuses) this.reported.set(s.pod.uid, s.status);
    for (const t of terminated) {
      this.terminated.delete(t.uid);
      this.workers.delete(t.uid);
      this.reported.delete(t.uid);
      this.tokens.forgetPod(t.uid);
    }
    if (res.releasedVolumes?.length) this.removeReleasedVolumes(res.releasedVolumes);
    if (fetch) {
      this.stats.fetches++;
      this.lastFetchAt = now;
      this.digest = res.digest;
      if (res.services) {
        // Before the pods: a container starting now sees the Services that exist (its environment, its DNS).
        // The digest is kept once they are applied, so a failed update is asked for again.
        if (res.services.views)
          await this.o.network
            ?.update(res.services.views)
            .then(() => (this.servicesDigest = res.services?.digest))
            .catch((e: unknown) => this.log(`applying the Services failed (${String(e)}); asking again next sync`));
        else this.servicesDigest = res.services.digest;
      }
      if (res.pods) {
        await this.reconcile(res.pods);
        const byUid = new Map(res.pods.map((p) => [p.metadata.uid ?? '', p]));
        // The pods as fetched: their labels and annotations feed downwardAPI volumes.
        for (const [uid, w] of this.workers) {
          const pod = byUid.get(uid);
          if (pod) w.observe(pod);
        }
        // What is left on disk of pods no longer here (deleted while this agent was down, say) goes.
        const removed = PodVolumes.removeOrphans(this.o.podsDir, new Set([...this.workers.keys(), ...byUid.keys()]));
        if (removed) this.log(`removed the volumes of ${removed} pod(s) no longer on this node`);
      }
      // Volumes follow their ConfigMaps and Secrets once per resync (kubelet's sync period), each object
      // read once per round however many pods mount it: every read is a control-plane request.
      const round = new Map<string, Promise<KubeObject | undefined>>();
      const lookup: Lookup = (kind, ns, name) => {
        const key = `${kind}/${ns}/${name}`;
        let read = round.get(key);
        if (!read) round.set(key, (read = this.o.client.get(kind, ns, name)));
        return read;
      };
      for (const w of this.workers.values()) void w.refreshVolumes(lookup);
    }
  }

  /** The kumo.dev/local volumes on this node's disk (the fetch names them to learn which are being deleted). */
  private localVolumes(): string[] {
    const dir = this.o.machine.localVolumesDir;
    if (!dir) return [];
    try {
      return readdirSync(dir).slice(0, 1000);
    } catch {
      return [];
    }
  }

  /**
   * Removes the directories of local volumes being deleted (reclaim policy Delete), except one a pod
   * here still mounts (it waits for the pod to go); the next sync reports them so their finalizers go.
   */
  private removeReleasedVolumes(names: string[]): void {
    const dir = this.o.machine.localVolumesDir;
    if (!dir) return;
    const inUse = new Set([...this.workers.values()].flatMap((w) => w.claimedPaths()));
    for (const name of names) {
      const path = join(dir, name);
      if (inUse.has(path) || this.cleanedVolumes.includes(name)) continue;
      try {
        rmSync(path, { recursive: true, force: true });
      } catch (e) {
        this.log(`removing the local volume ${name} failed (${String(e)}); trying again at the next fetch`);
        continue;
      }
      this.log(`removed local volume ${name}: its PersistentVolume is being deleted`);
      this.cleanedVolumes.push(name);
    }
    if (this.cleanedVolumes.length) this.wake();
  }

  /**
   * The node's and each running container's usage since the last measurement (kubelet's resource
   * metrics), or undefined on the first round (no rate yet) and when the runtime is too slow to answer.
   */
  private async measure(): Promise<MetricsReport | undefined> {
    // A runtime slower than a heartbeat: one read at a time, the renewals go without until it answers.
    if (this.measuring) return undefined;
    const owners = new Map<string, { worker: PodWorker; name: string }>();
    for (const w of this.workers.values())
      if (!w.terminated && !w.isTerminating)
        for (const c of w.runningContainers()) owners.set(c.id, { worker: w, name: c.name });
    const read = this.o.runtime.usage([...owners.keys()]).catch(() => new Map<string, ContainerUsage>());
    this.measuring = read;
    void read.finally(() => (this.measuring = undefined));
    let cancel = () => {};
    const timeout = new Promise<undefined>(
      (resolve) => (cancel = this.timers.after(MEASURE_TIMEOUT_MS, () => resolve(undefined))),
    );
    const samples = await Promise.race([read, timeout]).finally(() => cancel());
    if (!samples) return undefined;
    const node = (this.o.nodeUsage ?? nodeUsage)();
    if (node) samples.set(NODE_KEY, node);
    const at = this.timers.now();
    const windowSeconds = this.lastMeasuredAt === undefined ? 0 : (at - this.lastMeasuredAt) / 1000;
    this.lastMeasuredAt = at;
    const rates = this.meter.round(samples, at);
    if (windowSeconds <= 0 || !rates.size) return undefined;
    const pods = new Map<string, MetricsReport['pods'][number]>();
    for (const [id, rate] of rates) {
      const owner = owners.get(id);
      if (!owner) continue;
      const uid = owner.worker.uid;
      const entry = pods.get(uid) ?? { pod: refOf(owner.worker.pod), containers: [] };
      entry.containers.push({ name: owner.name, cpu: rate.cpuNanoCores, memory: rate.memoryBytes });
      pods.set(uid, entry);
    }
    const n = rates.get(NODE_KEY);
    return {
      windowSeconds: Math.round(windowSeconds * 1000) / 1000,
      ...(n ? { node: { cpu: n.cpuNanoCores, memory: n.memoryBytes } } : {}),
      pods: [...pods.values()],
    };
  }

  /** Brings the running pods in line with the assignments. */
  private async reconcile(pods: KubeObject[]): Promise<void> {
    const assigned = new Set(pods.map((p) => p.metadata.uid ?? ''));
    for (const pod of pods) {
      const uid = pod.metadata.uid ?? '';
      let w = this.workers.get(uid);
      if (!w) {
        const adopted = this.adoptable.get(uid) ?? [];
        this.adoptable.delete(uid);
        const sandbox = this.adoptableSandboxes.get(uid);
        this.adoptableSandboxes.delete(uid);
        const tidy = async () => {
          await Promise.all(adopted.map((c) => this.o.runtime.remove(c.id).catch(() => undefined)));
          if (sandbox) await this.o.runtime.removeSandbox(sandbox.id).catch(() => undefined);
        };
        if (isFinished(pod) && !pod.metadata.deletionTimestamp) {
          // It finished before this agent started: keep it stopped, and tidy what is left of it.
          await tidy();
          continue;
        }
        if (pod.metadata.deletionTimestamp && !adopted.some((c) => c.running)) {
          await tidy();
          this.terminated.set(uid, refOf(pod));
          continue;
        }
        w = new PodWorker(pod, this.workerDeps(), adopted, sandbox);
        this.workers.set(uid, w);
        if (adopted.length || sandbox)
          this.log(
            `adopted ${adopted.length} container(s)${sandbox ? ' and the sandbox' : ''} of ${pod.metadata.namespace}/${pod.metadata.name}`,
          );
        w.start();
        this.dirty.add(uid);
      }
      if (pod.metadata.deletionTimestamp && !w.isTerminating) {
        const worker = w;
        // Out of this node's rotation before its containers hear SIGTERM (other nodes follow its EndpointSlice).
        const ip = worker.ownIP;
        if (ip) await this.o.network?.podLeaving(ip);
        void worker.terminate(graceOf(pod)).then(() => {
          if (ip) void this.o.network?.podGone(ip);
          this.terminated.set(uid, refOf(pod));
          this.wake();
        });
      }
    }
    // Pods removed outright (force-deleted, evicted from a node declared dead) stop here too.
    for (const [uid, w] of this.workers) {
      if (assigned.has(uid)) continue;
      this.workers.delete(uid);
      this.reported.delete(uid);
      this.tokens.forgetPod(uid);
      void w.terminate(graceOf(w.pod));
    }
    for (const [uid, containers] of this.adoptable) {
      if (assigned.has(uid)) continue;
      this.adoptable.delete(uid);
      this.log(`removing ${containers.length} container(s) of a pod no longer assigned here (${uid})`);
      await Promise.all(
        containers.map(
          async (c) => (
            await this.o.runtime.stop(c.id, 0).catch(() => undefined),
            await this.o.runtime.remove(c.id).catch(() => undefined)
          ),
        ),
      );
    }
    for (const [uid, sandbox] of this.adoptableSandboxes) {
      if (assigned.has(uid)) continue;
      this.adoptableSandboxes.delete(uid);
      await this.o.runtime.removeSandbox(sandbox.id).catch(() => undefined);
    }
  }

  /** The control plane moved on without this node: stop everything it thought was here, start afresh. */
  private async fenced(why: string): Promise<void> {
    this.stats.fenced++;
    this.log(`fenced: ${why}; stopping ${this.workers.size} pod(s)`);
    const workers = [...this.workers.values()];
    this.workers.clear();
    this.reported.clear();
    this.dirty.clear();
    this.terminated.clear();
    this.events = [];
    await Promise.all(workers.map((w) => w.terminate(0, 'Stopping container (node was fenced)')));
    await this.register();
  }

  private workerDeps() {
    return {
      runtime: this.o.runtime,
      logs: this.o.logs,
      lookup: (kind: LookupKind, ns: string, name: string) => this.o.client.get(kind, ns, name),
      tokens: (req: PodTokenRequest) => this.tokens.get(req),
      backoff: this.o.backoff ?? KUBELET_BACKOFF,
      nodeName: this.o.nodeName,
      hostIP: this.o.hostIP,
      podsDir: this.o.podsDir,
      ...(this.o.machine.localVolumesDir ? { localVolumesDir: this.o.machine.localVolumesDir } : {}),
      madeLocalVolume: (name: string) => {
        this.madeVolumes.push(name);
        this.wake();
      },
      dns: {
        clusterDomain: this.o.network?.clusterDomain ?? this.o.dns?.clusterDomain ?? 'cluster.local',
        ...(this.o.network?.clusterDNS ? { clusterDNS: this.o.network.clusterDNS } : {}),
      },
      serviceEnv: (pod: KubeObject) => serviceEnv(pod, this.o.network?.services ?? [], this.apiAddress),
      allowPrivileged: this.o.allowPrivileged ?? false,
      nodeCredentials: this.o.nodeCredentials,
      timers: this.timers,
      event: (pod: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string) => {
        this.events.push({
          pod: refOf(pod),
          type,
          reason,
          message: message.slice(0, 1024),
          ...(fieldPath ? { fieldPath } : {}),
        });
        if (this.events.length > MAX_BUFFERED_EVENTS) this.events.splice(0, this.events.length - MAX_BUFFERED_EVENTS);
      },
      changed: (w: PodWorker) => {
        if (this.workers.get(w.uid) !== w) return;
        this.dirty.add(w.uid);
        this.wake();
      },
    };
  }

  private async listenForWakeups(source: WakeSource): Promise<void> {
    while (!this.stopped) {
      try {
        if (await source.wait(20_000, this.abort.signal)) {
          this.stats.wakeups++;
          this.needFetch = true;
          this.wake();
        }
      } catch (e) {
        this.log(`wake-up queue unavailable (${(e as Error).message}); relying on resync`);
        await this.sleep(5_000);
      }
    }
  }

  private wake() {
    this.kicked = true;
    this.kick?.();
  }

  /** Until the next heartbeat or resync is due, or something asks for a sync sooner (debounced). */
  private async idle(): Promise<void> {
    const now = this.timers.now();
    const due = Math.max(0, Math.min(this.lastRenewAt + this.heartbeatMs, this.lastFetchAt + this.resyncMs) - now);
    if (!this.kicked) {
      await new Promise<void>((resolve) => {
        const cancel = this.timers.after(due, resolve);
        this.kick = () => (cancel(), resolve());
      });
      this.kick = undefined;
    }
    if (this.kicked && !this.stopped) await this.sleep(this.o.debounceMs ?? 50);
    this.kicked = false;
  }

  private sleep(ms: number): Promise<void> {
    return delay(this.timers, ms, this.abort.signal);
  }
}
