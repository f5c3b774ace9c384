import type { KubeObject } from './types.js';

/** Pod facts the store, dispatch, scheduler, API and controllers all read, defined once. */

export const phaseOf = (pod: KubeObject) => String((pod.status as { phase?: unknown } | undefined)?.phase ?? 'Pending');
export const nodeNameOf = (pod: KubeObject | undefined) => (pod?.spec as { nodeName?: string } | undefined)?.nodeName;
/** Succeeded or Failed: its containers will not run again. */
export const isFinished = (pod: KubeObject) => phaseOf(pod) === 'Succeeded' || phaseOf(pod) === 'Failed';
/** Needs the scheduler: not bound, not finished, not being deleted. */
export const isWaitingForNode = (pod: KubeObject) => !nodeNameOf(pod) && !pod.metadata.deletionTimestamp && !isFinished(pod);
