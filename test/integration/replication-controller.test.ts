import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';
import { StatusError } from '../../shared/model/errors.js';
import { toTable } from '../../shared/apiserver/http/tables.js';

/**
 * ReplicationController (v1, issue 20): defaulted and validated as Kubernetes does, run by the
 * ReplicaSet controller with its label-map selector, scaled through its scale subresource.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
  await addNode(s.api.service, 'rc-node');
});
afterAll(() => s?.path.stop());

const rc = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: { name },
  spec,
});
const template = (labels: Record<string, string>, extra: Record<string, unknown> = {}) => ({
  metadata: { labels },
  spec: { containers: [{ name: 'c', image: 'nginx:1.27' }], ...extra },
});
const owned = async (uid: string) =>
  (await s.api.service.list(T('Pod'), 'default')).items.filter(
    (p) => !p.metadata.deletionTimestamp && p.metadata.ownerReferences?.some((r) => r.uid === uid && r.controller),
  );

describe('ReplicationController', () => {
  it('defaults its selector and labels from the template, keeps replicas pods, scales, and reports status', async () => {
    const created = await s.api.service.create(
      T('ReplicationController'),
      'default',
      rc('nginx', { replicas: 2, template: template({ app: 'nginx' }) }),
    );
    expect(created.spec).toMatchObject({ selector: { app: 'nginx' }, replicas: 2 });
    expect(created.metadata.labels).toEqual({ app: 'nginx' });
    await until(async () => (await owned(created.metadata.uid)).length === 2, 30_000);
    const pods = await owned(created.metadata.uid);
    expect(pods[0]?.metadata.ownerReferences?.[0]).toMatchObject({
      apiVersion: 'v1',
      kind: 'ReplicationController',
      name: 'nginx',
    });
    expect(pods[0]?.metadata.generateName).toBe('nginx-');
    await until(
      async () => (await s.api.service.get(T('ReplicationController'), 'default', 'nginx')).status?.replicas === 2,
      30_000,
    );
    // kubectl scale rc goes through the scale subresource, as for ReplicaSets.
    await s.api.service.patch(T('ReplicationController'), 'default', 'nginx', 'merge', { spec: { replicas: 3 } });
    await until(async () => (await owned(created.metadata.uid)).length === 3, 30_000);
    const current = await s.api.service.get(T('ReplicationController'), 'default', 'nginx');
    const table = toTable('ReplicationController', [current], {}, Date.now(), undefined) as any;
    expect(table.columnDefinitions.map((c: any) => c.name)).toEqual([
      'Name',
      'Desired',
      'Current',
      'Ready',
      'Age',
      'Containers',
      'Images',
      'Selector',
    ]);
    expect(table.rows[0].cells.slice(0, 2)).toEqual(['nginx', 3]);
    expect(table.rows[0].cells[7]).toBe('app=nginx');
  });

  it('adopts running pods its selector matches that nobody controls', async () => {
    await s.api.service.create(T('Pod'), 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'stray', labels: { app: 'stray' } },
      spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] },
    });
    const created = await s.api.service.create(
      T('ReplicationController'),
      'default',
      rc('strays', { replicas: 1, template: template({ app: 'stray' }) }),
    );
    await until(async () => (await owned(created.metadata.uid)).length === 1, 30_000);
    expect((await owned(created.metadata.uid)).map((p) => p.metadata.name)).toEqual(['stray']);
  });

  it('lets go of pods its changed selector no longer selects, and makes pods with the new labels', async () => {
    const created = await s.api.service.create(
      T('ReplicationController'),
      'default',
      rc('moving', { replicas: 1, template: template({ app: 'moving', v: '1' }) }),
    );
    await until(async () => (await owned(created.metadata.uid)).length === 1, 30_000);
    const [old] = await owned(created.metadata.uid);
    await s.api.service.patch(T('ReplicationController'), 'default', 'moving', 'merge', {
      spec: { selector: { app: 'moving', v: '2' }, template: { metadata: { labels: { app: 'moving', v: '2' } } } },
    });
    await until(async () => (await owned(created.metadata.uid)).some((p) => p.metadata.labels?.v === '2'), 30_000);
    const released = await s.api.service.get(T('Pod'), 'default', old?.metadata.name ?? '');
    expect(released.metadata.ownerReferences ?? []).toEqual([]);
    expect((await owned(created.metadata.uid)).map((p) => p.metadata.labels?.v)).toEqual(['2']);
    // Scaling up later does not trip over the name the let-go pod keeps.
    await s.api.service.patch(T('ReplicationController'), 'default', 'moving', 'merge', { spec: { replicas: 3 } });
    await until(async () => (await owned(created.metadata.uid)).length === 3, 30_000);
    expect(
      (await s.api.service.get(T('Pod'), 'default', old?.metadata.name ?? '')).metadata.ownerReferences ?? [],
    ).toEqual([]);
  });

  it('refuses what Kubernetes refuses, naming the field', async () => {
    const causes = async (body: unknown) => {
      const e = await s.api.service.create(T('ReplicationController'), 'default', body).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(StatusError);
      expect((e as StatusError).code).toBe(422);
      const out = ((e as StatusError).toStatus().details?.causes ?? []).map((c) => `${c.field}: ${c.message}`);
      return out;
    };
    expect(await causes(rc('mismatch', { selector: { app: 'a' }, template: template({ app: 'b' }) }))).toContain(
      'spec.template.metadata.labels: Invalid value: {"app":"b"}: `selector` does not match template `labels`',
    );
    expect(await causes(rc('never', { template: template({ app: 'n' }, { restartPolicy: 'Never' }) }))).toContain(
      'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"',
    );
    expect(await causes(rc('nolabels', { template: template({}) }))).toContain('spec.selector: Required value');
    expect(await causes(rc('deadline', { template: template({ app: 'd' }, { activeDeadlineSeconds: 10 }) }))).toContain(
      'spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not Supported',
    );
  });
});
