import type { KubeObject } from '../model/types.js';
import type { RestartPolicy } from './backoff.js';
import { ContainerRunner, type ContainerDef, type RunnerDeps } from './container-runner.js';
import { podStatus, type ContainerView } from './pod-status.js';
import { LABELS, type ContainerInfo } from './runtime/runtime.js';
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

  constructor(
    readonly pod: KubeObject,
    private readonly deps: WorkerDeps,
    adopted: ContainerInfo[] = [],
  ) {
    this.startTime = isoAt(deps.timers.now());
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
    // Init containers must succeed once; a pod that never restarts fails with its first failed init container.
    this.init = initContainers.map(
      (c) => new ContainerRunner(pod, c, restartPolicy === 'Never' ? 'Never' : 'OnFailure', runnerDeps),
    );
    // A pod adopted after an agent restart is past its init containers.
    const adopting = adopted.some((c) => c.running);
    if (adopting)
      for (const r of this.init)
        Object.assign(r, {
          finished: true,
          state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: this.startTime } },
        });
    this.main = containers.map((c) => new ContainerRunner(pod, c, restartPolicy, runnerDeps, adoptedFor(c.name)));
  }

  get uid(): string {
    return this.pod.metadata.uid ?? '';
  }

  start(): void {
    void this.runAll();
  }

  private async runAll() {
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
      await Promise.all([...this.init, ...this.main].map((r) => r.stop(graceSeconds, reason)));
      await Promise.all([...this.init, ...this.main].map((r) => r.cleanUp()));
      this.terminated = true;
      this.deps.changed(this);
    })();
    return this.terminating;
  }

  get isTerminating(): boolean {
    return this.terminating !== undefined;
  }

  status(previous: KubeObject['status'] | undefined) {
    const ip = this.main.find((r) => r.ip)?.ip ?? this.deps.hostIP;
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
