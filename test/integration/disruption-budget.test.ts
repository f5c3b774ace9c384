import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';
import type { StoredObject } from '../../shared/model/types.js';
import { StatusError } from '../../shared/model/errors.js';

/**
 * PodDisruptionBudgets (issue 20, first part): the disruption controller keeps their status behind the
 * real event path, and evictions (what `kubectl drain` posts) take a disruption or are refused with
 * Kubernetes' 429 while none is allowed.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
  await addNode(s.api.service, 'n1');
});
afterAll(() => s?.path.stop());

const pods = async () =>
  (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=db' })).items.filter(
    (p) => !p.metadata.deletionTimestamp,
  );
/** What an agent would report: the pod runs and is ready. */
const markReady = async (p: StoredObject) =>
  s.api.service.patch(
    T('Pod'),
    'default',
    p.metadata.name,
    'merge',
    { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
    'status',
  );
const budget = async () => (await s.api.service.get(T('PodDisruptionBudget'), 'default', 'db')).status as any;

describe('PodDisruptionBudget', () => {
  it('counts healthy pods, lets evictions take the allowed disruptions, and refuses the next with 429', async () => {
    await s.api.service.create(T('ReplicaSet'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'db' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'db' } },
        template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await s.api.service.create(T('PodDisruptionBudget'), 'default', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'db' },
      spec: { maxUnavailable: 1, selector: { matchLabels: { app: 'db' } } },
    });
    await until(async () => (await pods()).filter((p) => p.spec?.nodeName).length === 3, 30_000);
    for (const p of await pods()) await markReady(p);
    await until(async () => (await budget()).currentHealthy === 3, 30_000);
    expect(await budget()).toMatchObject({
      expectedPods: 3,
      desiredHealthy: 2,
      currentHealthy: 3,
      disruptionsAllowed: 1,
      observedGeneration: 1,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods' }],
    });

    const [a, b] = await pods();
    if (!a || !b) throw new Error('no pods');
    expect(await s.api.service.evict('default', a.metadata.name)).toBeUndefined();
    // The eviction took the disruption and told the controller which pod it is.
    expect(await budget()).toMatchObject({ disruptionsAllowed: 0 });
    // The controller drops the entry as soon as it sees the pod terminating (Kubernetes'
    // buildDisruptedPodMap), which may already have happened: then it counts the pod as gone instead.
    const after = await budget();
    const disrupted = Object.keys(after.disruptedPods ?? {});
    if (disrupted.length) expect(disrupted).toEqual([a.metadata.name]);
    else expect(after.currentHealthy).toBe(2);
    expect((await s.api.service.get(T('Pod'), 'default', a.metadata.name)).metadata.deletionTimestamp).toBeTruthy();

    // Once the controller counts the evicted pod as going, the budget says so in the refusal.
    await until(async () => (await budget()).currentHealthy === 2, 30_000);
    const refused = await s.api.service.evict('default', b.metadata.name).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(StatusError);
    expect((refused as StatusError).toStatus()).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: "Cannot evict pod as it would violate the pod's disruption budget.",
      reason: 'TooManyRequests',
      details: {
        causes: [
          { reason: 'DisruptionBudget', message: 'The disruption budget db needs 2 healthy pods and has 2 currently' },
        ],
      },
      code: 429,
    });
    expect((await s.api.service.get(T('Pod'), 'default', b.metadata.name)).metadata.deletionTimestamp).toBeUndefined();

    // The ReplicaSet's replacement becomes ready: a disruption is allowed again.
    await until(async () => (await pods()).length === 3, 30_000);
    for (const p of await pods()) if (p.status?.phase !== 'Running') await markReady(p);
    await until(async () => (await budget()).disruptionsAllowed === 1, 30_000);
    expect(await s.api.service.evict('default', b.metadata.name)).toBeUndefined();
  });

  it('deletes a finished pod at once, whatever its budget says', async () => {
    const [p] = await pods();
    if (!p) throw new Error('no pods');
    await s.api.service.patch(
      T('Pod'),
      'default',
      p.metadata.name,
      'merge',
      { status: { phase: 'Succeeded' } },
      'status',
    );
    expect(await s.api.service.evict('default', p.metadata.name)).toBeUndefined();
  });

  it('answers 500 with Kubernetes message for a pod two budgets cover', async () => {
    await s.api.service.create(T('PodDisruptionBudget'), 'default', {
      apiVersion: 'policy/v1',
      kind: 'PodDisruptionBudget',
      metadata: { name: 'everything' },
      spec: { minAvailable: 0, selector: {} },
    });
    const [p] = (await pods()).filter((x) => x.status?.phase === 'Running');
    if (!p) throw new Error('no running pod');
    expect(await s.api.service.evict('default', p.metadata.name)).toMatchObject({
      code: 500,
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    });
  });
});
