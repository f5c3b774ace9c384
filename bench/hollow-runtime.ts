import type {
  ContainerInfo,
  ContainerRuntime,
  ContainerSpec,
  ContainerUsage,
  ExitInfo,
  ImageInfo,
  RuntimeFeature,
  SandboxInfo,
  SandboxSpec,
} from '../shared/agent/runtime/runtime.js';
import { RUNTIME_FEATURES } from '../shared/agent/runtime/runtime.js';

/**
 * A container runtime that runs nothing (kubemark's hollow kubelet idea): containers "start" at once
 * and "run" until stopped, so benchmarks measure the control plane and the agent, not processes.
 */
export class HollowRuntime implements ContainerRuntime {
  readonly name = 'process' as const;

  async version(): Promise<string> {
    return 'hollow://0';
  }
  private seq = 0;
  private readonly exits = new Map<string, { promise: Promise<ExitInfo>; resolve: (e: ExitInfo) => void }>();

  /** Everything: it runs nothing, so nothing a pod asks for is out of its reach (StatefulSet pods set their hostname). */
  readonly features: ReadonlySet<RuntimeFeature> = new Set(RUNTIME_FEATURES);

  async ensureImage(): Promise<ImageInfo> {
    return { pulled: false, user: '1000' };
  }
  async runSandbox(spec: SandboxSpec): Promise<SandboxInfo> {
    return { id: spec.name, labels: spec.labels, running: true, volumes: {} };
  }
  async removeSandbox(): Promise<void> {}
  async listSandboxes(): Promise<SandboxInfo[]> {
    return [];
  }
  async run(spec: ContainerSpec): Promise<ContainerInfo> {
    const id = `hollow-${++this.seq}`;
    let resolve: (e: ExitInfo) => void = () => {};
    const promise = new Promise<ExitInfo>((r) => (resolve = r));
    this.exits.set(id, { promise, resolve });
    return { id, labels: spec.labels, running: true, startedAt: new Date() };
  }
  wait(id: string): Promise<ExitInfo> {
    return this.exits.get(id)?.promise ?? Promise.resolve({ exitCode: 0, finishedAt: new Date() });
  }
  async stop(id: string): Promise<void> {
    this.exits.get(id)?.resolve({ exitCode: 0, finishedAt: new Date() });
  }
  async remove(id: string): Promise<void> {
    await this.stop(id);
    this.exits.delete(id);
  }
  async list(): Promise<ContainerInfo[]> {
    return [];
  }
  async follow(): Promise<void> {}
  /** Nothing runs, so nothing is used: its containers report no metrics (as a container cAdvisor cannot read). */
  async usage(): Promise<Map<string, ContainerUsage>> {
    return new Map();
  }
  async exec(): Promise<{ exitCode: number; output: string }> {
    return { exitCode: 0, output: '' };
  }
  async close(): Promise<void> {
    for (const id of [...this.exits.keys()]) await this.remove(id);
  }
}
