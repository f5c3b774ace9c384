import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';

/** The ReplicaSet controller behind the real event path: API → stream → dispatch → SQS → controller → pods → scheduler. */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

const owned = async (uid: string) =>
  (await s.api.service.list(T('Pod'), 'default')).items.filter((p) =>
    p.metadata.ownerReferences?.some((r) => r.uid === uid),
  );

describe('ReplicaSet controller', () => {
  it('creates the pods, which get scheduled, scales down, and reports status', async () => {
    for (const n of ['n1', 'n2', 'n3']) await addNode(s.api.service, n);
    const rs = await s.api.service.create(T('ReplicaSet'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'web-1' },
      spec: {
        replicas: 5,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] },
        },
      },
    });
    await until(async () => (await owned(rs.metadata.uid)).filter((p) => p.spec?.nodeName).length === 5);
    await s.quiet();
    expect(await owned(rs.metadata.uid)).toHaveLength(5);
    const status = (await s.api.service.get(T('ReplicaSet'), 'default', 'web-1')).status;
    expect(status).toMatchObject({ replicas: 5, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
    const events = (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=SuccessfulCreate' }))
      .items;
    expect(events.length).toBeGreaterThanOrEqual(5);

    // Scale down to 2: bound pods go Terminating (their agent finishes the delete); the ReplicaSet counts 2.
    await s.api.service.patch(T('ReplicaSet'), 'default', 'web-1', 'merge', { spec: { replicas: 2 } });
    await until(async () => (await owned(rs.metadata.uid)).filter((p) => !p.metadata.deletionTimestamp).length === 2);
    await until(async () => (await s.api.service.get(T('ReplicaSet'), 'default', 'web-1')).status?.replicas === 2);
    await s.quiet();
    expect((await owned(rs.metadata.uid)).filter((p) => !p.metadata.deletionTimestamp)).toHaveLength(2);
  });
});

describe('ReplicaSet controller and ServiceAccounts', () => {
  it('says why no pod appears when the template names a missing account, and creates them once it exists', async () => {
    await s.api.service.create(T('ReplicaSet'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'robot' },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: 'robot' } },
        template: {
          metadata: { labels: { app: 'robot' } },
          spec: { serviceAccountName: 'robot', containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
    let message = '';
    await until(async () => {
      const events = (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=FailedCreate' })).items;
      message = String(events.find((e) => (e as any).involvedObject?.name === 'robot')?.message ?? '');
      return message !== '';
    }, 30_000);
    expect(message).toBe(
      'Error creating: pods "robot-" is forbidden: error looking up service account default/robot: serviceaccount "robot" not found',
    );
    await s.api.service.create(T('ServiceAccount'), 'default', {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot' },
    });
    // A change of the ReplicaSet reconciles it at once (the failed reconcile is also retried with the queue's back-off).
    await s.api.service.patch(T('ReplicaSet'), 'default', 'robot', 'merge', { metadata: { labels: { retry: '1' } } });
    await until(
      async () => (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=robot' })).items.length === 2,
      30_000,
    );
  });
});
