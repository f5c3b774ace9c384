import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { constants } from 'node:os';
import {
  ContainerConfigError,
  ContainerStartError,
  type ContainerInfo,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerUsage,
  type ExitInfo,
  type ImageInfo,
  type OutputSink,
  type RuntimeFeature,
  type SandboxInfo,
  type SandboxSpec,
} from './runtime.js';
import { processGroupUsage } from '../metrics/proc-usage.js';
import { findExecutable, hostsFileFor, readOr, resolvConfFor, withPodEtc } from './process-sandbox.js';

interface Child {
  process: ChildProcess;
  info: ContainerInfo;
  exited: Promise<ExitInfo>;
  env: Record<string, string>;
  cwd: string;
  sandbox: string;
}

const exitCodeOf = (code: number | null, signal: NodeJS.Signals | null) =>
  code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);

/**
 * Runs each container's command/args as a child process on the host, in its own process group so a
 * stop reaches everything it started. Images are not used (there is no engine to unpack them), so a
 * container must name its command; resource limits are not enforced. For Fargate-hosted agents,
 * local demos and tests. Children do not outlive the agent: a stop ends them, and the process groups of
 * an agent that was killed outright (SIGKILL, a crash) are recorded under `<workDir>/.groups` and ended
 * by the next agent on the same data directory (reapLeftovers), which then starts its pods afresh.
 */
export class ProcessRuntime implements ContainerRuntime {
  readonly name = 'process' as const;
  /**
   * Children share the host's network, filesystem, users and privileges, so a pod that asks for
   * volumes or any securityContext field does not start here (runtime-support.ts says which field).
   * With `podEtc` (root: process-sandbox.ts) each pod has its own resolv.conf, /etc/hosts and hostname,
   * so DNS settings, the cluster DNS, hostAliases and a StatefulSet pod's stable hostname work.
   */
  readonly features: ReadonlySet<RuntimeFeature>;
  private readonly children = new Map<string, Child>();
  private seq = 0;

  constructor(
    /** Each container gets a scratch working directory under here. */
    private readonly workDir: string,
    /** PATH for the children (the agent's own, normally). */
    private readonly path: string,
    /** podEtc: pods get their own /etc files (canMountPodEtc); podHostname: and their own hostname (canSetPodHostname). */
    private readonly options: { podEtc?: boolean; podHostname?: boolean } = {},
  ) {
    this.features = new Set<RuntimeFeature>([
      ...(options.podEtc ? (['dnsConfig', 'hostAliases'] as const) : []),
      ...(options.podEtc && options.podHostname ? (['hostname'] as const) : []),
    ]);
  }

  /** `process://<node version>`: the commands run under this Node.js's agent. */
  async version(): Promise<string> {
    return `process://${process.versions.node}`;
  }

  /** No images: the command runs as the agent's own user, which runAsNonRoot is checked against. */
  async ensureImage(): Promise<ImageInfo> {
    return { pulled: false, user: String(process.getuid?.() ?? '') };
  }

  /** The host is every pod's sandbox: its network, hostname and resolv.conf; memory volumes are directories. */
  async runSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    const volumes = Object.fromEntries(spec.memoryVolumes.map((v) => [v.name, join(this.workDir, spec.name, v.name)]));
    if (this.options.podEtc) {
      // '.etc' cannot be a volume's name (a DNS label), so no memory volume shares the directory.
      const etc = join(this.workDir, spec.name, '.etc');
      mkdirSync(etc, { recursive: true });
      // A hostNetwork pod keeps the node's name, as in Kubernetes; others are named as the pod.
      const own = this.options.podHostname && !spec.hostNetwork;
      const nodeResolv = readOr('/etc/resolv.conf', '');
      writeFileSync(join(etc, 'resolv.conf'), spec.dns ? resolvConfFor(spec.dns, nodeResolv) : nodeResolv);
      writeFileSync(
        join(etc, 'hosts'),
        hostsFileFor(
          spec.hostAliases,
          readOr('/etc/hosts', '127.0.0.1\tlocalhost\n'),
          own ? { hostname: spec.hostname, domain: spec.domain } : undefined,
        ),
      );
      if (own) writeFileSync(join(etc, 'hostname'), spec.hostname);
    }
    return { id: spec.name, labels: spec.labels, running: true, volumes };
  }

  async removeSandbox(id: string): Promise<void> {
    rmSync(join(this.workDir, id), { recursive: true, force: true });
  }

  /** Nothing to adopt: children do not outlive the agent. */
  async listSandboxes(): Promise<SandboxInfo[]> {
    return [];
  }

  async run(spec: ContainerSpec, output: OutputSink): Promise<ContainerInfo> {
    const argv = [...(spec.command ?? []), ...(spec.args ?? [])];
    const file = argv[0];
    if (!file)
      throw new ContainerConfigError(
        'the process runtime runs the container\'s command and args; set "command" (without an engine the image\'s entrypoint is unknown)',
      );
    const id = `proc-${process.pid}-${++this.seq}`;
    const cwd = spec.workingDir ?? join(this.workDir, spec.name);
    mkdirSync(cwd, { recursive: true });
    const env = { PATH: this.path, HOME: cwd, HOSTNAME: spec.labels['io.kumo.pod.name'] ?? spec.name, ...spec.env };
    const [cmd = file, ...cmdArgs] = this.inSandbox(spec.sandbox.id, argv, env.PATH, cwd);
    const child = spawn(cmd, cmdArgs, { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) =>
        reject(new ContainerStartError(`failed to start ${JSON.stringify(file)}: ${e.message}`)),
      );
    });
    const record = this.recordGroup(child);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => output.write(d, 'stdout'));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => output.write(d, 'stderr'));
    const info: ContainerInfo = { id, labels: spec.labels, running: true, startedAt: new Date() };
    // 'exit' can come before the last output: wait for the pipes to close too (briefly: a background
    // grandchild may hold them open), so a container's last words reach its log.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    const exited = new Promise<ExitInfo>((resolve) =>
      child.once('exit', (code, signal) => {
        rmSync(record, { force: true });
        const exit = { exitCode: exitCodeOf(code, signal), finishedAt: new Date() };
        Object.assign(info, { running: false, exitCode: exit.exitCode, finishedAt: exit.finishedAt });
        void Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]).then(() => resolve(exit));
      }),
    );
    this.children.set(id, { process: child, info, exited, env, cwd, sandbox: spec.sandbox.id });
    return { ...info };
  }

  async wait(id: string): Promise<ExitInfo> {
    return this.child(id).exited;
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    const c = this.children.get(id);
    if (!c || !c.info.running) return;
    this.signal(c, 'SIGTERM');
    const killer = setTimeout(() => this.signal(c, 'SIGKILL'), Math.max(0, graceSeconds) * 1000);
    await c.exited;
    clearTimeout(killer);
  }

  async remove(id: string): Promise<void> {
    const c = this.children.get(id);
    if (c?.info.running) await this.stop(id, 0);
    this.children.delete(id);
  }

  async list(): Promise<ContainerInfo[]> {
    return [...this.children.values()].map((c) => ({ ...c.info }));
  }

  async follow(): Promise<void> {
    // Output is piped from the start; nothing to resume.
  }

  async exec(id: string, command: string[], timeoutMs: number): Promise<{ exitCode: number; output: string }> {
    const c = this.child(id);
    if (!command[0]) return { exitCode: 126, output: 'empty command' };
    let file: string, rest: string[];
    try {
      [file = '', ...rest] = this.inSandbox(c.sandbox, command, c.env.PATH ?? this.path, c.cwd);
    } catch (e) {
      return { exitCode: 127, output: (e as Error).message };
    }
    return new Promise((resolve) => {
      let output = '';
      const p = spawn(file, rest, { cwd: c.cwd, env: c.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      const timer = setTimeout(() => p.pid !== undefined && killGroup(p.pid, 'SIGKILL'), timeoutMs);
      p.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      p.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      p.once('error', (e) => {
        clearTimeout(timer);
        resolve({ exitCode: 127, output: e.message });
      });
      p.once('exit', (code, signal) => {
        clearTimeout(timer);
        resolve({ exitCode: exitCodeOf(code, signal), output: output.slice(0, 10_000) });
      });
    });
  }

  /** A container is its process group: what its members use, read from /proc. */
  async usage(ids: string[]): Promise<Map<string, ContainerUsage>> {
    const leaders = new Map<number, string>();
    for (const id of ids) {
      const c = this.children.get(id);
      if (c?.info.running && c.process.pid !== undefined) leaders.set(c.process.pid, id);
    }
    const byGroup = processGroupUsage([...leaders.keys()]);
    return new Map([...byGroup].map(([pgid, u]) => [leaders.get(pgid) ?? '', u]));
  }

  /**
   * Ends the process groups an earlier agent on this data directory left running when it was killed
   * without stopping them; returns how many. A recorded group counts only while its leader is the same
   * process (its start time in /proc matches), so a reused pid is never signalled.
   */
  async reapLeftovers(graceMs = 2_000): Promise<number> {
    const dir = join(this.workDir, '.groups');
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return 0;
    }
    const alive: number[] = [];
    for (const name of names) {
      const pid = Number(name);
      const recorded = readFileSync(join(dir, name), 'utf8').trim();
      if (Number.isInteger(pid) && pid > 1 && startTimeOf(pid) === recorded) alive.push(pid);
      else rmSync(join(dir, name), { force: true });
    }
    const signalAll = (signal: NodeJS.Signals) => alive.forEach((pid) => killGroup(pid, signal));
    signalAll('SIGTERM');
    const deadline = Date.now() + graceMs;
    while (Date.now() < deadline && alive.some((pid) => startTimeOf(pid) !== undefined))
      await new Promise((r) => setTimeout(r, 50));
    signalAll('SIGKILL');
    for (const pid of alive) rmSync(join(dir, String(pid)), { force: true });
    return alive.length;
  }

  /** Notes a child's process group (its leader's pid and start time) until it exits. */
  private recordGroup(child: ChildProcess): string {
    const dir = join(this.workDir, '.groups');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, String(child.pid));
    const started = child.pid !== undefined ? startTimeOf(child.pid) : undefined;
    if (started !== undefined) writeFileSync(file, started);
    return file;
  }

  async close(): Promise<void> {
    await Promise.all([...this.children.keys()].map((id) => this.remove(id)));
  }

  /** The command as it runs: inside the pod's own /etc files where the runtime gives pods those. */
  private inSandbox(sandbox: string, argv: string[], path: string, cwd: string): string[] {
    const etc = join(this.workDir, sandbox, '.etc');
    if (!this.options.podEtc || !existsSync(etc)) return argv;
    const file = argv[0] ?? '';
    if (!findExecutable(file, path, cwd))
      throw new ContainerStartError(`failed to start ${JSON.stringify(file)}: spawn ${file} ENOENT`);
    const hostname = existsSync(join(etc, 'hostname')) ? readOr(join(etc, 'hostname'), '') : undefined;
    return withPodEtc(join(etc, 'resolv.conf'), join(etc, 'hosts'), hostname || undefined, argv);
  }

  private child(id: string): Child {
    const c = this.children.get(id);
    if (!c) throw new Error(`no container ${id}`);
    return c;
  }

  private signal(c: Child, signal: NodeJS.Signals) {
    if (c.process.pid !== undefined) killGroup(c.process.pid, signal);
  }
}

/** The whole process group led by `pid`: a shell's children get the signal too. */
function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** A process's start time (clock ticks since boot, /proc/<pid>/stat field 22), or undefined when it is gone. */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}
