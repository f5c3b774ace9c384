import { isPodReady } from '../model/conditions.js';
import { budgetSelects } from '../model/disruption-budget.js';
import { ConflictError, ForbiddenError, StatusError, type Status } from '../model/errors.js';
import { isPlainObject } from '../model/json.js';
import { kindNamed } from '../model/kinds.js';
import type { DeleteOptions, ObjectApi } from '../model/object-api.js';
import type { KubeObject, StoredObject } from '../model/types.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore } from '../store/store.js';
import type { Clock } from '../util/clock.js';
import { rfc3339 } from '../util/clock.js';
import { retrying } from '../util/retry.js';

const POD = kindNamed('Pod');
/** Kubernetes' MaxDisruptedPodSize: evictions the disruption controller has not confirmed yet. */
const MAX_DISRUPTED_PODS = 2000;
/** Conflicting writes of the budget's status retried (Kubernetes' EvictionsRetry tries 20 times). */
const RETRIES = 20;

const MESSAGE = "Cannot evict pod as it would violate the pod's disruption budget.";

/** errors.NewTooManyRequests with a DisruptionBudget cause, as the eviction subresource answers. */
function tooManyRequests(cause: string, retryAfterSeconds: number): StatusError {
  return new StatusError(429, 'TooManyRequests', MESSAGE, {
    ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
    causes: [{ reason: 'DisruptionBudget', message: cause }],
  });
}

export interface EvictionDeps {
  service: Pick<ObjectApi, 'get' | 'delete'>;
  store: ObjectStore;
  clock: Clock;
}

/**
 * policy/v1 Eviction of a pod (pkg/registry/core/pod/storage/eviction.go): a pod that is finished,
 * pending or already deleting is deleted at once; otherwise the one PodDisruptionBudget covering it
 * must allow a disruption, which the eviction takes (disruptionsAllowed - 1, the pod recorded in
 * disruptedPods for the disruption controller) before deleting the pod. Answers undefined when the pod
 * was deleted, or the Status to send instead (more than one budget: Kubernetes' 500).
 */
export async function evictPod(
  deps: EvictionDeps,
  ns: string,
  name: string,
  opts: DeleteOptions,
): Promise<Status | undefined> {
  return retrying(() => evictOnce(deps, ns, name, opts), {
    retryable: (e, attempt) => e instanceof PodChanged && attempt < RETRIES,
  });
}

/** The pod changed between its read and its precondition-bound delete: look at it again. */
class PodChanged extends Error {}

async function evictOnce(
  deps: EvictionDeps,
  ns: string,
  name: string,
  opts: DeleteOptions,
): Promise<Status | undefined> {
  const pod = await deps.service.get(POD, ns, name);
  const phase = typeof pod.status?.phase === 'string' ? pod.status.phase : 'Pending';
  const clientVersion = opts.preconditions?.resourceVersion !== undefined;
  const pinned = { ...opts, preconditions: { ...opts.preconditions, resourceVersion: pod.metadata.resourceVersion } };
  // canIgnorePDB: its disruption has happened already, or it serves nothing yet. A pending pod is deleted
  // only as read (shouldEnforceResourceVersion): one that started meanwhile is looked at again.
  if (['Succeeded', 'Failed', 'Pending'].includes(phase) || pod.metadata.deletionTimestamp) {
    const enforce = phase === 'Pending' && !clientVersion;
    await deps.service.delete(POD, ns, name, enforce ? pinned : opts).catch((e: unknown) => {
      throw enforce && e instanceof ConflictError ? new PodChanged() : e;
    });
    return undefined;
  }
  const budgets = (await listAll(deps.store, { kind: 'PodDisruptionBudget', namespace: ns })).filter((b) =>
    budgetSelects(b, pod),
  );
  if (budgets.length > 1)
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      reason: '',
      code: 500,
    };
  const [budget] = budgets;
  if (!budget) {
    await deps.service.delete(POD, ns, name, opts);
    return undefined;
  }
  const ready = isPodReady(pod);
  // An unhealthy pod takes no disruption: always (AlwaysAllow), or while the budget is met (IfHealthyBudget).
  let takes = !(budget.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' && !ready);
  if (takes)
    await retrying(
      async () => {
        const current =
          (await deps.store.get({ kind: 'PodDisruptionBudget', namespace: ns, name: budget.metadata.name })) ?? budget;
        const st = isPlainObject(current.status) ? current.status : {};
        const n = (k: string) => (typeof st[k] === 'number' ? st[k] : 0);
        if (!ready && n('currentHealthy') >= n('desiredHealthy') && n('desiredHealthy') > 0) {
          takes = false;
          return;
        }
        await takeDisruption(deps, current, name);
      },
      { retryable: (e, attempt) => e instanceof ConflictError && attempt < RETRIES },
    );
  if (takes) {
    await deps.service.delete(POD, ns, name, opts);
    return undefined;
  }
  // Without a disruption the pod goes only as it was read (unready): one that became ready meanwhile is
  // refused as Kubernetes refuses it, with a 429 the client retries.
  await deps.service.delete(POD, ns, name, clientVersion ? opts : pinned).catch((e: unknown) => {
    throw !clientVersion && e instanceof ConflictError
      ? tooManyRequests(`The disruption budget ${budget.metadata.name} is still being processed by the server.`, 10)
      : e;
  });
  return undefined;
}

/** checkAndDecrement: refuses (429) when the budget allows no disruption, else records this one. */
async function takeDisruption(deps: EvictionDeps, pdb: StoredObject, podName: string): Promise<void> {
  const name = pdb.metadata.name;
  const st = isPlainObject(pdb.status) ? pdb.status : {};
  const allowed = typeof st.disruptionsAllowed === 'number' ? st.disruptionsAllowed : 0;
  const disrupted = isPlainObject(st.disruptedPods) ? st.disruptedPods : {};
  if (Number(st.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1))
    throw tooManyRequests(`The disruption budget ${name} is still being processed by the server.`, 10);
  const ref = { resource: 'poddisruptionbudget', group: 'policy', name };
  if (allowed < 0) throw new ForbiddenError(ref, 'pdb disruptions allowed is negative');
  if (Object.keys(disrupted).length > MAX_DISRUPTED_PODS)
    throw new ForbiddenError(ref, 'DisruptedPods map too big - too many evictions not confirmed by PDB controller');
  if (allowed === 0)
    throw tooManyRequests(
      `The disruption budget ${name} needs ${Number(st.desiredHealthy ?? 0)} healthy pods and has ${Number(st.currentHealthy ?? 0)} currently`,
      0,
    );
  const left = allowed - 1;
  // UpdateDisruptionAllowedCondition when the last allowed disruption is taken.
  const others = (Array.isArray(st.conditions) ? st.conditions : []).filter(
    (c: unknown) => !(isPlainObject(c) && c.type === 'DisruptionAllowed'),
  );
  const before = (Array.isArray(st.conditions) ? st.conditions : []).find(
    (c: unknown) => isPlainObject(c) && c.type === 'DisruptionAllowed',
  );
  const conditions =
    left === 0
      ? [
          ...others,
          {
            type: 'DisruptionAllowed',
            status: 'False',
            reason: 'InsufficientPods',
            message: '',
            observedGeneration: Number(st.observedGeneration ?? 0),
            lastTransitionTime: rfc3339(deps.clock.now()),
          },
        ]
      : [...others, ...(before ? [before] : [])];
  const next: KubeObject = {
    ...pdb,
    status: {
      ...st,
      disruptionsAllowed: left,
      disruptedPods: { ...disrupted, [podName]: rfc3339(deps.clock.now()) },
      conditions,
    },
  };
  await deps.store.update(next, pdb);
}
