import { BadRequestError, cause, ConflictError, InvalidError, NotFoundError } from '../model/errors.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import { rfc3339, type Clock } from '../util/clock.js';
import type { EventRecorder } from '../events/recorder.js';
import type { ObjectStore } from '../store/store.js';
import type { NodeLedger, PodBinding } from '../store/node-ledger.js';
import { nodeAllocatable, podRequests, type Resources } from '../model/resources.js';
import { withCondition } from '../model/conditions.js';

/**
 * A pod is placed on a node only by a binding: the pod's spec.nodeName and its PodScheduled condition
 * written together with the node's capacity ledger, in one conditional transaction. The scheduler
 * binds this way, and so does the `pods/binding` subresource (Kubernetes' BindingREST), which
 * custom schedulers use; spec.nodeName cannot be changed by an update (immutability.ts).
 */

export const scheduledMessage = (pod: KubeObject, nodeName: string) =>
  `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${nodeName}`;

/** The write that binds `pod` to `nodeName`: the bound pod and its entry in the node's allocation. */
export function podBinding(
  pod: StoredObject,
  nodeName: string,
  allocatable: Resources,
  requests: Resources,
  now: Date,
): PodBinding {
  const boundPod = withCondition(
    { ...pod, spec: { ...pod.spec, nodeName } },
    { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(now) },
  );
  const entry = {
    uid: pod.metadata.uid,
    key: `${pod.metadata.namespace}/${pod.metadata.name}`,
    labels: pod.metadata.labels ?? {},
    cpuMilli: requests.cpuMilli,
    memoryBytes: requests.memoryBytes,
  };
  return { boundPod, previous: pod, nodeName, entry, allocatable };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `POST pods/{name}/binding` with a v1 Binding, as the kube-apiserver's BindingREST takes it. */
export async function bindFromRequest(
  deps: { store: ObjectStore; ledger: NodeLedger; clock: Clock; events: EventRecorder },
  namespace: string,
  name: string,
  body: unknown,
): Promise<StoredObject> {
  if (!isObject(body)) throw new BadRequestError('the body of a binding must be a Binding object (v1)');
  const meta = isObject(body.metadata) ? body.metadata : {};
  if (meta.name !== undefined && meta.name !== name)
    throw new BadRequestError('name in URL does not match name in Binding object');
  // ValidatePodBinding: the target is a Node, named.
  const target = isObject(body.target) ? body.target : {};
  if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node')
    throw new InvalidError('Binding', '', name, [cause.notSupported('target.kind', target.kind, ['Node'])]);
  if (typeof target.name !== 'string' || target.name === '')
    throw new InvalidError('Binding', '', name, [cause.required('target.name')]);
  const nodeName = target.name;

  const pod = await deps.store.get({ kind: 'Pod', namespace, name });
  if (!pod) throw new NotFoundError({ resource: 'pods', group: '', name });
  // setPodNodeAndMetadata's refusals, with its messages.
  if (pod.metadata.deletionTimestamp)
    throw new ConflictError(
      { resource: 'pods', group: '', name },
      `pod ${name} is being deleted, cannot be assigned to a host`,
    );
  if (pod.spec?.nodeName)
    throw new ConflictError(
      { resource: 'pods', group: '', name },
      `pod ${name} is already assigned to node "${String(pod.spec.nodeName)}"`,
    );
  if (typeof meta.uid === 'string' && meta.uid && meta.uid !== pod.metadata.uid)
    throw new ConflictError(
      { resource: 'pods', group: '', name },
      `the UID in the precondition (${meta.uid}) does not match the UID in record (${pod.metadata.uid}); the object might have been deleted and then recreated`,
    );
  // Unlike Kubernetes, the node must exist: its capacity ledger counts every pod placed on it.
  const node = await deps.store.get({ kind: 'Node', namespace: '', name: nodeName });
  if (!node) throw new NotFoundError({ resource: 'nodes', group: '', name: nodeName });
  const now = deps.clock.now();
  const binding = podBinding(pod, nodeName, nodeAllocatable(node), podRequests(pod), now);
  const bound = await deps.ledger.bindPod(
    binding.boundPod,
    binding.previous,
    nodeName,
    binding.entry,
    binding.allocatable,
  );
  deps.events.record(pod, 'Normal', 'Scheduled', scheduledMessage(pod, nodeName));
  await deps.events.flush();
  return bound;
}
