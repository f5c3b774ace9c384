import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode } from '../support/cluster.js';
import { makeDeployment } from '../support/fixtures.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';

/** Deployment → ReplicaSet → Pods → scheduler, through the real event path (no agents yet, so pods stay Pending on their nodes). */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

describe('Deployment controller', () => {
  it('creates a ReplicaSet per template, whose pods get scheduled; a new image makes revision 2', async () => {
    for (const n of ['n1', 'n2']) await addNode(s.api.service, n);
    const d = await s.api.service.create(
      T('Deployment'),
      'default',
      makeDeployment('web', (x) => (x.spec.replicas = 4)),
    );
    await until(
      async () =>
        (await s.api.service.list(T('Pod'), 'default', { labelSelector: 'app=web' })).items.filter(
          (p) => p.spec?.nodeName,
        ).length === 4,
    );
    const rs1 = (await s.api.service.list(T('ReplicaSet'), 'default')).items;
    expect(rs1).toHaveLength(1);
    expect(rs1[0]?.metadata.ownerReferences?.[0]).toMatchObject({
      kind: 'Deployment',
      uid: d.metadata.uid,
      controller: true,
    });
    expect(rs1[0]?.metadata.annotations?.['deployment.kubernetes.io/revision']).toBe('1');
    await until(async () => (await s.api.service.get(T('Deployment'), 'default', 'web')).status?.replicas === 4);
    expect((await s.api.service.get(T('Deployment'), 'default', 'web')).status).toMatchObject({
      observedGeneration: 1,
      replicas: 4,
      updatedReplicas: 4,
      availableReplicas: 0,
      unavailableReplicas: 4,
    });

    await s.api.service.patch(T('Deployment'), 'default', 'web', 'merge', {
      spec: { template: { spec: { containers: [{ name: 'web', image: 'busybox:1.37' }] } } },
    });
    await until(async () => (await s.api.service.list(T('ReplicaSet'), 'default')).items.length === 2);
    const rs2 = (await s.api.service.list(T('ReplicaSet'), 'default')).items.find(
      (r) => r.metadata.annotations?.['deployment.kubernetes.io/revision'] === '2',
    );
    expect((rs2?.spec as any).template.spec.containers[0].image).toBe('busybox:1.37');
    // No pod is available (no agent), so the old pods may all go and the new ReplicaSet takes over.
    await until(async () => (await s.api.service.get(T('Deployment'), 'default', 'web')).status?.updatedReplicas === 4);
    await s.quiet();
    const rsAll = (await s.api.service.list(T('ReplicaSet'), 'default')).items;
    expect(rsAll.reduce((n, r) => n + Number((r.spec as any).replicas), 0)).toBeLessThanOrEqual(4 + 1); // replicas + maxSurge
  });
});
