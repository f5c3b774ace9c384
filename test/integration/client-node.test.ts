import type { KubeConfig } from '@kubernetes/client-node';
import { AppsV1Api, CoreV1Api, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { clientNodeConfig } from '../support/client-node.js';

/** @kubernetes/client-node 1.x (the JavaScript client) against kumo's real API handler over HTTP. */
let api: TestApi;
let core: CoreV1Api;
let apps: AppsV1Api;
let kc: KubeConfig;
beforeAll(async () => {
  api = await startApi();
  kc = clientNodeConfig(api.url);
  core = kc.makeApiClient(CoreV1Api);
  apps = kc.makeApiClient(AppsV1Api);
});
afterAll(() => api.close());

const deployment = {
  metadata: { name: 'cn', labels: { app: 'cn' } },
  spec: {
    replicas: 1,
    selector: { matchLabels: { app: 'cn' } },
    template: { metadata: { labels: { app: 'cn' } }, spec: { containers: [{ name: 'c', image: 'busybox:1.36' }] } },
  },
};

describe('@kubernetes/client-node', () => {
  it('creates, reads, lists, patches, scales and deletes', async () => {
    const created = await apps.createNamespacedDeployment({ namespace: 'default', body: deployment });
    expect(created.metadata?.uid).toBeTruthy();
    expect(created.spec?.strategy?.type).toBe('RollingUpdate');
    expect((await apps.readNamespacedDeployment({ name: 'cn', namespace: 'default' })).spec?.replicas).toBe(1);
    expect(
      (await apps.listNamespacedDeployment({ namespace: 'default', labelSelector: 'app=cn' })).items.map(
        (d) => d.metadata?.name,
      ),
    ).toEqual(['cn']);
    const patched = await apps.patchNamespacedDeployment(
      {
        name: 'cn',
        namespace: 'default',
        body: { spec: { template: { spec: { containers: [{ name: 'c', image: 'busybox:1.37' }] } } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers[0]?.image).toBe('busybox:1.37');
    const scale = await apps.patchNamespacedDeploymentScale(
      { name: 'cn', namespace: 'default', body: { spec: { replicas: 3 } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(scale.spec?.replicas).toBe(3);
    await apps.deleteNamespacedDeployment({ name: 'cn', namespace: 'default' });
    await expect(apps.readNamespacedDeployment({ name: 'cn', namespace: 'default' })).rejects.toMatchObject({
      code: 404,
    });
  });

  it('watches: a change after the list resourceVersion arrives, then the watch ends', async () => {
    const list = await core.listNamespacedConfigMap({ namespace: 'default' });
    const seen: string[] = [];
    const ended = new Promise<void>((resolve) => {
      void new Watch(kc).watch(
        '/api/v1/namespaces/default/configmaps',
        { resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: 10 },
        (phase, obj) => seen.push(`${phase}:${obj?.metadata?.name ?? ''}`),
        () => resolve(),
      );
    });
    await new Promise((r) => setTimeout(r, 200));
    await core.createNamespacedConfigMap({
      namespace: 'default',
      body: { metadata: { name: 'watched' }, data: { a: '1' } },
    });
    await ended;
    expect(seen.filter((s) => s.endsWith(':watched'))).toHaveLength(1);
  });
});
