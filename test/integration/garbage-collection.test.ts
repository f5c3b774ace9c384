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

const count = async (kind: string, labelSelector: string) => (await s.api.service.list(T(kind), 'default', { labelSelector })).items.length;

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
    await until(async () => (await s.api.service.list(T('Deployment'), 'default')).items.every((d) => d.metadata.name !== 'orph'));
    const rs = (await s.api.service.list(T('ReplicaSet'), 'default', { labelSelector: 'app=orph' })).items;
    expect(rs).toHaveLength(1);
    expect(rs[0]?.metadata.ownerReferences).toBeUndefined();
    expect(await count('Pod', 'app=orph')).toBe(2);
  });

  it('Foreground: the Deployment waits, with a deletionTimestamp, until its dependents are gone', async () => {
    await deploymentWithPods('fg');
    const result = await s.api.service.delete(T('Deployment'), 'default', 'fg', { propagationPolicy: 'Foreground' });
    expect(result.deleted).toBe(false);
    await until(async () => (await s.api.service.list(T('Deployment'), 'default')).items.every((d) => d.metadata.name !== 'fg'));
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
