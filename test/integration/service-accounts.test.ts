import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath } from '../support/kubectl.js';

/**
 * ServiceAccounts as Kubernetes keeps them (issue 19, first part): every namespace has `default`, a pod
 * runs as `default` unless it names another account, a pod naming a missing account is refused with
 * the ServiceAccount admission plugin's message, and an account's imagePullSecrets reach its pods.
 */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => api?.close());

const pod = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '60'] }], ...spec },
});
const ns = (name: string) => `/api/v1/namespaces/${name}`;

describe('ServiceAccounts', () => {
  it('gives a new namespace its default account, and a pod without one runs as it', async () => {
    expect((await api.call('POST', '/api/v1/namespaces', { metadata: { name: 'team' } })).status).toBe(201);
    const sa = await api.call('GET', `${ns('team')}/serviceaccounts/default`);
    expect(sa.status).toBe(200);
    expect(sa.body.metadata.uid).toBeTruthy();
    const created = await api.call('POST', `${ns('team')}/pods`, pod('plain'));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.spec).toMatchObject({ serviceAccountName: 'default', serviceAccount: 'default' });
  });

  it('refuses a pod naming a missing account as Kubernetes does, and writes nothing', async () => {
    const r = await api.call('POST', `${ns('team')}/pods`, pod('runs-as-builder', { serviceAccountName: 'builder' }));
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({
      kind: 'Status',
      reason: 'Forbidden',
      code: 403,
      message:
        'pods "runs-as-builder" is forbidden: error looking up service account team/builder: serviceaccount "builder" not found',
    });
    expect((await api.call('GET', `${ns('team')}/pods/runs-as-builder`)).status).toBe(404);
    // generateName: the message names the prefix, as admission.NewForbidden does before a name exists.
    const gen = await api.call('POST', `${ns('team')}/pods`, {
      ...pod(''),
      metadata: { generateName: 'worker-' },
      spec: { ...pod('').spec, serviceAccount: 'builder' },
    });
    expect(gen.status).toBe(403);
    expect(gen.body.message).toMatch(/^pods "worker-" is forbidden: error looking up service account team\/builder/);
  });

  it("gives a pod its account's imagePullSecrets unless it names its own", async () => {
    const sa = await api.call('POST', `${ns('team')}/serviceaccounts`, {
      metadata: { name: 'builder' },
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(sa.status).toBe(201);
    const inherits = await api.call('POST', `${ns('team')}/pods`, pod('inherits', { serviceAccountName: 'builder' }));
    expect(inherits.status, JSON.stringify(inherits.body)).toBe(201);
    expect(inherits.body.spec.imagePullSecrets).toEqual([{ name: 'regcred' }]);
    const own = await api.call(
      'POST',
      `${ns('team')}/pods`,
      pod('own', { serviceAccountName: 'builder', imagePullSecrets: [{ name: 'mine' }] }),
    );
    expect(own.body.spec.imagePullSecrets).toEqual([{ name: 'mine' }]);
  });

  it('takes the same pod manifest again as no change (what admission added stays), and never 5xx on odd names', async () => {
    const manifest =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: again\n  namespace: team\nspec:\n  serviceAccountName: builder\n  containers:\n  - name: c\n    image: busybox:1.36';
    const first = await api.call('POST', '/kumo/v1/apply', manifest, 'application/yaml');
    expect(first.status, JSON.stringify(first.body)).toBe(200);
    const second = await api.call('POST', '/kumo/v1/apply', manifest, 'application/yaml');
    expect(second.status, JSON.stringify(second.body)).toBe(200);
    expect(second.body.results[0].action).toBe('unchanged');
    // PUT of the body as first sent (no serviceAccount mirror, no inherited imagePullSecrets) is no change either.
    const stored = (await api.call('GET', `${ns('team')}/pods/again`)).body;
    const put = await api.call('PUT', `${ns('team')}/pods/again`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'again', resourceVersion: stored.metadata.resourceVersion },
      spec: { serviceAccountName: 'builder', containers: [{ name: 'c', image: 'busybox:1.36' }] },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
    // A name no account can have is not found (403), not a store error.
    const odd = await api.call('POST', `${ns('team')}/pods`, pod('odd', { serviceAccountName: 'x'.repeat(2000) }));
    expect(odd.status).toBe(403);
  });

  it('makes the default account again when it was deleted', async () => {
    expect((await api.call('DELETE', `${ns('team')}/serviceaccounts/default`)).status).toBe(200);
    expect((await api.call('GET', `${ns('team')}/serviceaccounts/default`)).status).toBe(404);
    expect((await api.call('POST', `${ns('team')}/pods`, pod('after-delete'))).status).toBe(201);
    expect((await api.call('GET', `${ns('team')}/serviceaccounts/default`)).status).toBe(200);
  });

  it('an atomic apply of a namespace, an account and pods lands whole, default account included', async () => {
    const manifest = [
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: cart\n  namespace: shop\nspec:\n  serviceAccountName: cart\n  containers:\n  - name: c\n    image: busybox:1.36',
      'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: cart\n  namespace: shop',
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: front\n  namespace: shop\nspec:\n  containers:\n  - name: c\n    image: busybox:1.36',
    ].join('\n---\n');
    const r = await api.call('POST', '/kumo/v1/apply?atomic=true', manifest, 'application/yaml');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect((await api.call('GET', `${ns('shop')}/serviceaccounts/default`)).status).toBe(200);
    expect((await api.call('GET', `${ns('shop')}/pods/cart`)).body.spec.serviceAccountName).toBe('cart');
    expect((await api.call('GET', `${ns('shop')}/pods/front`)).body.spec.serviceAccountName).toBe('default');
    // A pod naming an account the manifest does not declare fails the whole apply.
    const bad = await api.call(
      'POST',
      '/kumo/v1/apply?atomic=true',
      'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop2\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: shop2\nspec:\n  serviceAccountName: nobody\n  containers:\n  - name: c\n    image: busybox:1.36',
      'application/yaml',
    );
    expect(bad.status).toBe(403);
    expect((await api.call('GET', ns('shop2'))).status).toBe(404);
  });

  it.skipIf(!kubectlPath)('kubectl create serviceaccount and get sa work', async () => {
    const kubectl = kubectlFor(api.url);
    expect((await kubectl.ok('create', 'serviceaccount', 'deployer', '-n', 'team')).trim()).toBe(
      'serviceaccount/deployer created',
    );
    const get = await kubectl.ok('get', 'sa', '-n', 'team');
    expect(get).toMatch(/^default\s+0\s+\S+$/m);
    expect(get).toMatch(/^deployer\s+0\s+\S+$/m);
  });
});
