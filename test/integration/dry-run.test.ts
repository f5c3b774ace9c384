import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath } from '../support/kubectl.js';
import { makeConfigMap, makePod } from '../support/fixtures.js';

/**
 * dryRun=All on every verb (issue 21), as the kube-apiserver's DryRunnableStorage: validated, admitted
 * and defaulted, answered with what would be stored, and nothing written; what `kubectl diff` and
 * `kubectl apply --dry-run=server` rely on.
 */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const CM = '/api/v1/namespaces/default/configmaps';
const SVC = '/api/v1/namespaces/default/services';
const PODS = '/api/v1/namespaces/default/pods';

describe('dryRun=All', () => {
  it('create answers the object it would store and stores nothing', async () => {
    const r = await api.call('POST', `${CM}?dryRun=All`, makeConfigMap('dry'));
    expect(r.status).toBe(201);
    expect(r.body.metadata.uid).toBeTruthy();
    expect(r.body.metadata.creationTimestamp).toBeTruthy();
    expect(r.body.metadata.resourceVersion).toBeUndefined();
    expect((await api.call('GET', `${CM}/dry`)).status).toBe(404);
    // The real create's checks still answer: a bad object is 422, a taken name 409.
    expect((await api.call('POST', `${CM}?dryRun=All`, { metadata: { name: 'Bad_Name' } })).status).toBe(422);
    await api.call('POST', CM, makeConfigMap('taken'));
    expect((await api.call('POST', `${CM}?dryRun=All`, makeConfigMap('taken'))).status).toBe(409);
  });

  it('a Service shows the address it would get, and none is taken', async () => {
    const r = await api.call('POST', `${SVC}?dryRun=All`, {
      metadata: { name: 'dry-svc' },
      spec: { selector: { app: 'x' }, ports: [{ port: 80 }], type: 'NodePort' },
    });
    expect(r.status).toBe(201);
    expect(r.body.spec.clusterIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(r.body.spec.ports[0].nodePort).toBeGreaterThan(0);
    const ips = (await api.call('GET', '/apis/networking.k8s.io/v1/ipaddresses')).body.items.map(
      (i: any) => i.metadata.name,
    );
    expect(ips).not.toContain(r.body.spec.clusterIP);
    expect((await api.call('GET', `${SVC}/dry-svc`)).status).toBe(404);
  });

  it('update, patch and delete answer what they would do and change nothing', async () => {
    const before = (await api.call('GET', `${CM}/taken`)).body;
    const put = await api.call('PUT', `${CM}/taken?dryRun=All`, { ...before, data: { k: 'put' } });
    expect(put.status).toBe(200);
    expect(put.body.data).toEqual({ k: 'put' });
    expect(put.body.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    const patch = await api.call(
      'PATCH',
      `${CM}/taken?dryRun=All`,
      { data: { k: 'patched' } },
      'application/merge-patch+json',
    );
    expect(patch.status).toBe(200);
    expect(patch.body.data).toMatchObject({ k: 'patched' });
    const del = await api.call('DELETE', `${CM}/taken?dryRun=All`);
    expect(del.status).toBe(200);
    const del2 = await api.call('DELETE', `${CM}/taken`, { dryRun: ['All'] });
    expect(del2.status).toBe(200);
    expect((await api.call('GET', `${CM}/taken`)).body).toEqual(before);
    // A stale version is a conflict in a dry run as in a real one.
    const stale = await api.call('PUT', `${CM}/taken?dryRun=All`, {
      ...before,
      metadata: { ...before.metadata, resourceVersion: '1' },
    });
    expect(stale.status).toBe(409);
  });

  it('an eviction in a dry run deletes nothing', async () => {
    await api.call('POST', PODS, makePod().named('dry-evict').build());
    const r = await api.call('POST', `${PODS}/dry-evict/eviction`, {
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'dry-evict' },
      deleteOptions: { dryRun: ['All'] },
    });
    expect(r.status).toBe(201);
    expect((await api.call('GET', `${PODS}/dry-evict`)).status).toBe(200);
  });

  it('refuses any value but All as the kube-apiserver does', async () => {
    const r = await api.call('POST', `${CM}?dryRun=Some`, makeConfigMap('never'));
    expect(r.status).toBe(422);
    expect(r.body).toMatchObject({
      reason: 'Invalid',
      message: 'CreateOptions.meta.k8s.io "" is invalid: dryRun: Unsupported value: "Some": supported values: "All"',
      details: { group: 'meta.k8s.io', kind: 'CreateOptions' },
    });
    expect((await api.call('GET', `${CM}/never`)).status).toBe(404);
    // A body's dryRun that is not a list is refused, never read as a real delete.
    await api.call('POST', CM, makeConfigMap('kept-cm'));
    expect((await api.call('DELETE', `${CM}/kept-cm`, { dryRun: 'All' })).status).toBe(400);
    expect((await api.call('GET', `${CM}/kept-cm`)).status).toBe(200);
  });

  it.skipIf(!kubectlPath)(
    'kubectl diff shows a change without making it, and apply --dry-run=server changes nothing',
    async () => {
      const kubectl = kubectlFor(api.url);
      const dir = mkdtempSync(join(tmpdir(), 'kumo-dry-'));
      const file = join(dir, 'cm.yaml');
      writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  level: one\n');
      await kubectl.ok('apply', '-f', file);
      writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: diffed\ndata:\n  level: two\n');
      const diff = await kubectl.run('diff', '-f', file);
      expect(diff.code, diff.err).toBe(1); // kubectl diff: 1 means "differences found"
      expect(diff.out).toMatch(/^-\s+level: one$/m);
      expect(diff.out).toMatch(/^\+\s+level: two$/m);
      expect((await kubectl.ok('apply', '--server-side', '--dry-run=server', '-f', file)).trim()).toBe(
        'configmap/diffed serverside-applied (server dry run)',
      );
      expect((await api.call('GET', `${CM}/diffed`)).body.data).toEqual({ level: 'one' });
    },
  );
});
