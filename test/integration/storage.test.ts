import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_STORAGE_CLASS } from '../../local/setup.js';
import { podmanMissing, startPodman, type Podman } from '../../local/podman.js';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { until } from '../support/wait.js';

/**
 * Persistent storage end to end (issue 22) on two podman nodes: kumo.dev/local volumes made on the
 * node the first pod goes to (WaitForFirstConsumer), kept across pods, protected while in use,
 * deleted or retained with their claims; and a StatefulSet's claims from its volumeClaimTemplates.
 */
const missing = podmanMissing();
if (missing && process.env.CI) throw new Error(`the storage suite needs podman in CI: ${missing}`);
if (missing) console.warn(`storage suite skipped: ${missing}`);

let s: AgentStack;
let engine: Podman;
const ns = '/api/v1/namespaces/default';
const api = (method: string, path: string, body?: unknown) => s.call(method, path, body);
const create = async (path: string, body: unknown) => {
  const r = await api('POST', path, body);
  expect(r.status, r.text).toBe(201);
  return r.json;
};
const get = async (path: string) => (await api('GET', path)).json;
const claim = (name: string, storageClassName = 'local') => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name },
  spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage: '64Mi' } } },
});
/** A pod that prints what the volume holds, adds a line and stays. */
const writer = (name: string, claimName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    terminationGracePeriodSeconds: 1,
    containers: [
      {
        name: 'c',
        image: engine.image,
        imagePullPolicy: 'IfNotPresent',
        command: [
          'sh',
          '-c',
          'cat /data/note 2>/dev/null; echo "written by $(hostname)" >> /data/note; exec sleep 600',
        ],
        volumeMounts: [{ name: 'd', mountPath: '/data' }],
      },
    ],
    volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
  },
});
const running = async (name: string) => (await get(`${ns}/pods/${name}`))?.status?.phase === 'Running';
const logs = async (name: string) => (await api('GET', `${ns}/pods/${name}/log`)).text;
const deletePod = async (name: string) => {
  await api('DELETE', `${ns}/pods/${name}?gracePeriodSeconds=0`);
  await until(async () => (await api('GET', `${ns}/pods/${name}`)).status === 404, 30_000);
};
const reasons = async (kind: string, name: string) =>
  ((await get(`${ns}/events`)).items as any[])
    .filter((e) => e.involvedObject.kind === kind && e.involvedObject.name === name)
    .map((e) => e.reason);

beforeAll(async () => {
  if (missing) return;
  engine = await startPodman();
  s = await startAgentStack();
  for (const n of ['disk-node-1', 'disk-node-2'])
    await s.startAgent(n, { runtime: 'docker', dockerSocket: engine.socket, sandboxImage: engine.sandboxImage });
  await create('/apis/storage.k8s.io/v1/storageclasses', LOCAL_STORAGE_CLASS);
  await create('/apis/storage.k8s.io/v1/storageclasses', {
    ...LOCAL_STORAGE_CLASS,
    metadata: { name: 'local-retain' },
    reclaimPolicy: 'Retain',
  });
}, 180_000);
afterAll(async () => {
  await s?.close();
  await engine?.stop();
});

describe.skipIf(!!missing)('persistent volumes (podman)', () => {
  it('binds a WaitForFirstConsumer claim only once a pod is scheduled, and its files outlive the pod on the volume’s node', async () => {
    await create(`${ns}/persistentvolumeclaims`, claim('notes'));
    await until(async () => (await reasons('PersistentVolumeClaim', 'notes')).includes('WaitForFirstConsumer'));
    expect((await get(`${ns}/persistentvolumeclaims/notes`)).status.phase).toBe('Pending');

    await create(`${ns}/pods`, writer('first', 'notes'));
    await until(() => running('first'), 60_000);
    const bound = await get(`${ns}/persistentvolumeclaims/notes`);
    expect(bound.status).toMatchObject({
      phase: 'Bound',
      capacity: { storage: '64Mi' },
      accessModes: ['ReadWriteOnce'],
    });
    const pv = await get(`/api/v1/persistentvolumes/${bound.spec.volumeName}`);
    const node = (await get(`${ns}/pods/first`)).spec.nodeName;
    expect(bound.metadata.annotations['volume.kubernetes.io/selected-node']).toBe(node);
    expect(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values).toEqual([node]);
    expect(pv.spec.claimRef).toMatchObject({ namespace: 'default', name: 'notes', uid: bound.metadata.uid });
    expect(await reasons('PersistentVolumeClaim', 'notes')).toEqual(
      expect.arrayContaining(['Provisioning', 'ProvisioningSucceeded']),
    );
    await until(async () => (await logs('first')) === '', 10_000);

    await deletePod('first');
    await create(`${ns}/pods`, writer('second', 'notes'));
    await until(() => running('second'), 60_000);
    expect((await get(`${ns}/pods/second`)).spec.nodeName).toBe(node);
    await until(async () => (await logs('second')).includes('written by first'), 20_000);
    expect(readFileSync(join(pv.spec.local.path, 'note'), 'utf8')).toBe('written by first\nwritten by second\n');
  }, 180_000);

  it('keeps a claim in use until its pod is gone, then deletes the volume and its directory (reclaim policy Delete)', async () => {
    const bound = await get(`${ns}/persistentvolumeclaims/notes`);
    const pv = await get(`/api/v1/persistentvolumes/${bound.spec.volumeName}`);
    expect(pv.metadata.annotations['kumo.dev/local-volume-made']).toBe(
      pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0],
    );
    // Deleting a bound volume keeps it and its data while its claim is bound (pv-protection).
    expect((await api('DELETE', `/api/v1/persistentvolumes/${pv.metadata.name}`)).status).toBe(200);
    expect((await api('DELETE', `${ns}/persistentvolumeclaims/notes`)).status).toBe(200);
    // pvc-protection: the claim waits for the pod using it.
    await new Promise((r) => setTimeout(r, 2000));
    const held = await get(`${ns}/persistentvolumeclaims/notes`);
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    expect(held.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect(existsSync(pv.spec.local.path)).toBe(true);
    expect((await get(`/api/v1/persistentvolumes/${pv.metadata.name}`)).metadata.finalizers).toEqual([
      'kubernetes.io/pv-protection',
      'kumo.dev/local-volume-cleanup',
    ]);

    await deletePod('second');
    await until(async () => (await api('GET', `${ns}/persistentvolumeclaims/notes`)).status === 404, 30_000);
    await until(async () => (await api('GET', `/api/v1/persistentvolumes/${pv.metadata.name}`)).status === 404, 30_000);
    expect(existsSync(pv.spec.local.path)).toBe(false);
  }, 120_000);

  it('keeps the directory of a Retain volume, Released, after its claim is deleted', async () => {
    await create(`${ns}/persistentvolumeclaims`, claim('kept', 'local-retain'));
    await create(`${ns}/pods`, writer('keeper', 'kept'));
    await until(() => running('keeper'), 60_000);
    const volumeName = (await get(`${ns}/persistentvolumeclaims/kept`)).spec.volumeName;
    await deletePod('keeper');
    await api('DELETE', `${ns}/persistentvolumeclaims/kept`);
    await until(
      async () => (await get(`/api/v1/persistentvolumes/${volumeName}`)).status?.phase === 'Released',
      30_000,
    );
    const pv = await get(`/api/v1/persistentvolumes/${volumeName}`);
    expect(pv.spec.persistentVolumeReclaimPolicy).toBe('Retain');
    expect(readFileSync(join(pv.spec.local.path, 'note'), 'utf8')).toBe('written by keeper\n');
  }, 120_000);

  it('gives each StatefulSet ordinal its own claim, kept when the pod is deleted and brought back', async () => {
    await create('/apis/apps/v1/namespaces/default/statefulsets', {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        serviceName: 'web',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          // As charts write it: the containers mount the claim template by name, the pod lists no such volume.
          spec: { ...writer('x', 'unused').spec, volumes: [] },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: 'd' },
            spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '32Mi' } } },
          },
        ],
      },
    });
    await until(async () => (await running('web-0')) && (await running('web-1')), 180_000);
    const claims = ((await get(`${ns}/persistentvolumeclaims?labelSelector=app%3Dweb`)).items as any[])
      .map((c) => [c.metadata.name, c.status.phase])
      .sort();
    expect(claims).toEqual([
      ['d-web-0', 'Bound'],
      ['d-web-1', 'Bound'],
    ]);
    const before = await get(`${ns}/persistentvolumeclaims/d-web-1`);
    const uid = (await get(`${ns}/pods/web-1`)).metadata.uid;
    await api('DELETE', `${ns}/pods/web-1`);
    await until(async () => {
      const p = await get(`${ns}/pods/web-1`);
      return p?.metadata?.uid !== undefined && p.metadata.uid !== uid && p.status?.phase === 'Running';
    }, 90_000);
    const after = await get(`${ns}/persistentvolumeclaims/d-web-1`);
    expect(after.metadata.uid).toBe(before.metadata.uid);
    expect(after.spec.volumeName).toBe(before.spec.volumeName);
    expect((await get(`${ns}/pods/web-1`)).spec.volumes).toContainEqual({
      name: 'd',
      persistentVolumeClaim: { claimName: 'd-web-1' },
    });
    await until(async () => (await logs('web-1')).includes('written by web-1'), 20_000);
    // Pods start one by one (OrderedReady) and podman is slow when other suites use it: minutes, not seconds.
  }, 300_000);
});
