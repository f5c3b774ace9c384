import { DockerApi, DockerApiError, demultiplexer, readAll } from './docker-api.js';
import { LogCursor } from './log-cursor.js';
import { ContainerExits } from './container-exits.js';
import {
  ContainerStartError,
  ImagePullError,
  LABELS,
  RUNTIME_FEATURES,
  type RuntimeFeature,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerUsage,
  type ExitInfo,
  type ImageInfo,
  type OutputSink,
  type PullPolicy,
  type RegistryAuth,
  type SandboxInfo,
  type SandboxSpec,
} from './runtime.js';
import { authFor, registryOf } from './registry-auth.js';
import { BridgePins } from './bridge-address.js';
import { backoffMs, sleep } from '../../util/retry.js';

interface Inspect {
  Id: string;
  Config?: { Labels?: Record<string, string> };
  State?: { Running?: boolean; ExitCode?: number; OOMKilled?: boolean; StartedAt?: string; FinishedAt?: string };
  NetworkSettings?: { IPAddress?: string; Networks?: Record<string, { IPAddress?: string; Gateway?: string }> };
}

const dateOf = (s: string | undefined) => (s && !s.startsWith('0001-') ? new Date(s) : undefined);

function infoOf(i: Inspect): ContainerInfo {
  const ip =
    i.NetworkSettings?.IPAddress ||
    Object.values(i.NetworkSettings?.Networks ?? {}).find((n) => n.IPAddress)?.IPAddress ||
    undefined;
  return {
    id: i.Id,
    labels: i.Config?.Labels ?? {},
    running: !!i.State?.Running,
    exitCode: i.State?.Running ? undefined : i.State?.ExitCode,
    reason: i.State?.OOMKilled ? 'OOMKilled' : undefined,
    startedAt: dateOf(i.State?.StartedAt),
    finishedAt: dateOf(i.State?.FinishedAt),
    ip,
  };
}

const sandboxOf = (i: Inspect, volumes: Record<string, string> = {}): SandboxInfo => {
  const c = infoOf(i);
  return { id: c.id, labels: c.labels, running: c.running, ip: c.ip, volumes };
};

/** Go's base64.URLEncoding, as the Docker CLI writes the header: URL alphabet, with padding (podman refuses it unpadded). */
const registryAuthHeader = (auth: RegistryAuth) =>
  Buffer.from(JSON.stringify(auth)).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

/** `busybox:1.36` → name and tag as the create-image call wants them. */
function splitImage(image: string): { name: string; tag: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { name: image.slice(0, at), tag: image.slice(at + 1) };
  const colon = image.lastIndexOf(':');
  return colon > image.lastIndexOf('/')
    ? { name: image.slice(0, colon), tag: image.slice(colon + 1) }
    : { name: image, tag: 'latest' };
}

/**
 * Containers through the Docker Engine API: each pod container is a container labelled with its pod
 * and node, so a restarted agent finds and adopts them. Works against Docker and podman's service.
 */
/** The parts of the engine's container stats that usage reads. */
interface DockerStats {
  cpu_stats?: { cpu_usage?: { total_usage?: number } };
  memory_stats?: { usage?: number; stats?: { inactive_file?: number; total_inactive_file?: number } };
}

export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker' as const;
  readonly features: ReadonlySet<RuntimeFeature> = new Set(RUNTIME_FEATURES);
  private readonly api: DockerApi;
  private readonly exits: ContainerExits;
  /** Each container's output stream, so that wait() lets its last lines through before reporting the exit. */
  private readonly streams = new Map<string, Promise<void>>();

  private sandboxImageReady = false;
  private readonly bridges: BridgePins;
  /** podman shares a sandbox's UTS namespace on request; Docker refuses that and copies the hostname itself. */
  private engine?: Promise<'podman' | 'docker'>;

  constructor(
    socketPath: string,
    /** The infra container's image: it only holds the pod's namespaces (pause, or catatonit -P). */
    private readonly sandboxImage: string,
    private readonly nodeCredentials?: (image: string) => Promise<RegistryAuth[]>,
    log?: (msg: string) => void,
  ) {
    this.api = new DockerApi(socketPath);
    this.exits = new ContainerExits(this.api);
    this.bridges = new BridgePins(log);
  }

  /** `<engine>://<version>`, as kubelet reports containerRuntimeVersion (`containerd://1.7.2`). */
  async version(): Promise<string> {
    const v = await this.api.call<{ Version?: string; Components?: { Name?: string }[] }>('GET', '/version');
    return `${(await this.engineKind()) === 'podman' ? 'podman' : 'docker'}://${v.Version ?? 'unknown'}`;
  }

  private engineKind(): Promise<'podman' | 'docker'> {
    this.engine ??= this.api.call<{ Components?: { Name?: string }[] }>('GET', '/version').then(
      (v) => ((v.Components ?? []).some((c) => /podman/i.test(c.Name ?? '')) ? 'podman' : 'docker'),
      () => 'docker' as const,
    );
    return this.engine;
  }

  private async inspectImage(image: string): Promise<{ Config?: { User?: string } } | undefined> {
    return this.api
      .call<{ Config?: { User?: string } }>('GET', `/images/${encodeURIComponent(image)}/json`)
      .catch((e: unknown) => {
        if (e instanceof DockerApiError && e.status === 404) return undefined;
        throw e;
      });
  }

  async ensureImage(
    image: string,
    policy: PullPolicy,
    auth: RegistryAuth[] = [],
    onPulling?: () => void,
  ): Promise<ImageInfo> {
    const present = await this.inspectImage(image);
    if (policy === 'Never') {
      if (!present)
        throw new ImagePullError(
          image,
          'ErrImageNeverPull',
          `Container image "${image}" is not present with pull policy of Never`,
        );
      return { pulled: false, user: present.Config?.User ?? '' };
    }
    if (present && policy === 'IfNotPresent') return { pulled: false, user: present.Config?.User ?? '' };
    onPulling?.();
    const { name, tag } = splitImage(image);
    const credentials = authFor(registryOf(image), auth, image);
    try {
      const res = await this.api.open(
        'POST',
        `/images/create?fromImage=${encodeURIComponent(name)}&tag=${encodeURIComponent(tag)}`,
        undefined,
        300_000,
        false,
        credentials ? { 'X-Registry-Auth': registryAuthHeader(credentials) } : {},
      );
      const text = await readAll(res);
      const error =
        /"error"\s*:\s*"([^"]*)"/.exec(text)?.[1] ?? ((res.statusCode ?? 500) >= 400 ? text.slice(0, 300) : undefined);
      if (error) throw new Error(error);
    } catch (e) {
      // As with kubelet, a failed pull fails the start (ErrImagePull, then ImagePullBackOff), even if an older copy is here.
      throw new ImagePullError(image, 'ErrImagePull', `failed to pull image "${image}": ${(e as Error).message}`);
    }
    return { pulled: true, user: (await this.inspectImage(image))?.Config?.User ?? '' };
  }

  /**
   * The pod's infra container: it owns the network namespace (IP, hostPorts), the hostname, /etc/hosts
   * and resolv.conf (which the engine shares with every container that joins its network), and IPC.
   * Memory-backed emptyDirs are engine volumes (tmpfs) named after it, so the pod's containers share them.
   */
  async runSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    const volumes = Object.fromEntries(spec.memoryVolumes.map((v) => [v.name, `${spec.name}_${v.name}`]));
    const existing = await this.api
      .call('GET', `/containers/${encodeURIComponent(spec.name)}/json`)
      .then((i) => i as Inspect)
      .catch(() => undefined);
    if (existing?.State?.Running) return sandboxOf(existing, volumes);
    if (existing) await this.removeSandbox(existing.Id);
    // Checked once while it works (one engine call less per pod); a failed start checks again. The node's
    // own credentials: a sandbox image mirrored into private ECR pulls with the node's role.
    if (!this.sandboxImageReady)
      await this.ensureImage(
        this.sandboxImage,
        'IfNotPresent',
        (await this.nodeCredentials?.(this.sandboxImage)) ?? [],
      );
    this.sandboxImageReady = true;
    try {
      return await this.createSandbox(spec, volumes);
    } catch (e) {
      this.sandboxImageReady = false;
      throw e;
    }
  }

  private async createSandbox(spec: SandboxSpec, volumes: Record<string, string>): Promise<SandboxInfo> {
    for (const v of spec.memoryVolumes) {
      await this.api
        .call('DELETE', `/volumes/${encodeURIComponent(volumes[v.name] ?? '')}?force=true`)
        .catch(() => undefined);
      await this.api.call('POST', '/volumes/create', {
        Name: volumes[v.name],
        Driver: 'local',
        DriverOpts: { type: 'tmpfs', device: 'tmpfs', o: v.sizeBytes ? `size=${v.sizeBytes}` : 'size=50%' },
        Labels: spec.labels,
      });
    }
    const exposed: Record<string, object> = {};
    const bindings: Record<string, { HostPort: string }[]> = {};
    for (const p of spec.ports) {
      const key = `${p.containerPort}/${p.protocol.toLowerCase()}`;
      exposed[key] = {};
      if (p.hostPort && !spec.hostNetwork)
        bindings[key] = [{ HostPort: String(p.hostPort), ...(p.hostIP ? { HostIp: p.hostIP } : {}) }];
    }
    const created = await this.api.call<{ Id: string }>(
      'POST',
      `/containers/create?name=${encodeURIComponent(spec.name)}`,
      {
        Image: this.sandboxImage,
        Labels: spec.labels,
        ...(spec.hostNetwork ? {} : { Hostname: spec.hostname, ...(spec.domain ? { Domainname: spec.domain } : {}) }),
        ExposedPorts: exposed,
        HostConfig: {
          NetworkMode: spec.hostNetwork ? 'host' : 'bridge',
          PortBindings: bindings,
          IpcMode: spec.hostIPC ? 'host' : 'shareable',
          ExtraHosts: spec.hostAliases.flatMap((a) => a.hostnames.map((h) => `${h}:${a.ip}`)),
          ...(spec.dns ? { Dns: spec.dns.servers, DnsSearch: spec.dns.searches, DnsOptions: spec.dns.options } : {}),
          ...(Object.keys(spec.sysctls).length ? { Sysctls: spec.sysctls } : {}),
          // Its only process sleeps: a few MB of memory and a low weight.
          CpuShares: 2,
        },
      },
    );
    await this.api.call('POST', `/containers/${created.Id}/start`);
    const started = (await this.api.call('GET', `/containers/${created.Id}/json`)) as Inspect;
    // Before any pod of the network can leave it, its bridge's address must stop following the ports.
    for (const n of Object.values(started.NetworkSettings?.Networks ?? {}))
      if (n.Gateway) await this.bridges.ensure(n.Gateway);
    return sandboxOf(started, volumes);
  }

  async removeSandbox(id: string): Promise<void> {
    const i = await this.api
      .call('GET', `/containers/${encodeURIComponent(id)}/json`)
      .then((x) => x as Inspect & { Name?: string; Mounts?: { Type?: string; Name?: string }[] })
      .catch(() => undefined);
    await this.remove(id);
    // The memory volumes are named after the sandbox.
    const name = (i?.Name ?? '').replace(/^\//, '');
    if (!name) return;
    const filters = encodeURIComponent(JSON.stringify({ name: [`${name}_`] }));
    const list = await this.api
      .call<{ Volumes?: { Name: string }[] }>('GET', `/volumes?filters=${filters}`)
      .catch(() => ({ Volumes: [] }));
    for (const v of list.Volumes ?? [])
      if (v.Name.startsWith(`${name}_`))
        await this.api.call('DELETE', `/volumes/${encodeURIComponent(v.Name)}?force=true`).catch(() => undefined);
  }

  async listSandboxes(nodeName: string): Promise<SandboxInfo[]> {
    return (await this.inspectAll(nodeName)).filter((i) => i.Config?.Labels?.[LABELS.sandbox]).map((i) => sandboxOf(i));
  }

  async run(spec: ContainerSpec, output: OutputSink): Promise<ContainerInfo> {
    const sandbox = `container:${spec.sandbox.id}`;
    const sec = spec.security;
    const body = {
      Image: spec.image,
      ...(spec.command ? { Entrypoint: spec.command } : {}),
      ...(spec.args ? { Cmd: spec.args } : spec.command ? { Cmd: [] } : {}),
      Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
      ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
      Labels: spec.labels,
      ...(sec.user ? { User: sec.user } : {}),
      HostConfig: {
        // The sandbox's network (and with it /etc/hosts, resolv.conf, hostPorts), IPC and hostname.
        NetworkMode: sandbox,
        // Docker will not let a container join the IPC of a sandbox that is on the host's: join the host's too.
        IpcMode: spec.hostIPC ? 'host' : sandbox,
        ...(spec.pidMode === 'host' ? { PidMode: 'host' } : spec.pidMode === 'pod' ? { PidMode: sandbox } : {}),
        ...((await this.engineKind()) === 'podman' ? { UTSMode: sandbox } : {}),
        Mounts: spec.mounts.map((m) => ({
          Type: m.kind,
          Source: m.source,
          Target: m.target,
          ReadOnly: m.readOnly,
          ...(m.kind === 'bind' ? { BindOptions: { Propagation: 'rprivate' } } : {}),
        })),
        ReadonlyRootfs: sec.readOnlyRootfs,
        Privileged: sec.privileged,
        CapAdd: sec.capAdd,
        CapDrop: sec.capDrop,
        GroupAdd: sec.groups.map(String),
        SecurityOpt: [
          ...(sec.noNewPrivileges ? ['no-new-privileges'] : []),
          ...(sec.seccompUnconfined ? ['seccomp=unconfined'] : []),
          ...(sec.apparmorUnconfined ? ['apparmor=unconfined'] : []),
        ],
        ...(spec.cpuMilli ? { NanoCpus: spec.cpuMilli * 1_000_000 } : {}),
        ...(spec.cpuShares ? { CpuShares: spec.cpuShares } : {}),
        ...(spec.memoryBytes ? { Memory: spec.memoryBytes } : {}),
      },
    };
    const create = () =>
      this.api.call<{ Id: string }>('POST', `/containers/create?name=${encodeURIComponent(spec.name)}`, body);
    // A leftover of an attempt that failed half-way (created, never started) holds the name: only then
    // is it removed (a removal before every create cost each start one more engine call).
    const created = await create().catch(async (e: unknown) => {
      if (!(e instanceof DockerApiError) || !/already in use|conflict/i.test(e.message)) throw e;
      await this.remove(spec.name);
      return create();
    });
    try {
      await this.api.call('POST', `/containers/${created.Id}/start`);
    } catch (e) {
      // The OCI runtime could not start the process (e.g. `exec: "/x": no such file`): StartError, as
      // containerd reports it. (It was CreateContainerError, which neither counted a restart nor backed off.)
      if (e instanceof DockerApiError && e.status >= 500)
        throw new ContainerStartError(e.message.replace(/^POST \S+: \d+ /, ''));
      throw e;
    }
    this.streams.set(
      created.Id,
      this.streamLogs(created.Id, output, 0).catch(() => undefined),
    );
    return infoOf((await this.api.call('GET', `/containers/${created.Id}/json`)) as Inspect);
  }

  async wait(id: string): Promise<ExitInfo> {
    await this.exits.waitFor(id);
    // The log stream ends with the container; give its last lines a moment to arrive.
    await Promise.race([this.streams.get(id), new Promise((r) => setTimeout(r, 1000))]);
    this.streams.delete(id);
    const info = await this.api.call('GET', `/containers/${id}/json`).then(
      (i) => infoOf(i as Inspect),
      () => undefined,
    );
    return {
      exitCode: info?.exitCode ?? 137,
      reason: info ? info.reason : 'ContainerGone',
      finishedAt: info?.finishedAt ?? new Date(),
    };
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    try {
      await this.api.call(
        'POST',
        `/containers/${id}/stop?t=${Math.max(0, Math.floor(graceSeconds))}`,
        undefined,
        (graceSeconds + 30) * 1000,
      );
    } catch (e) {
      if (!(e instanceof DockerApiError) || (e.status !== 304 && e.status !== 404)) throw e;
    }
    // The engine answers a stop once the container has exited: its waiter need not hear it from the stream.
    await this.exits.recheck(id);
  }

  async remove(id: string): Promise<void> {
    try {
      await this.api.call('DELETE', `/containers/${id}?force=true&v=true`);
    } catch (e) {
      if (!(e instanceof DockerApiError) || e.status !== 404) throw e;
    }
  }

  async list(nodeName: string): Promise<ContainerInfo[]> {
    return (await this.inspectAll(nodeName)).filter((i) => !i.Config?.Labels?.[LABELS.sandbox]).map(infoOf);
  }

  private async inspectAll(nodeName: string): Promise<Inspect[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: [`${LABELS.node}=${nodeName}`] }));
    const rows = await this.api.call<{ Id: string }[]>('GET', `/containers/json?all=true&filters=${filters}`);
    const out: Inspect[] = [];
    for (const r of rows) {
      const i = await this.api.call('GET', `/containers/${r.Id}/json`).catch(() => undefined);
      if (i) out.push(i as Inspect);
    }
    return out;
  }

  /** Streams the container's output until it exits. Some engines answer only with the first line, so callers do not wait on it. */
  follow(id: string, output: OutputSink): Promise<void> {
    const stream = this.streamLogs(id, output, Math.floor(Date.now() / 1000));
    this.streams.set(
      id,
      stream.catch(() => undefined),
    );
    return stream;
  }

  /**
   * From `since` (unix seconds; 0 for everything) until the container exits. A stream that ends while
   * the container runs (the engine restarted, the connection dropped) is opened again from the last
   * line delivered, so nothing is lost or repeated; when it has exited, what the stream had not yet
   * carried is read once more without following.
   */
  private async streamLogs(id: string, output: OutputSink, since: number): Promise<void> {
    const cursor = new LogCursor();
    for (let attempt = 0; ; attempt++) {
      await this.deliver(id, true, cursor.resumeAt() ?? since, cursor, output);
      const running = await this.api.call('GET', `/containers/${id}/json`).then(
        (i) => !!(i as Inspect).State?.Running,
        () => false,
      );
      if (!running) return this.deliver(id, false, cursor.resumeAt() ?? since, cursor, output);
      await sleep(backoffMs(attempt, { baseMs: 1000, maxMs: 10_000 }));
    }
  }

  /** One logs request from `since`, following or not; what the cursor has seen already is skipped. */
  private async deliver(
    id: string,
    follow: boolean,
    since: number,
    cursor: LogCursor,
    output: OutputSink,
  ): Promise<void> {
    const res = await this.api
      .open('GET', `/containers/${id}/logs?follow=${follow}&stdout=true&stderr=true&timestamps=true&since=${since}`)
      .catch(() => undefined);
    if (!res) return;
    if ((res.statusCode ?? 500) >= 400) {
      res.resume();
      return;
    }
    cursor.reopened();
    res.on(
      'data',
      demultiplexer((frame, stream) => {
        const text = cursor.accept(frame);
        if (text !== undefined) output.write(text, stream);
      }),
    );
    return new Promise<void>((resolve) => (res.on('end', resolve), res.on('error', () => resolve())));
  }

  /**
   * The engine's one-shot stats (its cgroup counters): total CPU time, and the working set as cAdvisor
   * and kubelet compute it, usage less inactive file pages (`inactive_file` on cgroup v2,
   * `total_inactive_file` on v1). A container the engine cannot read is left out.
   */
  async usage(ids: string[]): Promise<Map<string, ContainerUsage>> {
    const out = new Map<string, ContainerUsage>();
    await Promise.all(
      ids.map(async (id) => {
        const s = await this.api
          .call<DockerStats>('GET', `/containers/${id}/stats?stream=false&one-shot=true`, undefined, 10_000)
          .catch(() => undefined);
        const cpu = s?.cpu_stats?.cpu_usage?.total_usage;
        const usage = s?.memory_stats?.usage;
        if (typeof cpu !== 'number' || typeof usage !== 'number') return;
        const inactive = s?.memory_stats?.stats?.inactive_file ?? s?.memory_stats?.stats?.total_inactive_file ?? 0;
        out.set(id, { cpuNanoSeconds: cpu, memoryBytes: Math.max(0, usage - Math.min(inactive, usage)) });
      }),
    );
    return out;
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const created = await this.api.call<{ Id: string }>('POST', `/containers/${id}/exec`, {
      Cmd: command,
      AttachStdout: true,
      AttachStderr: true,
    });
    let output = '';
    const res = await this.api.open('POST', `/exec/${created.Id}/start`, { Detach: false, Tty: false }, timeoutMs);
    const feed = demultiplexer((text) => (output += text));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => (res.destroy(), reject(new Error(`command timed out after ${timeoutMs} ms`))),
        timeoutMs,
      );
      res.on('data', feed);
      res.on('end', () => (clearTimeout(timer), resolve()));
      res.on('error', (e) => (clearTimeout(timer), reject(e)));
    });
    const inspect = await this.api.call<{ ExitCode?: number }>('GET', `/exec/${created.Id}/json`);
    return { exitCode: inspect.ExitCode ?? 1, output: output.slice(0, 10_000) };
  }

  async close(): Promise<void> {
    // Containers outlive the agent on purpose: the next agent adopts them.
    this.exits.close();
    this.api.close();
  }
}
