import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigMap, makeDeployment, makePod } from '../support/fixtures.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { k8sEnvelope, pbField, pbMessage } from '../support/protobuf.js';

/** Kubernetes REST semantics, through the real handler over HTTP on DynamoDB Local. */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const D = '/apis/apps/v1/namespaces/default/deployments';
const CM = '/api/v1/namespaces/default/configmaps';
const PODS = '/api/v1/namespaces/default/pods';
const PROTOBUF = 'application/vnd.kubernetes.protobuf';
const example = (file: string) => readFileSync(new URL(`../../examples/${file}`, import.meta.url), 'utf8');

describe('the quick-start path', () => {
  it('creates from YAML (201 with server fields), reads it back, refuses a stale PUT (409) and an invalid manifest (422 naming the field)', async () => {
    const created = await api.call('POST', D, example('web-deployment.yaml'), 'application/yaml');
    expect(created.status).toBe(201);
    expect(created.body.metadata).toMatchObject({ name: 'web', namespace: 'default', generation: 1 });
    expect(created.body.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.body.metadata.resourceVersion).toMatch(/^\d+$/);
    expect(Date.parse(created.body.metadata.creationTimestamp)).toBeGreaterThan(0);
    expect(created.body.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' },
    });

    const got = await api.call('GET', `${D}/web`);
    expect(got.status).toBe(200);
    expect(got.body).toEqual(created.body);

    const fresh = { ...got.body, spec: { ...got.body.spec, replicas: 4 } };
    expect((await api.call('PUT', `${D}/web`, fresh)).status).toBe(200);
    const stale = await api.call('PUT', `${D}/web`, { ...fresh, spec: { ...fresh.spec, replicas: 5 } });
    expect(stale.status).toBe(409);
    expect(stale.body).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });

    const invalid = await api.call('POST', D, example('invalid-deployment.yaml'), 'application/yaml');
    expect(invalid.status).toBe(422);
    expect(invalid.body.reason).toBe('Invalid');
    expect(invalid.body.details.causes.map((c: any) => c.field)).toEqual([
      'metadata.name',
      'spec.template.spec.containers[0].image',
    ]);
  });
});

describe('errors are Status objects with the right code, and nothing is half-written', () => {
  it.each<[string, string, string, string | undefined, string | undefined, number, string]>([
    ['undecodable JSON', 'POST', D, '{"kind": ', 'application/json', 400, 'BadRequest'],
    ['undecodable YAML', 'POST', D, 'kind: [unclosed', 'application/yaml', 400, 'BadRequest'],
    ['a JSON array where an object belongs', 'POST', D, '[1,2]', 'application/json', 400, 'BadRequest'],
    ['an unknown media type', 'POST', D, 'name=web', 'application/x-www-form-urlencoded', 415, 'UnsupportedMediaType'],
    ['a missing object', 'GET', `${D}/nope`, undefined, undefined, 404, 'NotFound'],
    ['an unknown resource', 'GET', '/api/v1/namespaces/default/widgets', undefined, undefined, 404, 'NotFound'],
    [
      'a missing namespace',
      'POST',
      '/api/v1/namespaces/nope/configmaps',
      JSON.stringify(makeConfigMap('c', 'nope')),
      'application/json',
      404,
      'NotFound',
    ],
    ['a method the collection lacks', 'PUT', D, '{}', 'application/json', 405, 'MethodNotAllowed'],
    [
      'an unknown patch type',
      'PATCH',
      `${D}/web`,
      '{}',
      'application/vnd.example.patch+json',
      415,
      'UnsupportedMediaType',
    ],
    ['exec, which needs a streaming upgrade', 'POST', `${PODS}/p/exec`, undefined, undefined, 405, 'MethodNotAllowed'],
    ['a bad label selector', 'GET', `${CM}?labelSelector=app%20in%20web`, undefined, undefined, 400, 'BadRequest'],
    [
      'an unsupported field selector',
      'GET',
      `${CM}?fieldSelector=spec.nodeName%3Dn1`,
      undefined,
      undefined,
      400,
      'BadRequest',
    ],
  ])('%s → %i', async (_what, method, path, body, contentType, code, reason) => {
    const res = await api.call(method, path, body, contentType);
    expect(res.status).toBe(code);
    expect(res.body).toMatchObject({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason });
    expect(res.body.message).toBeTruthy();
  });

  it('names the missing namespace like Kubernetes', async () => {
    const res = await api.call('POST', '/api/v1/namespaces/nope/configmaps', makeConfigMap('c', 'nope'));
    expect(res.body.message).toBe('namespaces "nope" not found');
  });

  it('refuses a body over 3 MiB with 413 and an object over the item limit with 413, writing nothing', async () => {
    const huge = await api.call('POST', CM, {
      ...makeConfigMap('huge'),
      data: { blob: 'x'.repeat(3 * 1024 * 1024 + 1) },
    });
    expect(huge.status).toBe(413);
    const big = await api.call('POST', CM, { ...makeConfigMap('big'), data: { blob: 'x'.repeat(500 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.reason).toBe('RequestEntityTooLarge');
    expect((await api.call('GET', `${CM}/big`)).status).toBe(404);
    expect((await api.call('GET', `${CM}/huge`)).status).toBe(404);
  });

  it('never stores a rejected update', async () => {
    const cm = (await api.call('POST', CM, makeConfigMap('keep'))).body;
    const bad = await api.call('PUT', `${CM}/keep`, { ...cm, data: { 'bad/key': 'v' } });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes[0].field).toBe('data.bad/key');
    expect((await api.call('GET', `${CM}/keep`)).body).toEqual(cm);
  });
});

describe('server-owned fields and the status subresource', () => {
  it('ignores a client-supplied uid, resourceVersion, creationTimestamp and status on create', async () => {
    const body = makePod()
      .named('owned')
      .with((o) => {
        Object.assign(o.metadata, {
          uid: 'forged',
          resourceVersion: '7',
          creationTimestamp: '2000-01-01T00:00:00Z',
          generation: 40,
        });
        o.status = { phase: 'Running', podIP: '10.0.0.1' };
      })
      .build();
    const res = await api.call('POST', PODS, body);
    expect(res.status).toBe(201);
    expect(res.body.metadata.uid).not.toBe('forged');
    expect(res.body.metadata.resourceVersion).not.toBe('7');
    expect(res.body.metadata.generation).toBe(1);
    expect(res.body.metadata.creationTimestamp).not.toBe('2000-01-01T00:00:00Z');
    expect(res.body.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('writes status only through /status, and spec only through the main path', async () => {
    const created = (await api.call('POST', D, makeDeployment('st'))).body;
    const viaMain = await api.call('PATCH', `${D}/st`, { status: { replicas: 9 } }, 'application/merge-patch+json');
    expect(viaMain.status).toBe(200);
    expect(viaMain.body.status).toEqual({});
    expect(viaMain.body.metadata.resourceVersion).toBe(created.metadata.resourceVersion); // a no-op costs no write

    const viaStatus = await api.call('PUT', `${D}/st/status`, {
      ...created,
      spec: { ...created.spec, replicas: 7 },
      status: { replicas: 2, observedGeneration: 1 },
    });
    expect(viaStatus.status).toBe(200);
    expect(viaStatus.body.status).toEqual({ replicas: 2, observedGeneration: 1 });
    expect(viaStatus.body.spec.replicas).toBe(2);
    expect(viaStatus.body.metadata.generation).toBe(1);
    const patched = await api.call(
      'PATCH',
      `${D}/st/status`,
      { status: { readyReplicas: 1 } },
      'application/merge-patch+json',
    );
    expect(patched.body.status).toEqual({ replicas: 2, observedGeneration: 1, readyReplicas: 1 });
  });
});

describe('patch', () => {
  it('applies merge patches and JSON patches, bumping generation on spec changes', async () => {
    await api.call('POST', D, makeDeployment('p'));
    const merged = await api.call(
      'PATCH',
      `${D}/p`,
      { spec: { replicas: 6 }, metadata: { labels: { tier: 'front' } } },
      'application/merge-patch+json',
    );
    expect(merged.status).toBe(200);
    expect(merged.body.spec.replicas).toBe(6);
    expect(merged.body.metadata.labels).toEqual({ app: 'p', tier: 'front' });
    expect(merged.body.metadata.generation).toBe(2);
    const jsonPatched = await api.call(
      'PATCH',
      `${D}/p`,
      [
        { op: 'test', path: '/spec/replicas', value: 6 },
        { op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'busybox:1.37' },
      ],
      'application/json-patch+json',
    );
    expect(jsonPatched.status).toBe(200);
    expect(jsonPatched.body.spec.template.spec.containers[0].image).toBe('busybox:1.37');
    expect(jsonPatched.body.metadata.generation).toBe(3);
    const failedTest = await api.call(
      'PATCH',
      `${D}/p`,
      [{ op: 'test', path: '/spec/replicas', value: 1 }],
      'application/json-patch+json',
    );
    expect(failedTest.status).toBe(422);
  });

  it('treats a resourceVersion inside a patch as a precondition', async () => {
    const res = await api.call(
      'PATCH',
      `${D}/p`,
      { metadata: { resourceVersion: '1' }, spec: { replicas: 1 } },
      'application/merge-patch+json',
    );
    expect(res.status).toBe(409);
  });

  it('validates the patched result', async () => {
    const res = await api.call('PATCH', `${D}/p`, { spec: { replicas: -2 } }, 'application/merge-patch+json');
    expect(res.status).toBe(422);
    expect(res.body.details.causes[0].field).toBe('spec.replicas');
  });
});

describe('scale subresource', () => {
  it('reads and patches replicas as autoscaling/v1 Scale, as kubectl scale does', async () => {
    await api.call('POST', D, makeDeployment('sc'));
    const scale = await api.call('GET', `${D}/sc/scale`);
    expect(scale.body).toMatchObject({
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      spec: { replicas: 2 },
      status: { selector: 'app=sc' },
    });
    const patched = await api.call('PATCH', `${D}/sc/scale`, { spec: { replicas: 3 } }, 'application/merge-patch+json');
    expect(patched.status).toBe(200);
    expect(patched.body.spec.replicas).toBe(3);
    expect((await api.call('GET', `${D}/sc`)).body.spec.replicas).toBe(3);
  });
});

describe('list selectors', () => {
  it('filters by label and field selectors', async () => {
    await api.call('POST', '/api/v1/namespaces', { metadata: { name: 'sel' } });
    const pods = '/api/v1/namespaces/sel/pods';
    await api.call(
      'POST',
      pods,
      makePod()
        .named('a')
        .inNamespace('sel')
        .with((o) => (o.metadata.labels = { app: 'web', tier: 'front' }))
        .build(),
    );
    await api.call(
      'POST',
      pods,
      makePod()
        .named('b')
        .inNamespace('sel')
        .with((o) => (o.metadata.labels = { app: 'web', tier: 'back' }))
        .build(),
    );
    await api.call(
      'POST',
      pods,
      makePod()
        .named('c')
        .inNamespace('sel')
        .with((o) => (o.metadata.labels = { app: 'db' }))
        .build(),
    );
    const names = async (q: string) =>
      (await api.call('GET', `${pods}?${q}`)).body.items.map((p: any) => p.metadata.name);
    expect(await names('labelSelector=app%3Dweb')).toEqual(['a', 'b']);
    expect(await names('labelSelector=app%3Dweb%2Ctier!%3Dfront')).toEqual(['b']);
    expect(await names('labelSelector=tier%20in%20(front%2Cback)')).toEqual(['a', 'b']);
    expect(await names('labelSelector=!tier')).toEqual(['c']);
    expect(await names('fieldSelector=metadata.name%3Dc')).toEqual(['c']);
    expect(await names('fieldSelector=status.phase%3DPending%2Cmetadata.name!%3Da')).toEqual(['b', 'c']);
    expect(await names('fieldSelector=spec.nodeName%3Dn9')).toEqual([]);
    const list = await api.call('GET', pods);
    expect(list.body).toMatchObject({
      kind: 'PodList',
      apiVersion: 'v1',
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
    });
  });
});

describe('delete', () => {
  it('deletes, then answers 404', async () => {
    await api.call('POST', CM, makeConfigMap('gone'));
    const del = await api.call('DELETE', `${CM}/gone`);
    expect(del.status).toBe(200);
    expect(del.body).toMatchObject({
      kind: 'Status',
      status: 'Success',
      details: { name: 'gone', kind: 'configmaps' },
    });
    expect((await api.call('GET', `${CM}/gone`)).status).toBe(404);
    expect((await api.call('DELETE', `${CM}/gone`)).status).toBe(404);
  });

  it('honours preconditions', async () => {
    await api.call('POST', CM, makeConfigMap('pre'));
    const res = await api.call('DELETE', `${CM}/pre`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { resourceVersion: '1' },
    });
    expect(res.status).toBe(409);
    expect((await api.call('GET', `${CM}/pre`)).status).toBe(200);
  });

  it('takes DeleteOptions sent as protobuf, as typed clients send them (kubectl drain without evictions)', async () => {
    await api.call('POST', CM, makeConfigMap('pb'));
    const stale = k8sEnvelope('v1', 'DeleteOptions', pbMessage(pbField(2, pbMessage(pbField(2, '1')))));
    expect((await api.call('DELETE', `${CM}/pb`, stale, PROTOBUF)).status).toBe(409);
    const rv = (await api.call('GET', `${CM}/pb`)).body.metadata.resourceVersion;
    const current = k8sEnvelope('v1', 'DeleteOptions', pbMessage(pbField(2, pbMessage(pbField(2, rv)))));
    expect((await api.call('DELETE', `${CM}/pb`, current, PROTOBUF)).status).toBe(200);
    expect((await api.call('GET', `${CM}/pb`)).status).toBe(404);
  });

  it('evicts a pod through pods/eviction (what kubectl drain posts): a graceful delete answered with 201 Success', async () => {
    const resources = (await api.call('GET', '/api/v1')).body.resources as { name: string }[];
    expect(resources).toContainEqual(
      expect.objectContaining({
        name: 'pods/eviction',
        kind: 'Eviction',
        group: 'policy',
        version: 'v1',
        verbs: ['create'],
      }),
    );
    const eviction = (name: string, deleteOptions?: object) => ({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name, namespace: 'default' },
      ...(deleteOptions ? { deleteOptions } : {}),
    });
    // A pod on a node is deleted gracefully, with the eviction's grace period.
    await api.call('POST', PODS, makePod().named('evicted').onNode('node-1').build());
    const res = await api.call('POST', `${PODS}/evicted/eviction`, eviction('evicted', { gracePeriodSeconds: 20 }));
    expect(res.status).toBe(201);
    expect(res.body).toEqual({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    expect((await api.call('GET', `${PODS}/evicted`)).body.metadata).toMatchObject({
      deletionTimestamp: expect.any(String),
      deletionGracePeriodSeconds: 20,
    });
    // A pod no node runs yet goes at once; the same eviction as protobuf.
    await api.call('POST', PODS, makePod().named('unbound').build());
    const pb = k8sEnvelope(
      'policy/v1',
      'Eviction',
      pbMessage(pbField(1, pbMessage(pbField(1, 'unbound'), pbField(3, 'default')))),
    );
    expect((await api.call('POST', `${PODS}/unbound/eviction`, pb, PROTOBUF)).status).toBe(201);
    expect((await api.call('GET', `${PODS}/unbound`)).status).toBe(404);
    // Mistakes are refused: another pod's name, no such pod, a GET.
    await api.call('POST', PODS, makePod().named('kept').build());
    expect((await api.call('POST', `${PODS}/kept/eviction`, eviction('other'))).body).toMatchObject({
      code: 400,
      message: 'name in URL does not match name in Eviction object',
    });
    expect((await api.call('POST', `${PODS}/missing/eviction`, eviction('missing'))).status).toBe(404);
    // A dry run answers as the eviction would and deletes nothing.
    expect((await api.call('POST', `${PODS}/kept/eviction`, eviction('kept', { dryRun: ['All'] }))).status).toBe(201);
    expect((await api.call('GET', `${PODS}/kept/eviction`)).status).toBe(405);
    expect((await api.call('GET', `${PODS}/kept`)).body.metadata.deletionTimestamp).toBeUndefined();
  });

  it('waits for finalizers: the object stays with a deletionTimestamp until the last one is removed', async () => {
    await api.call('POST', CM, {
      ...makeConfigMap('fin'),
      metadata: { name: 'fin', finalizers: ['example.com/hold'] },
    });
    const del = await api.call('DELETE', `${CM}/fin`);
    expect(del.status).toBe(200);
    expect(del.body.metadata.deletionTimestamp).toBeTruthy();
    expect((await api.call('GET', `${CM}/fin`)).body.metadata.deletionTimestamp).toBeTruthy();
    const released = await api.call(
      'PATCH',
      `${CM}/fin`,
      { metadata: { finalizers: null } },
      'application/merge-patch+json',
    );
    expect(released.status).toBe(200);
    expect((await api.call('GET', `${CM}/fin`)).status).toBe(404);
  });

  it('deletes a collection by selector (deletecollection), one page with a limit, answering the objects as listed', async () => {
    for (const [name, tier] of [
      ['dc-a', 'cache'],
      ['dc-b', 'cache'],
      ['dc-c', 'web'],
    ] as const)
      await api.call('POST', CM, { ...makeConfigMap(name), metadata: { name, labels: { tier } } });
    await api.call('POST', CM, {
      ...makeConfigMap('dc-held'),
      metadata: { name: 'dc-held', labels: { tier: 'cache' }, finalizers: ['example.com/hold'] },
    });
    const r = await api.call('DELETE', `${CM}?labelSelector=tier%3Dcache`);
    expect(r.status).toBe(200);
    expect(r.body.kind).toBe('ConfigMapList');
    expect(r.body.items.map((o: any) => o.metadata.name)).toEqual(['dc-a', 'dc-b', 'dc-held']);
    // The answer lists them as they were listed; the one with a finalizer stays, marked, as its own DELETE leaves it.
    expect((await api.call('GET', `${CM}/dc-held`)).body.metadata.deletionTimestamp).toBeTruthy();
    const left = (await api.call('GET', `${CM}?labelSelector=tier`)).body.items.map((o: any) => o.metadata.name);
    expect(left.sort()).toEqual(['dc-c', 'dc-held']);
    await api.call('PATCH', `${CM}/dc-held`, { metadata: { finalizers: null } }, 'application/merge-patch+json');
    // Discovery lists the verb (kubectl and the Python client's delete_collection rely on it); namespaces have none.
    const core = (await api.call('GET', '/api/v1')).body.resources;
    expect(core.find((x: any) => x.name === 'configmaps').verbs).toContain('deletecollection');
    expect(core.find((x: any) => x.name === 'namespaces').verbs).not.toContain('deletecollection');
    expect((await api.call('DELETE', '/api/v1/namespaces')).status).toBe(405);
    // With a limit, one page goes and the answer carries where to continue (Store.DeleteCollection lists with the options).
    for (const name of ['dc-p1', 'dc-p2', 'dc-p3'])
      await api.call('POST', CM, { ...makeConfigMap(name), metadata: { name, labels: { tier: 'paged' } } });
    const page = await api.call('DELETE', `${CM}?labelSelector=tier%3Dpaged&limit=2`);
    expect(page.body.items.map((o: any) => o.metadata.name)).toEqual(['dc-p1', 'dc-p2']);
    expect(page.body.metadata.continue).toBeTruthy();
    const rest = (await api.call('GET', `${CM}?labelSelector=tier%3Dpaged`)).body.items.map(
      (o: any) => o.metadata.name,
    );
    expect(rest).toEqual(['dc-p3']);
  });

  it('deletes an empty namespace at once (its default ServiceAccount with it); a namespace with content goes Terminating and refuses new objects', async () => {
    await api.call('POST', '/api/v1/namespaces', { metadata: { name: 'empty' } });
    expect((await api.call('DELETE', '/api/v1/namespaces/empty')).status).toBe(200);
    expect((await api.call('GET', '/api/v1/namespaces/empty')).status).toBe(404);
    expect((await api.call('GET', '/api/v1/namespaces/empty/serviceaccounts/default')).status).toBe(404);

    await api.call('POST', '/api/v1/namespaces', { metadata: { name: 'busy' } });
    await api.call('POST', '/api/v1/namespaces/busy/configmaps', makeConfigMap('x', 'busy'));
    const del = await api.call('DELETE', '/api/v1/namespaces/busy');
    expect(del.body.status.phase).toBe('Terminating');
    const refused = await api.call('POST', '/api/v1/namespaces/busy/configmaps', makeConfigMap('y', 'busy'));
    expect(refused.status).toBe(403);
    expect((await api.call('DELETE', '/api/v1/namespaces/default')).status).toBe(403);
  });
});

describe('bulk apply of a multi-document manifest', () => {
  const manifest = (ns: string, extra = '') => `
apiVersion: v1
kind: Namespace
metadata: { name: ${ns} }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: settings, namespace: ${ns} }
data: { mode: fast }
---
${example('web-deployment.yaml').replace('name: web\n', `name: web\n  namespace: ${ns}\n`)}
${extra}`;

  it('creates each object, then reports unchanged and configured on the next runs', async () => {
    const first = await api.call('POST', '/kumo/v1/apply', manifest('bulk1'), 'application/yaml');
    expect(first.status).toBe(200);
    expect(first.body.results.map((r: any) => `${r.kind}/${r.name}:${r.action}`)).toEqual([
      'Namespace/bulk1:created',
      'ConfigMap/settings:created',
      'Deployment/web:created',
    ]);
    const again = await api.call('POST', '/kumo/v1/apply', manifest('bulk1'), 'application/yaml');
    expect(again.body.results.map((r: any) => r.action)).toEqual(['unchanged', 'unchanged', 'unchanged']);
    const changed = await api.call(
      'POST',
      '/kumo/v1/apply',
      manifest('bulk1').replace('mode: fast', 'mode: slow'),
      'application/yaml',
    );
    expect(changed.body.results.map((r: any) => r.action)).toEqual(['unchanged', 'configured', 'unchanged']);
  });

  const bad = '---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: Not_Valid }\n';

  it('without atomic, applies what it can and reports the rest (207)', async () => {
    const res = await api.call('POST', '/kumo/v1/apply', manifest('bulk2', bad), 'application/yaml');
    expect(res.status).toBe(207);
    expect(res.body.results.map((r: any) => r.action)).toEqual(['created', 'created', 'created', 'failed']);
    expect(res.body.results[3].status.details.causes[0].field).toBe('metadata.name');
    expect((await api.call('GET', '/api/v1/namespaces/bulk2/configmaps/settings')).status).toBe(200);
  });

  it('with atomic, writes nothing when one object is bad', async () => {
    const res = await api.call('POST', '/kumo/v1/apply?atomic=true', manifest('bulk3', bad), 'application/yaml');
    expect(res.status).toBe(422);
    expect(res.body.results.map((r: any) => r.action)).toEqual(['skipped', 'skipped', 'skipped', 'failed']);
    expect((await api.call('GET', '/api/v1/namespaces/bulk3')).status).toBe(404);
    expect((await api.call('GET', '/apis/apps/v1/namespaces/bulk3/deployments/web')).status).toBe(404);
  });

  it('with atomic, lands the whole file in one transaction', async () => {
    const res = await api.call('POST', '/kumo/v1/apply?atomic=true', manifest('bulk4'), 'application/yaml');
    expect(res.status).toBe(200);
    expect(res.body.results.every((r: any) => r.action === 'created' && r.object.metadata.uid)).toBe(true);
    expect((await api.call('GET', '/apis/apps/v1/namespaces/bulk4/deployments/web')).status).toBe(200);
  });

  it('reports an unknown kind per object', async () => {
    const res = await api.call(
      'POST',
      '/kumo/v1/apply?atomic=true',
      'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: w }\n',
      'application/yaml',
    );
    expect(res.status).toBe(404);
    expect(res.body.results[0].status.message).toBe('no matches for kind "Widget" in version "example.com/v1"');
  });
});

describe('error bodies as the kube-apiserver writes them', () => {
  it('a core kind carries no group, and JSON bodies end with a newline (clients compare them byte for byte)', async () => {
    const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps/nope`);
    expect(res.status).toBe(404);
    expect(await res.text()).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"nope\\" not found","reason":"NotFound","details":{"name":"nope","kind":"configmaps"},"code":404}\n',
    );
    // A name that is not a string is refused with 422 naming it (the fuzzer's {"toString":[]} made the message a 500).
    const odd = await api.call('POST', '/apis/apps/v1/namespaces/default/replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: { toString: [] } },
      spec: {
        selector: { matchLabels: { a: 'b' } },
        template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    });
    expect(odd.status).toBe(422);
    expect(odd.body.details.causes.map((c: any) => c.field)).toContain('metadata.name');
    const apps = await fetch(`${api.url}/apis/apps/v1/namespaces/default/deployments/nope`);
    expect(JSON.parse(await apps.text()).details).toEqual({ name: 'nope', group: 'apps', kind: 'deployments' });
  });
});

describe('discovery and content negotiation', () => {
  it('serves /version and the legacy discovery documents', async () => {
    expect((await api.call('GET', '/version')).body).toMatchObject({ major: '1', minor: '32' });
    expect((await api.call('GET', '/api')).body).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const groups = (await api.call('GET', '/apis')).body.groups.map((g: any) => g.name);
    expect(groups).toEqual([
      'apps',
      'batch',
      'coordination.k8s.io',
      'scheduling.k8s.io',
      'networking.k8s.io',
      'discovery.k8s.io',
      'policy',
      'autoscaling',
      'storage.k8s.io',
      'rbac.authorization.k8s.io',
      'metrics.k8s.io',
      'authentication.k8s.io',
      'authorization.k8s.io',
    ]);
    // The access reviews: create only, nothing stored (`kubectl auth can-i` finds them here).
    expect((await api.call('GET', '/apis/authorization.k8s.io/v1')).body.resources).toContainEqual({
      name: 'selfsubjectaccessreviews',
      singularName: 'selfsubjectaccessreview',
      namespaced: false,
      kind: 'SelfSubjectAccessReview',
      verbs: ['create'],
    });
    // metrics-server's resources, as the kube-apiserver lists an aggregated APIService: get and list only.
    expect((await api.call('GET', '/apis/metrics.k8s.io/v1beta1')).body.resources).toEqual([
      { name: 'nodes', kind: 'NodeMetrics', namespaced: false, singularName: '', verbs: ['get', 'list'] },
      { name: 'pods', kind: 'PodMetrics', namespaced: true, singularName: '', verbs: ['get', 'list'] },
    ]);
    const apps = (await api.call('GET', '/apis/apps/v1')).body;
    expect(apps.resources.find((r: any) => r.name === 'deployments')).toMatchObject({
      kind: 'Deployment',
      namespaced: true,
      shortNames: ['deploy'],
      categories: ['all'],
    });
    expect(apps.resources.find((r: any) => r.name === 'deployments/scale')).toMatchObject({
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
    });
    expect(apps.resources.find((r: any) => r.name === 'statefulsets')).toMatchObject({
      kind: 'StatefulSet',
      namespaced: true,
      shortNames: ['sts'],
      categories: ['all'],
    });
    expect(apps.resources.map((r: any) => r.name)).toEqual(
      expect.arrayContaining(['statefulsets/status', 'statefulsets/scale', 'controllerrevisions', 'daemonsets']),
    );
  });

  it('answers in YAML when asked', async () => {
    await api.call('POST', D, makeDeployment('yaml-out'));
    const res = await fetch(`${api.url}${D}/yaml-out`, { headers: { accept: 'application/yaml' } });
    expect(res.headers.get('content-type')).toBe('application/yaml');
    expect(await res.text()).toMatch(/^apiVersion: apps\/v1\nkind: Deployment\n/);
  });
});

describe('fieldValidation', () => {
  const cm = (name: string) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, colour: 'blue' },
    data: { a: 'b' },
    dta: { c: 'd' },
  });
  const P = '/api/v1/namespaces/default/configmaps';

  it('Strict refuses unknown fields with 400 naming each, and writes nothing', async () => {
    const r = await api.call('POST', `${P}?fieldValidation=Strict`, cm('fv-strict'));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({
      kind: 'Status',
      reason: 'BadRequest',
      message:
        'ConfigMap in version "v1" cannot be handled as a ConfigMap: strict decoding error: unknown field "metadata.colour", unknown field "dta"',
    });
    expect((await api.call('GET', `${P}/fv-strict`)).status).toBe(404);
  });

  it('Warn (also the default) stores the object without them and says so in Warning headers; Ignore says nothing', async () => {
    for (const [name, query] of [
      ['fv-warn', '?fieldValidation=Warn'],
      ['fv-default', ''],
    ] as const) {
      const r = await api.call('POST', `${P}${query}`, cm(name));
      expect(r.status).toBe(201);
      expect(r.headers.get('warning')).toBe(
        '299 - "unknown field \\"metadata.colour\\"", 299 - "unknown field \\"dta\\""',
      );
      expect(r.body.dta).toBeUndefined();
      expect(r.body.metadata.colour).toBeUndefined();
      expect(r.body.data).toEqual({ a: 'b' });
    }
    const ignored = await api.call('POST', `${P}?fieldValidation=Ignore`, cm('fv-ignore'));
    expect(ignored.status).toBe(201);
    expect(ignored.headers.get('warning')).toBeNull();
    expect(ignored.body.dta).toBeUndefined();
    const patched = await api.call(
      'PATCH',
      `${P}/fv-ignore?fieldValidation=Strict`,
      { dataa: {} },
      'application/merge-patch+json',
    );
    expect(patched.status).toBe(400);
  });

  it('refuses an unknown fieldValidation value', async () => {
    const r = await api.call('POST', `${P}?fieldValidation=Loose`, cm('fv-bad'));
    expect(r.status).toBe(400);
    expect(r.body.message).toContain('fieldValidation: Unsupported value: "Loose"');
  });
});
