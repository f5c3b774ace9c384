import type { ContainerState } from './container-runner.js';

/** What the status builder needs from each container (a snapshot of a ContainerRunner). */
export interface ContainerView {
  name: string;
  image: string;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  restartCount: number;
  ready: boolean;
  started: boolean;
  everRan: boolean;
  finished: boolean;
  containerId?: string;
  exitCode?: number;
}

export interface PodView {
  init: ContainerView[];
  main: ContainerView[];
  hostIP: string;
  /** Unset until the pod's sandbox has an address. */
  podIP?: string;
  startTime: string;
  /** Set once, by the caller, when the transition time of a condition must be kept. */
  now: string;
  previous?: { conditions?: { type: string; status: string; lastTransitionTime?: string }[] };
}

const exitOf = (c: ContainerView) => ('terminated' in c.state ? c.state.terminated.exitCode : undefined);

/**
 * The pod's phase and conditions from its containers, as kubelet computes them: Pending until a main
 * container has run, Succeeded/Failed once all have exited for good, Running otherwise.
 */
export function podPhase(v: Pick<PodView, 'init' | 'main'>): 'Pending' | 'Running' | 'Succeeded' | 'Failed' {
  if (v.init.some((c) => c.finished && exitOf(c) !== 0)) return 'Failed';
  if (v.main.length && v.main.every((c) => c.finished))
    return v.main.every((c) => exitOf(c) === 0) ? 'Succeeded' : 'Failed';
  if (v.main.some((c) => c.everRan)) return 'Running';
  return 'Pending';
}

function containerStatus(c: ContainerView) {
  return {
    name: c.name,
    image: c.image,
    imageID: '',
    ...(c.containerId ? { containerID: c.containerId } : {}),
    state: c.state,
    lastState: c.lastState,
    ready: c.ready,
    started: c.started,
    restartCount: c.restartCount,
  };
}

export function podStatus(v: PodView) {
  const phase = podPhase(v);
  const initialized = v.init.every((c) => c.finished && exitOf(c) === 0);
  const containersReady = v.main.every((c) => c.ready) && phase === 'Running';
  const condition = (type: string, ok: boolean, reason?: string) => {
    const status: 'True' | 'False' = ok ? 'True' : 'False';
    const prev = v.previous?.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      lastProbeTime: null,
      lastTransitionTime: prev?.status === status && prev.lastTransitionTime ? prev.lastTransitionTime : v.now,
      ...(ok || !reason ? {} : { reason }),
    };
  };
  return {
    phase,
    conditions: [
      condition('Initialized', initialized, 'ContainersNotInitialized'),
      condition('ContainersReady', containersReady, 'ContainersNotReady'),
      condition('Ready', containersReady, 'ContainersNotReady'),
    ],
    hostIP: v.hostIP,
    ...(v.podIP ? { podIP: v.podIP, podIPs: [{ ip: v.podIP }] } : {}),
    startTime: v.startTime,
    ...(v.init.length ? { initContainerStatuses: v.init.map(containerStatus) } : {}),
    containerStatuses: v.main.map(containerStatus),
  };
}
