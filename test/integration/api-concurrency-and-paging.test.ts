import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigMap, makeDeployment } from '../support/fixtures.js';
import { startApi, type TestApi } from '../support/api-server.js';

/** The acceptance figures of the foundation issue, through the real handler over HTTP on DynamoDB Local. */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const DEPLOYMENTS = '/apis/apps/v1/namespaces/default/deployments';
const count = (codes: number[], code: number) => codes.filter((c) => c === code).length;

describe('optimistic concurrency over HTTP', () => {
  it('32 concurrent updates with the same resourceVersion: exactly 1 succeeds, 31 get 409 Conflict', async () => {
    const created = await api.call('POST', DEPLOYMENTS, makeDeployment('contended'));
    expect(created.status).toBe(201);
    const rv = created.body.metadata.resourceVersion;
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        api.call('PUT', `${DEPLOYMENTS}/contended`, {
          ...makeDeployment('contended', (d) => (d.spec.replicas = i + 3)),
          metadata: { name: 'contended', resourceVersion: rv, labels: { app: 'contended' } },
        }),
      ),
    );
    const codes = results.map((r) => r.status);
    expect(count(codes, 200)).toBe(1);
    expect(count(codes, 409)).toBe(31);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.reason === 'Conflict')).toBe(true);
    const winner = results.find((r) => r.status === 200)?.body;
    const now = await api.call('GET', `${DEPLOYMENTS}/contended`);
    expect(now.body.spec.replicas).toBe(winner.spec.replicas);
    expect(now.body.metadata.generation).toBe(2);
  });

  it('32 concurrent creates of one name: exactly 1 gets 201, 31 get 409 AlreadyExists', async () => {
    const results = await Promise.all(
      Array.from({ length: 32 }, () => api.call('POST', DEPLOYMENTS, makeDeployment('racer'))),
    );
    const codes = results.map((r) => r.status);
    expect(count(codes, 201)).toBe(1);
    expect(count(codes, 409)).toBe(31);
    expect(results.filter((r) => r.status === 409).every((r) => r.body.reason === 'AlreadyExists')).toBe(true);
  });
});

describe('paging', () => {
  const N = 1000;
  beforeAll(async () => {
    for (const ns of ['page-a', 'page-b', 'page-c'])
      expect((await api.call('POST', '/api/v1/namespaces', { metadata: { name: ns } })).status).toBe(201);
    const names = Array.from({ length: N }, (_, i) => `cm-${String(i).padStart(4, '0')}`);
    // Bounded parallelism: DynamoDB Local on two cores, not a load test.
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(
        names.slice(i, i + 50).map(async (name, j) => {
          const ns = ['page-a', 'page-b', 'page-c'][(i + j) % 3] as string;
          const res = await api.call(
            'POST',
            `/api/v1/namespaces/${ns}/configmaps`,
            makeConfigMap(name, ns, { parity: (i + j) % 2 ? 'odd' : 'even' }),
          );
          expect(res.status).toBe(201);
        }),
      );
    }
  });

  async function pageThrough(path: string, limit: number): Promise<{ keys: string[]; pages: number }> {
    const keys: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const res = await api.call(
        'GET',
        `${path}${sep}limit=${limit}${token ? `&continue=${encodeURIComponent(token)}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.items.length).toBeLessThanOrEqual(limit);
      keys.push(...res.body.items.map((o: any) => `${o.metadata.namespace}/${o.metadata.name}`));
      token = res.body.metadata.continue;
      pages++;
    } while (token);
    return { keys, pages };
  }

  it('returns each of 1,000 objects exactly once across all namespaces', async () => {
    const { keys, pages } = await pageThrough('/api/v1/configmaps', 97);
    // Every namespace also holds its kube-root-ca.crt, as in Kubernetes.
    const ours = keys.filter((k) => k.startsWith('page-') && !k.endsWith('/kube-root-ca.crt'));
    expect(ours).toHaveLength(N);
    expect(new Set(ours).size).toBe(N);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(N / 97));
  });

  it('returns each object once within a namespace, and with a label selector only the matching ones', async () => {
    const inA = await pageThrough('/api/v1/namespaces/page-a/configmaps', 50);
    expect(inA.keys).toContain('page-a/kube-root-ca.crt');
    expect(inA.keys).toHaveLength(335);
    expect(new Set(inA.keys).size).toBe(335);
    const odd = await pageThrough('/api/v1/configmaps?labelSelector=parity%3Dodd', 60);
    expect(odd.keys).toHaveLength(N / 2);
    expect(new Set(odd.keys).size).toBe(N / 2);
  });

  it('refuses a forged continue token with 400', async () => {
    const res = await api.call('GET', '/api/v1/configmaps?limit=5&continue=not-a-token');
    expect(res.status).toBe(400);
    expect(res.body.kind).toBe('Status');
  });
});
