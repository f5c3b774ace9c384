import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigMap, makeDeployment } from '../support/fixtures.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';

/** Cascading deletion through the real event path. No nodes here, so pods stay unbound and go at once. */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

const count = async (kind: string, labelSelector: string) =>
  (await s.api.service.list(T(kind), 'default', { labelSelector })).items.length;

async function deploymentWithPods(name: string) {
  await s.api.service.create(T('Deployment'), 'default', makeDeployment(name));
  await until(async () => (await count('Pod', `app=${name}`)) === 2);
}

describe('garbage collection', () => {
  it('Background (the default): deleting a Deployment removes its ReplicaSets and their Pods', async () => {
    await deploymentWithPods('bg');
    await s.api.service.delete(T('Deployment'), 'default', 'bg', {});
    await until(async () => (await count('ReplicaSet', 'app=bg')) === 0 && (await count('Pod', 'app=bg')) === 0);
  });

  it('Orphan: the Deployment goes, its ReplicaSet stays without an owner', async () => {
    await deploymentWithPods('orph');
    await s.api.service.delete(T('Deployment'), 'default', 'orph', { propagationPolicy: 'Orphan' });
    await until(async () =>
      (await s.api.service.list(T('Deployment'), 'default')).items.every((d) => d.metadata.name !== 'orph'),
    );
    const rs = (await s.api.service.list(T('ReplicaSet'), 'default', { labelSelector: 'app=orph' })).items;
    expect(rs).toHaveLength(1);
    expect(rs[0]?.metadata.ownerReferences).toBeUndefined();
    expect(await count('Pod', 'app=orph')).toBe(2);
  });

  it('a Deployment re-created after an Orphan delete adopts the ReplicaSet and its pods instead of starting beside them', async () => {
    await deploymentWithPods('readopt');
    const podsBefore = (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=readopt' })).items
      .map((p) => p.metadata.uid)
      .sort();
    await s.api.service.delete(T('Deployment'), 'default', 'readopt', { propagationPolicy: 'Orphan' });
    await until(async () =>
      (await s.api.service.list(T('ReplicaSet'), 'default', { labelSelector: 'app=readopt' })).items.every(
        (rs) => !rs.metadata.ownerReferences,
      ),
    );
    // The orphan finalizer goes after the dependents are released; the delete completes with it (kubectl waits for that too).
    await until(async () =>
      (await s.api.service.list(T('Deployment'), 'default')).items.every((d) => d.metadata.name !== 'readopt'),
    );
    const again = await s.api.service.create(T('Deployment'), 'default', makeDeployment('readopt'));
    await until(async () =>
      (await s.api.service.list(T('ReplicaSet'), 'default', { labelSelector: 'app=readopt' })).items.every(
        (rs) => rs.metadata.ownerReferences?.[0]?.uid === again.metadata.uid,
      ),
    );
    await until(async () => (await s.api.service.get(T('Deployment'), 'default', 'readopt')).status?.replicas === 2);
    await s.quiet();
    expect(await count('ReplicaSet', 'app=readopt')).toBe(1);
    expect(
      (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=readopt' })).items
        .map((p) => p.metadata.uid)
        .sort(),
    ).toEqual(podsBefore);
  });

  it('a new ReplicaSet adopts running pods it selects that nobody controls, and creates only the rest', async () => {
    const pod = (name: string, labels: Record<string, string>) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels },
      spec: { containers: [{ name: 'c', image: 'busybox' }] },
    });
    await s.api.service.create(T('Pod'), 'default', pod('stray-1', { app: 'adopter' }));
    await s.api.service.create(T('Pod'), 'default', pod('other-1', { app: 'someone-else' }));
    const rs = await s.api.service.create(T('ReplicaSet'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'adopter' },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: 'adopter' } },
        template: { metadata: { labels: { app: 'adopter' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await until(async () => (await count('Pod', 'app=adopter')) === 3);
    await s.quiet();
    const pods = (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=adopter' })).items;
    expect(pods).toHaveLength(3);
    expect(pods.every((p) => p.metadata.ownerReferences?.[0]?.uid === rs.metadata.uid)).toBe(true);
    expect(pods.map((p) => p.metadata.name)).toContain('stray-1');
    expect((await s.api.service.get(T('Pod'), 'default', 'other-1')).metadata.ownerReferences).toBeUndefined();
  });

  it('Foreground: the Deployment waits, with a deletionTimestamp, until its dependents are gone', async () => {
    await deploymentWithPods('fg');
    const result = await s.api.service.delete(T('Deployment'), 'default', 'fg', { propagationPolicy: 'Foreground' });
    expect(result.deleted).toBe(false);
    await until(async () =>
      (await s.api.service.list(T('Deployment'), 'default')).items.every((d) => d.metadata.name !== 'fg'),
    );
    expect(await count('ReplicaSet', 'app=fg')).toBe(0);
    expect(await count('Pod', 'app=fg')).toBe(0);
  });

  it('a Terminating namespace is emptied, then removed', async () => {
    await s.api.service.create(T('Namespace'), undefined, { metadata: { name: 'doomed' } });
    await s.api.service.create(T('ConfigMap'), 'doomed', makeConfigMap('x', 'doomed'));
    const del = await s.api.service.delete(T('Namespace'), '', 'doomed', {});
    expect(del.deleted).toBe(false);
    await until(async () => !(await s.store.get({ kind: 'Namespace', namespace: '', name: 'doomed' })));
    expect(await s.store.get({ kind: 'ConfigMap', namespace: 'doomed', name: 'x' })).toBeUndefined();
  });
});
