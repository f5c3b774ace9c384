import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveLambda } from '../../local/lambda-http.js';
import { makeDeployment } from '../support/fixtures.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { request } from '../support/http.js';
import { T } from '../support/wait.js';

/**
 * int32/int64 fields carry Kubernetes' bounds (issue 16: one Deployment with replicas 2^31 was
 * accepted and made the controllers create pods without end), and a controller never acts on a spec
 * the API would refuse, even one stored before the bound existed.
 */
let s: EventPathStack;
let api: { url: string; close(): Promise<void> };
beforeAll(async () => {
  s = await startEventPathStack();
  process.env.KUMO_AUTH_MODE ??= 'dev-loopback';
  const { handler } = await import('../../functions/api.js');
  api = await serveLambda(handler);
});
afterAll(async () => {
  await api?.close();
  await s?.path.stop();
});

const D = '/apis/apps/v1/namespaces/default/deployments';
const JOBS = '/apis/batch/v1/namespaces/default/jobs';
const job = (name: string, spec: Record<string, unknown>) => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name },
  spec: { ...spec, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } } },
});
const causes = (body: any) => (body?.details?.causes ?? []).map((c: { field: string }) => c.field);

describe('integer bounds at admission', () => {
  it.each([
    ['replicas of 2^31', D, makeDeployment('big', (d) => (d.spec.replicas = 2 ** 31)), 'spec.replicas'],
    [
      'a negative int32 below -2^31 (terminationGracePeriodSeconds)',
      D,
      makeDeployment('neg', (d) => (d.spec.template.spec.terminationGracePeriodSeconds = -(2 ** 31) - 1)),
      'spec.template.spec.terminationGracePeriodSeconds',
    ],
    ['a Job parallelism of 2^31', JOBS, job('wide', { parallelism: 2 ** 31 }), 'spec.parallelism'],
    ['a Job completions of 2^40', JOBS, job('many', { completions: 2 ** 40 }), 'spec.completions'],
    [
      'an int64 past 2^53 (runAsUser)',
      D,
      makeDeployment('uid', (d) => (d.spec.template.spec.securityContext = { runAsUser: 2 ** 60 })),
      'spec.template.spec.securityContext.runAsUser',
    ],
    [
      'a string in an int64 (activeDeadlineSeconds)',
      JOBS,
      job('str', { activeDeadlineSeconds: '10' }),
      'spec.activeDeadlineSeconds',
    ],
  ])('refuses %s with 422 naming the field, and stores nothing', async (_, path, body, field) => {
    const res = await request(api.url, 'POST', path, { body });
    expect(res.status).toBe(422);
    expect(res.json).toMatchObject({ kind: 'Status', reason: 'Invalid', code: 422 });
    expect(causes(res.json)).toContain(field);
    const name = (body as { metadata: { name: string } }).metadata.name;
    expect((await request(api.url, 'GET', `${path}/${name}`)).status).toBe(404);
  });

  it('takes the largest int32, and refuses 2^31 through patch, PUT and the scale subresource', async () => {
    expect(
      (await request(api.url, 'POST', D, { body: makeDeployment('edge', (d) => (d.spec.replicas = 0)) })).status,
    ).toBe(201);
    const patched = await request(api.url, 'PATCH', `${D}/edge`, {
      body: { spec: { replicas: 2 ** 31 } },
      contentType: 'application/merge-patch+json',
    });
    expect(patched.status).toBe(422);
    expect(causes(patched.json)).toEqual(['spec.replicas']);
    const scaled = await request(api.url, 'PATCH', `${D}/edge/scale`, {
      body: { spec: { replicas: 2 ** 31 } },
      contentType: 'application/merge-patch+json',
    });
    expect(scaled.status).toBe(422);
    const current = (await request(api.url, 'GET', `${D}/edge`)).json;
    expect(current.spec.replicas).toBe(0);
    // Without a resourceVersion: a status write by the controller meanwhile would make it a 409 first.
    const put = await request(api.url, 'PUT', `${D}/edge`, {
      body: {
        ...current,
        metadata: { ...current.metadata, resourceVersion: undefined },
        spec: { ...current.spec, replicas: 2 ** 31 },
      },
    });
    expect(put.status).toBe(422);
    // 2^31 - 1 is an int32, and Kubernetes takes it (in a field that makes no pods).
    const max = await request(api.url, 'PATCH', `${D}/edge`, {
      body: { spec: { progressDeadlineSeconds: 2 ** 31 - 1 } },
      contentType: 'application/merge-patch+json',
    });
    expect(max.status).toBe(200);
    expect(max.json.spec.progressDeadlineSeconds).toBe(2 ** 31 - 1);
  });
});

describe('controllers and specs the API would refuse', () => {
  it('creates no pod for a Deployment, ReplicaSet or Job stored with an out-of-range count, and says why in a Warning Event', async () => {
    // Written to the store directly, as an object stored before the bound was enforced would be.
    const raw = (o: Record<string, any>) =>
      s.store.create({ ...o, metadata: { ...o.metadata, namespace: 'default', uid: randomUUID() } } as any);
    await raw(makeDeployment('old-big', (d) => (d.spec.replicas = 2 ** 31)));
    const rsTemplate = makeDeployment('old-rs').spec;
    await raw({
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'old-rs' },
      spec: { ...rsTemplate, replicas: 2 ** 33 },
    });
    await raw(job('old-job', { parallelism: 2 ** 31, completions: 2 ** 31 }));
    const events = async () =>
      (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=InvalidSpec' })).items;
    const deadline = Date.now() + 30_000;
    while ((await events()).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    await s.quiet();
    const about = (await events())
      .map((e: any) => `${e.involvedObject.kind}/${e.involvedObject.name}: ${e.message}`)
      .sort();
    expect(about).toEqual([
      expect.stringMatching(/^Deployment\/old-big: .*spec\.replicas: Invalid value: 2147483648/),
      expect.stringMatching(
        /^Job\/old-job: .*spec\.parallelism: Invalid value: 2147483648: .*spec\.completions: Invalid value: 2147483648/,
      ),
      expect.stringMatching(/^ReplicaSet\/old-rs: .*spec\.replicas: Invalid value: 8589934592/),
    ]);
    expect((await s.api.service.list(T('Pod'), 'default')).items).toEqual([]);
    expect(
      (await s.api.service.list(T('ReplicaSet'), 'default')).items.filter((r) => r.metadata.name.startsWith('old-big')),
    ).toEqual([]);
  });
});
