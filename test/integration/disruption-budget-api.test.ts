import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath } from '../support/kubectl.js';

/** PodDisruptionBudget through the real API handler over HTTP and kubectl: validation, protobuf create, columns. */
describe('PodDisruptionBudget through the HTTP API and kubectl', () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startApi();
  });
  afterAll(async () => api?.close());
  const PDB = '/apis/policy/v1/namespaces/default/poddisruptionbudgets';

  it('validates as Kubernetes does', async () => {
    const both = await api.call('POST', PDB, {
      metadata: { name: 'both' },
      spec: { minAvailable: 1, maxUnavailable: 1, selector: {} },
    });
    expect(both.status).toBe(422);
    expect(both.body.details.causes).toContainEqual(
      expect.objectContaining({
        field: 'spec',
        message: expect.stringContaining('minAvailable and maxUnavailable cannot be both set'),
      }),
    );
    const pct = await api.call('POST', PDB, { metadata: { name: 'pct' }, spec: { maxUnavailable: '150%' } });
    expect(pct.status).toBe(422);
    expect(pct.body.details.causes).toContainEqual(
      expect.objectContaining({
        field: 'spec.maxUnavailable',
        message: 'Invalid value: "150%": must not be greater than 100%',
      }),
    );
    const noValues = await api.call('POST', PDB, {
      metadata: { name: 'nv' },
      spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } },
    });
    expect(noValues.status).toBe(422);
    expect(noValues.body.details.causes).toContainEqual(
      expect.objectContaining({ field: 'spec.selector.matchExpressions[0].values' }),
    );
    const created = await api.call('POST', PDB, {
      metadata: { name: 'ok' },
      spec: { minAvailable: '50%', selector: { matchLabels: { app: 'x' } } },
    });
    expect(created.status).toBe(201);
    expect(created.body.status).toEqual({
      disruptionsAllowed: 0,
      currentHealthy: 0,
      desiredHealthy: 0,
      expectedPods: 0,
    });
  });

  it.skipIf(!kubectlPath)('kubectl create pdb (protobuf) and get pdb print Kubernetes columns', async () => {
    const kubectl = kubectlFor(api.url);
    expect((await kubectl.ok('create', 'pdb', 'web', '--selector=app=web', '--min-available=2')).trim()).toBe(
      'poddisruptionbudget.policy/web created',
    );
    const stored = (await api.call('GET', `${PDB}/web`)).body;
    expect(stored.spec).toEqual({ minAvailable: 2, selector: { matchLabels: { app: 'web' } } });
    const out = await kubectl.ok('get', 'pdb');
    expect(out.split('\n')[0]).toMatch(/^NAME\s+MIN AVAILABLE\s+MAX UNAVAILABLE\s+ALLOWED DISRUPTIONS\s+AGE$/);
    expect(out).toMatch(/^web\s+2\s+N\/A\s+0\s+\S+$/m);
  });
});
