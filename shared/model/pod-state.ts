import type { KubeObject } from './types.js';
import { podSpec, podStatus } from './typed.js';

/** Pod facts the store, dispatch, scheduler, API and controllers all read, defined once. */

export const phaseOf = (pod: KubeObject) => String(podStatus(pod).phase ?? 'Pending');
export const nodeNameOf = (pod: KubeObject | undefined) => podSpec(pod).nodeName;
/** Succeeded or Failed: its containers will not run again. */
export const isFinished = (pod: KubeObject) => phaseOf(pod) === 'Succeeded' || phaseOf(pod) === 'Failed';
/** Needs the scheduler: not bound, not finished, not being deleted. */
export const isWaitingForNode = (pod: KubeObject) =>
  !nodeNameOf(pod) && !pod.metadata.deletionTimestamp && !isFinished(pod);
