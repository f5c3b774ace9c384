import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath } from '../support/kubectl.js';
import { ensureExternalKubernetesService, ensureKubernetesService } from '../../shared/apiserver/kubernetes-service.js';
import { Ipv4Range } from '../../shared/model/service-network.js';
import { serviceViews } from '../../shared/nodes/service-view.js';
import { apiAddressOf, serviceEnv } from '../../shared/agent/service-env.js';

/**
 * ServiceAccounts as Kubernetes keeps them (issue 19, first part): every namespace has `default`, a pod
 * runs as `default` unless it names another account, a pod naming a missing account is refused with
 * the ServiceAccount admission plugin's message, and an account's imagePullSecrets reach its pods.
 * Tokens: TokenRequest (`kubectl create token`) issues signed, audience-bound tokens that act as the
 * account under RBAC and die with the account or the pod they are bound to.
 */
let api: TestApi;
beforeAll(async () => {
  // Deleting an account or pod revokes its tokens once a warm container's cache lapses: 1 s here.
  process.env.KUMO_AUTH_CACHE_SECONDS = '1';
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

describe('the kubernetes Service', () => {
  it('on AWS names the HTTP API host (ExternalName), replacing a cluster-IP one, and pods are told that host', async () => {
    const service = api.stack.api.service;
    await ensureKubernetesService(service, new Ipv4Range('10.96.0.0/16'), { ip: '127.0.0.1', port: 6443 });
    expect((await api.call('GET', `${ns('default')}/services/kubernetes`)).body.spec).toMatchObject({
      type: 'ClusterIP',
      clusterIP: '10.96.0.1',
      ports: [{ name: 'https', port: 443, targetPort: 6443 }],
    });
    const url = 'https://abc123.execute-api.eu-west-1.amazonaws.com';
    await ensureExternalKubernetesService(service, url);
    await ensureExternalKubernetesService(service, url);
    const svc = (await api.call('GET', `${ns('default')}/services/kubernetes`)).body;
    expect(svc.spec).toMatchObject({
      type: 'ExternalName',
      externalName: 'abc123.execute-api.eu-west-1.amazonaws.com',
      ports: [{ name: 'https', port: 443 }],
    });
    expect(svc.metadata.labels).toEqual({ component: 'apiserver', provider: 'kubernetes' });
    // A node's view of it has no cluster IP: pods get the host the registration names instead.
    const [view] = serviceViews([svc], []);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: {} };
    expect(serviceEnv(pod, view ? [view] : [], apiAddressOf(url))).toEqual({
      KUBERNETES_SERVICE_HOST: 'abc123.execute-api.eu-west-1.amazonaws.com',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
    });
  });
});

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

/** A request with a bearer token (the test API is dev-loopback: a token sent is checked as on AWS). */
const withToken = (token: string, method: string, path: string, body?: unknown) =>
  fetch(`${api.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
const tokenFor = async (name: string, spec: Record<string, unknown> = {}) =>
  api.call('POST', `${ns('tokens')}/serviceaccounts/${name}/token`, {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec,
  });
const until = async (check: () => Promise<boolean>, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 200));
  }
};

describe('ServiceAccount tokens (TokenRequest)', () => {
  beforeAll(async () => {
    expect((await api.call('POST', '/api/v1/namespaces', { metadata: { name: 'tokens' } })).status).toBe(201);
    for (const name of ['robot', 'other'])
      expect((await api.call('POST', `${ns('tokens')}/serviceaccounts`, { metadata: { name } })).status).toBe(201);
  });

  it('issues a token that acts as system:serviceaccount:<ns>:<name>, with what RBAC grants it', async () => {
    const r = await tokenFor('robot');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body.spec).toMatchObject({
      audiences: ['https://kubernetes.default.svc.cluster.local'],
      expirationSeconds: 3600,
    });
    const token = r.body.status.token as string;
    const expires = Date.parse(r.body.status.expirationTimestamp) - Date.now();
    expect(expires).toBeGreaterThan(3500_000);
    expect(expires).toBeLessThan(3700_000);
    const who = await withToken(token, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(((await who.json()) as any).status.userInfo).toEqual({
      username: 'system:serviceaccount:tokens:robot',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:tokens', 'system:authenticated'],
    });
    expect((await withToken(token, 'GET', `${ns('tokens')}/pods`)).status).toBe(403);
    expect(
      (
        await api.call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/tokens/roles`, {
          metadata: { name: 'pod-reader' },
          rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }],
        })
      ).status,
    ).toBe(201);
    expect(
      (
        await api.call('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/tokens/rolebindings`, {
          metadata: { name: 'robot-reads' },
          roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
          subjects: [{ kind: 'ServiceAccount', name: 'robot' }],
        })
      ).status,
    ).toBe(201);
    expect((await withToken(token, 'GET', `${ns('tokens')}/pods`)).status).toBe(200);
    expect((await withToken(token, 'GET', `${ns('tokens')}/secrets`)).status).toBe(403);
    expect((await withToken(token, 'GET', `${ns('default')}/pods`)).status).toBe(403);
  });

  it('refuses forged, tampered, foreign-audience and unknown tokens with 401', async () => {
    const token = (await tokenFor('robot')).body.status.token as string;
    const vault = (await tokenFor('robot', { audiences: ['vault'] })).body.status.token as string;
    const [h, p, sig] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString());
    claims['kubernetes.io'].serviceaccount.name = 'other';
    claims.sub = 'system:serviceaccount:tokens:other';
    const forged = `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${p}.`;
    for (const bad of [vault, forged, `${token.slice(0, -2)}AA`, unsigned]) {
      const r = await withToken(bad, 'GET', `${ns('tokens')}/pods`);
      expect(r.status).toBe(401);
      expect(await r.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized' });
    }
  });

  it('answers 422, 404 and 400 as Kubernetes for bad requests', async () => {
    const short = await tokenFor('robot', { expirationSeconds: 60 });
    expect(short.status).toBe(422);
    expect(short.body.message).toBe(
      'TokenRequest.authentication.k8s.io "robot" is invalid: spec.expirationSeconds: Invalid value: 60: may not specify a duration less than 10 minutes',
    );
    const unnamed = await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1' } });
    expect(unnamed.status).toBe(422);
    expect(unnamed.body.message).toContain('spec.boundObjectRef.name: Required value');
    expect((await tokenFor('robot', { audiences: 'vault' })).status).toBe(422);
    const missing = await tokenFor('nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toBe('serviceaccounts "nobody" not found');
    expect(
      (await api.call('POST', `${ns('tokens')}/pods`, pod('as-other', { serviceAccountName: 'other' }))).status,
    ).toBe(201);
    const wrong = await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'as-other' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.message).toBe(
      'cannot bind token for serviceaccount "robot" to pod running with different serviceaccount name.',
    );
  });

  it('a token bound to a pod dies with the pod; any token dies with its account', async () => {
    expect(
      (await api.call('POST', `${ns('tokens')}/pods`, pod('worker', { serviceAccountName: 'robot' }))).status,
    ).toBe(201);
    const bound = await tokenFor('robot', { boundObjectRef: { kind: 'Pod', apiVersion: 'v1', name: 'worker' } });
    expect(bound.status, JSON.stringify(bound.body)).toBe(201);
    const claims = JSON.parse(Buffer.from(String(bound.body.status.token).split('.')[1] ?? '', 'base64url').toString());
    expect(claims['kubernetes.io'].pod.name).toBe('worker');
    const free = (await tokenFor('robot')).body.status.token as string;
    const list = (t: string) => withToken(t, 'GET', `${ns('tokens')}/pods`);
    expect((await list(bound.body.status.token)).status).toBe(200);
    // Unscheduled, the pod goes at once.
    expect((await api.call('DELETE', `${ns('tokens')}/pods/worker`)).status).toBe(200);
    await until(async () => (await list(bound.body.status.token)).status === 401);
    expect((await list(free)).status).toBe(200);
    expect((await api.call('DELETE', `${ns('tokens')}/serviceaccounts/robot`)).status).toBe(200);
    await until(async () => (await list(free)).status === 401);
    // A new account of the same name is another account: the old tokens stay dead.
    expect((await api.call('POST', `${ns('tokens')}/serviceaccounts`, { metadata: { name: 'robot' } })).status).toBe(
      201,
    );
    await new Promise((r) => setTimeout(r, 1_200));
    expect((await list(free)).status).toBe(401);
  });

  it.skipIf(!kubectlPath)('kubectl create token (a TokenRequest sent as protobuf)', async () => {
    const kubectl = kubectlFor(api.url);
    const token = (
      await kubectl.ok('create', 'token', 'other', '-n', 'tokens', '--audience', 'ci', '--duration', '20m')
    ).trim();
    const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({ aud: ['ci'], sub: 'system:serviceaccount:tokens:other' });
    expect(claims.exp - claims.iat).toBe(1200);
  });
});
