import { beforeAll, describe, expect, it } from 'vitest';
import { handleApiRequest } from '../../shared/apiserver/http/handler.js';
import type { ObjectService } from '../../shared/apiserver/object-service.js';
import { makeDeployment } from '../support/fixtures.js';
import { freshStack, type TestStack } from '../support/stack.js';
import { T } from '../support/wait.js';

/**
 * `kubectl scale` patches the scale subresource without a resourceVersion: a status write that lands
 * between the server's read and its write must not fail it with 409 (it did, seen in a CI run while the
 * Deployment controller wrote status); a PUT of a stale Scale still answers 409.
 */
let s: TestStack;
beforeAll(async () => {
  s = await freshStack();
});

const D = '/apis/apps/v1/namespaces/default/deployments';
const call = (deps: TestStack['api'], method: string, path: string, body: unknown, contentType = 'application/json') =>
  handleApiRequest(
    {
      sourceIp: '127.0.0.1',
      method,
      path,
      query: new URLSearchParams(),
      headers: { 'content-type': contentType },
      body: JSON.stringify(body),
    },
    deps,
  );

describe('the scale subresource', () => {
  it('applies a patch although a status write landed after it was read; refuses a stale PUT', async () => {
    await s.api.service.create(T('Deployment'), 'default', makeDeployment('racy'));
    // A service whose first read is followed by a status write, as a controller's would land.
    const service = Object.create(s.api.service) as ObjectService;
    let raced = false;
    service.get = async (type, ns, name) => {
      const read = await s.api.service.get(type, ns, name);
      if (!raced) {
        raced = true;
        await s.api.service.patch(
          T('Deployment'),
          'default',
          'racy',
          'merge',
          { status: { observedGeneration: 1, replicas: 7 } },
          'status',
        );
      }
      return read;
    };
    const deps = { ...s.api, service };
    const patched = await call(
      deps,
      'PATCH',
      `${D}/racy/scale`,
      { spec: { replicas: 4 } },
      'application/merge-patch+json',
    );
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await s.api.service.get(T('Deployment'), 'default', 'racy')).spec?.replicas).toBe(4);
    const stale = JSON.parse((await call(s.api, 'GET', `${D}/racy/scale`, undefined)).body);
    await s.api.service.patch(T('Deployment'), 'default', 'racy', 'merge', { status: { replicas: 1 } }, 'status');
    const put = await call(s.api, 'PUT', `${D}/racy/scale`, { ...stale, spec: { replicas: 5 } });
    expect(put.statusCode).toBe(409);
  });
});
