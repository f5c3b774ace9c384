import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindNamed } from '../../shared/model/kinds.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';

/**
 * The real kubectl (1.32, on PATH on these machines) against kumo's real API handler over HTTP on
 * DynamoDB Local. Each command's output is checked, and so is what it stored.
 */
if (!kubectlPath) console.warn('kubectl is not on PATH: the kubectl suite is skipped (install kubectl 1.32 to run it)');

let api: TestApi;
let k: Kubectl;
let dir: string;
const T = kindNamed;
const example = (f: string) => join(new URL('../../examples/', import.meta.url).pathname, f);
const kubectl = (...args: string[]) => k.run(...args);
const ok = (...args: string[]) => k.ok(...args);

describe.skipIf(!kubectlPath)('kubectl against kumo', () => {
  beforeAll(async () => {
    api = await startApi();
    k = kubectlFor(api.url);
    dir = k.dir;
  });
  afterAll(() => api?.close());

  it('discovers the API: version, api-resources with short names', async () => {
    expect(await ok('version')).toMatch(/Server Version: v1\.32\.0-kumo/);
    const resources = await ok('api-resources');
    expect(resources).toMatch(/deployments\s+deploy\s+apps\/v1\s+true\s+Deployment/);
    expect(resources).toMatch(/pods\s+po\s+v1\s+true\s+Pod/);
    expect(resources).toMatch(/nodes\s+no\s+v1\s+false\s+Node/);
  });

  it('apply -f creates, then reports unchanged, then configured (strategic merge patch)', async () => {
    expect(await ok('apply', '-f', example('web-deployment.yaml'))).toBe('deployment.apps/web created\n');
    expect(await ok('apply', '-f', example('web-deployment.yaml'))).toBe('deployment.apps/web unchanged\n');
    const changed = join(dir, 'web.yaml');
    writeFileSync(
      changed,
      readFileSync(example('web-deployment.yaml'), 'utf8')
        .replace('node:22-alpine', 'node:22.12-alpine')
        .replace('replicas: 1', 'replicas: 4'),
    );
    expect(await ok('apply', '-f', changed)).toBe('deployment.apps/web configured\n');
    const stored = await api.stack.api.service.get(T('Deployment'), 'default', 'web');
    const c = (stored.spec as any).template.spec.containers[0];
    expect(c.image).toBe('node:22.12-alpine');
    expect(c.ports).toEqual([{ containerPort: 8080, protocol: 'TCP' }]); // merged by name, not replaced
    expect((stored.spec as any).replicas).toBe(4);
    expect(stored.metadata.generation).toBe(2);
  });

  it('apply -f of a directory, and a manifest with a namespace', async () => {
    const d = join(dir, 'manifests');
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'a.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n');
    writeFileSync(
      join(d, 'b.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: team-a\ndata:\n  mode: fast\n',
    );
    const out = await ok('apply', '-f', d);
    expect(out).toContain('namespace/team-a created');
    expect(out).toContain('configmap/settings created');
    expect((await api.stack.api.service.get(T('ConfigMap'), 'team-a', 'settings')).data).toEqual({ mode: 'fast' });
  });

  it('get prints server-side tables: columns, -o wide, -A, -l, --show-labels, -o name/yaml/json', async () => {
    expect(await ok('get', 'deploy')).toMatch(
      /^NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE\nweb\s+0\/4\s+0\s+0\s+\d+s\n$/,
    );
    expect(await ok('get', 'deploy', '-o', 'wide')).toMatch(
      /CONTAINERS\s+IMAGES\s+SELECTOR\nweb\s+.*\s+web\s+node:22\.12-alpine\s+app=web/,
    );
    expect(await ok('get', 'cm', '-A')).toMatch(/team-a\s+settings\s+1\s+\d+s/);
    expect(await ok('get', 'deploy', '-l', 'app=web', '-o', 'name')).toBe('deployment.apps/web\n');
    expect(await ok('get', 'deploy', '-l', 'app=nope', '-o', 'name')).toBe('');
    expect(await ok('get', 'deploy', '--show-labels')).toMatch(/LABELS\nweb\s+.*app=web/);
    expect(JSON.parse(await ok('get', 'deploy', 'web', '-o', 'json')).spec.replicas).toBe(4);
    expect(await ok('get', 'deploy', 'web', '-o', 'yaml')).toMatch(/kind: Deployment/);
    expect(await ok('get', 'ns')).toMatch(/default\s+Active/);
    expect(await ok('get', 'all')).toMatch(/deployment\.apps\/web/);
  });

  it('shows pods on nodes with -o wide, and filters with --field-selector', async () => {
    await api.call('POST', '/api/v1/nodes', { metadata: { name: 'n1' } });
    await api.call(
      'PATCH',
      '/api/v1/nodes/n1/status',
      { status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'kumo-agent' } } },
      'application/merge-patch+json',
    );
    await api.call('POST', '/api/v1/namespaces/default/pods', {
      metadata: { name: 'p1' },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] },
    });
    expect(await ok('get', 'nodes')).toMatch(/n1\s+Ready\s+<none>\s+\d+s\s+kumo-agent/);
    expect(await ok('get', 'pods', '-o', 'wide')).toMatch(/p1\s+0\/1\s+ContainerCreating\s+0\s+\d+s\s+<none>\s+n1/);
    expect(await ok('get', 'pods', '--field-selector', 'spec.nodeName=n1', '-o', 'name')).toBe('pod/p1\n');
    expect(await ok('get', 'pods', '--field-selector', 'spec.nodeName=n2', '-o', 'name')).toBe('');
  });

  it('describe shows the object and its events', async () => {
    await api.stack.api.service.create(T('Event'), 'default', {
      metadata: { name: 'web.1' },
      involvedObject: {
        kind: 'Deployment',
        namespace: 'default',
        name: 'web',
        uid: (await api.stack.api.service.get(T('Deployment'), 'default', 'web')).metadata.uid,
      },
      reason: 'ScalingReplicaSet',
      message: 'Scaled up replica set web-abc to 4',
      type: 'Normal',
    });
    const out = await ok('describe', 'deployment', 'web');
    expect(out).toMatch(/Name:\s+web/);
    expect(out).toMatch(/StrategyType:\s+RollingUpdate/);
    expect(out).toMatch(/Normal\s+ScalingReplicaSet\s+.*Scaled up replica set web-abc to 4/);
    expect(await ok('get', 'events')).toMatch(/Normal\s+ScalingReplicaSet\s+deployment\/web/);
  });

  it('scale, label, annotate and the three kinds of patch', async () => {
    expect(await ok('scale', 'deploy', 'web', '--replicas=6')).toBe('deployment.apps/web scaled\n');
    expect(await ok('label', 'deploy', 'web', 'tier=front')).toBe('deployment.apps/web labeled\n');
    expect(await ok('annotate', 'deploy', 'web', 'owner=team-a')).toBe('deployment.apps/web annotated\n');
    await ok(
      'patch',
      'deploy',
      'web',
      '-p',
      '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"busybox:1.38"}]}}}}',
    );
    await ok('patch', 'deploy', 'web', '--type', 'merge', '-p', '{"spec":{"minReadySeconds":5}}');
    await ok(
      'patch',
      'deploy',
      'web',
      '--type',
      'json',
      '-p',
      '[{"op":"replace","path":"/spec/revisionHistoryLimit","value":3}]',
    );
    const d = await api.stack.api.service.get(T('Deployment'), 'default', 'web');
    expect((d.spec as any).replicas).toBe(6);
    expect(d.metadata.labels).toMatchObject({ tier: 'front' });
    expect(d.metadata.annotations).toMatchObject({ owner: 'team-a' });
    expect((d.spec as any).template.spec.containers).toHaveLength(1);
    expect((d.spec as any).template.spec.containers[0]).toMatchObject({
      name: 'web',
      image: 'busybox:1.38',
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
    });
    expect((d.spec as any).minReadySeconds).toBe(5);
    expect((d.spec as any).revisionHistoryLimit).toBe(3);
  });

  it('rollout status returns once the status says rolled out', async () => {
    const d = await api.stack.api.service.get(T('Deployment'), 'default', 'web');
    const n = (d.spec as any).replicas;
    await api.call(
      'PATCH',
      '/apis/apps/v1/namespaces/default/deployments/web/status',
      {
        status: {
          observedGeneration: d.metadata.generation,
          replicas: n,
          updatedReplicas: n,
          readyReplicas: n,
          availableReplicas: n,
        },
      },
      'application/merge-patch+json',
    );
    expect(await ok('rollout', 'status', 'deploy/web', '--timeout=30s')).toBe(
      'deployment "web" successfully rolled out\n',
    );
  });

  it('apply --server-side creates, records the manager, and reports conflicts unless forced', async () => {
    const cm = join(dir, 'ssa.yaml');
    writeFileSync(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "1"\n');
    expect(await ok('apply', '--server-side', '-f', cm)).toBe('configmap/ssa serverside-applied\n');
    const stored = await api.stack.api.service.get(T('ConfigMap'), 'default', 'ssa');
    expect((stored.metadata.managedFields as any[]).map((m) => `${m.manager}/${m.operation}`)).toEqual([
      'kubectl/Apply',
    ]);
    writeFileSync(cm, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\ndata:\n  a: "2"\n');
    const conflict = await kubectl('apply', '--server-side', '--field-manager=other', '-f', cm);
    expect(conflict.code).not.toBe(0);
    expect(conflict.err).toContain('Apply failed with 1 conflict: conflict with "kubectl": .data.a');
    expect((await api.stack.api.service.get(T('ConfigMap'), 'default', 'ssa')).data).toEqual({ a: '1' });
    await ok('apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', cm);
    expect((await api.stack.api.service.get(T('ConfigMap'), 'default', 'ssa')).data).toEqual({ a: '2' });
  });

  it('create namespace (sent as protobuf) and create -f', async () => {
    expect(await ok('create', 'namespace', 'team-b')).toBe('namespace/team-b created\n');
    expect((await api.stack.api.service.get(T('Namespace'), '', 'team-b')).status).toEqual({ phase: 'Active' });
    const again = await kubectl('create', '-f', example('web-deployment.yaml'));
    expect(again.err).toContain('AlreadyExists');
  });

  it("create deployment|job|configmap|secret|service: the generators' objects, sent as protobuf, are stored as kubectl built them", async () => {
    expect(
      await ok(
        'create',
        'deployment',
        'hello',
        '--image=busybox:1.36',
        '--replicas=3',
        '--port=8080',
        '--',
        'sleep',
        '3600',
      ),
    ).toBe('deployment.apps/hello created\n');
    const d = await api.stack.api.service.get(T('Deployment'), 'default', 'hello');
    expect(d.spec).toMatchObject({
      replicas: 3,
      selector: { matchLabels: { app: 'hello' } },
      template: { metadata: { labels: { app: 'hello' } } },
    });
    expect((d.spec as any).template.spec.containers).toEqual([
      expect.objectContaining({
        name: 'busybox',
        image: 'busybox:1.36',
        command: ['sleep', '3600'],
        ports: [expect.objectContaining({ containerPort: 8080 })],
      }),
    ]);

    expect(await ok('create', 'job', 'once', '--image=busybox:1.36', '--', 'echo', 'hi')).toBe(
      'job.batch/once created\n',
    );
    const job = await api.stack.api.service.get(T('Job'), 'default', 'once');
    expect((job.spec as any).template.spec).toMatchObject({
      restartPolicy: 'Never',
      containers: [expect.objectContaining({ name: 'once', image: 'busybox:1.36', command: ['echo', 'hi'] })],
    });

    expect(await ok('create', 'configmap', 'greeting', '--from-literal=text=hello', '--from-literal=lang=en')).toBe(
      'configmap/greeting created\n',
    );
    expect((await api.stack.api.service.get(T('ConfigMap'), 'default', 'greeting')).data).toEqual({
      text: 'hello',
      lang: 'en',
    });

    expect(await ok('create', 'secret', 'generic', 'db', '--from-literal=password=s3cr\u00e9t')).toBe(
      'secret/db created\n',
    );
    const secret = await api.stack.api.service.get(T('Secret'), 'default', 'db');
    expect(secret.type).toBe('Opaque');
    expect(Buffer.from((secret.data as Record<string, string>).password ?? '', 'base64').toString('utf8')).toBe(
      's3cr\u00e9t',
    );

    expect(await ok('create', 'service', 'clusterip', 'hello', '--tcp=80:8080')).toBe('service/hello created\n');
    expect((await api.stack.api.service.get(T('Service'), 'default', 'hello')).spec).toMatchObject({
      type: 'ClusterIP',
      selector: { app: 'hello' },
      ports: [expect.objectContaining({ port: 80, targetPort: 8080, protocol: 'TCP' })],
    });
  });

  it('create serviceaccount|role|clusterrole|rolebinding|clusterrolebinding (protobuf), auth can-i and whoami', async () => {
    expect(await ok('create', 'serviceaccount', 'robot')).toBe('serviceaccount/robot created\n');
    expect(
      await ok('create', 'role', 'pod-reader', '--verb=get,list', '--resource=pods,pods/log,deployments.apps'),
    ).toBe('role.rbac.authorization.k8s.io/pod-reader created\n');
    const role = await api.stack.api.service.get(T('Role'), 'default', 'pod-reader');
    // kubectl groups the core resources under apiGroups [""]: an empty string the protobuf body must keep.
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] },
      { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list'] },
    ]);
    expect(
      await ok(
        'create',
        'rolebinding',
        'robot-reads',
        '--role=pod-reader',
        '--serviceaccount=default:robot',
        '--user=carol',
      ),
    ).toBe('rolebinding.rbac.authorization.k8s.io/robot-reads created\n');
    expect((await api.stack.api.service.get(T('RoleBinding'), 'default', 'robot-reads')).subjects).toEqual([
      { kind: 'User', apiGroup: 'rbac.authorization.k8s.io', name: 'carol' },
      { kind: 'ServiceAccount', apiGroup: '', name: 'robot', namespace: 'default' },
    ]);
    expect(await ok('get', 'rolebinding', 'robot-reads', '-o', 'wide')).toMatch(
      /^NAME\s+ROLE\s+AGE\s+USERS\s+GROUPS\s+SERVICEACCOUNTS\nrobot-reads\s+Role\/pod-reader\s+\S+\s+carol\s+default\/robot\n$/,
    );
    expect(
      await ok('create', 'clusterrole', 'node-reader', '--verb=get', '--resource=nodes', '--non-resource-url=/logs/*'),
    ).toBe('clusterrole.rbac.authorization.k8s.io/node-reader created\n');
    expect(await ok('create', 'clusterrolebinding', 'ops-read-nodes', '--clusterrole=node-reader', '--group=ops')).toBe(
      'clusterrolebinding.rbac.authorization.k8s.io/ops-read-nodes created\n',
    );
    const names = await ok('get', 'clusterroles', '-o', 'name');
    for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'node-reader'])
      expect(names).toContain(`clusterrole.rbac.authorization.k8s.io/${n}\n`);
    // The local developer is cluster-admin (system:masters): kubectl auth asks SelfSubject*Reviews, as protobuf.
    expect(await ok('auth', 'can-i', 'delete', 'nodes')).toBe('yes\n');
    expect(await ok('auth', 'whoami')).toMatch(
      /Username\s+system:dev-loopback\nGroups\s+\[system:masters system:authenticated\]/,
    );
    expect(await ok('auth', 'can-i', '--list', '-n', 'default')).toMatch(/^\*\.\*\s+\[\]\s+\[\]\s+\[\*\]$/m);
    // --as: the same questions as carol, whom robot-reads lets read pods and nothing else.
    expect(await ok('auth', 'can-i', 'list', 'pods', '--as', 'carol')).toBe('yes\n');
    const secrets = await kubectl('auth', 'can-i', 'list', 'secrets', '--as', 'carol');
    expect([secrets.out, secrets.code]).toEqual(['no\n', 1]);
    expect((await kubectl('get', 'secrets', '--as', 'carol')).err).toContain(
      'User "carol" cannot list resource "secrets"',
    );
    const refused = await kubectl(
      'create',
      'rolebinding',
      'bad',
      '--role=x',
      '--user=a',
      '--dry-run=server',
      '-o',
      'name',
    );
    expect(refused.code).toBe(0); // a binding to a missing role is accepted, as in Kubernetes
  });

  it('delete --wait returns once the object is gone', async () => {
    expect(await ok('delete', '-f', example('web-deployment.yaml'), '--wait')).toBe('deployment.apps "web" deleted\n');
    expect((await api.call('GET', '/apis/apps/v1/namespaces/default/deployments/web')).status).toBe(404);
    expect(await ok('delete', 'configmap', 'ssa')).toBe('configmap "ssa" deleted\n');
  });

  it('answers exec and port-forward with a clear error', async () => {
    const r = await kubectl('exec', 'p1', '--', 'ls');
    expect(r.code).not.toBe(0);
    expect(r.err, r.err).toMatch(/cannot hold the streaming connection/);
  });
  it('validates fields like the kube-apiserver: a typo fails apply (Strict), --validate=false drops it, --validate=warn warns', async () => {
    const typo = join(dir, 'typo.yaml');
    writeFileSync(
      typo,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: typo}\nspec:\n  replicas: 1\n  selector: {matchLabels: {app: typo}}\n  template:\n    metadata: {labels: {app: typo}}\n    spec:\n      containers: [{name: c, image: busybox, imagePullPolice: Always}]\n',
    );
    const strict = await kubectl('apply', '-f', typo);
    expect(strict.code).not.toBe(0);
    expect(strict.err).toContain(
      'strict decoding error: unknown field "spec.template.spec.containers[0].imagePullPolice"',
    );
    expect((await kubectl('get', 'deployment', 'typo')).code).not.toBe(0); // nothing was written
    const warn = await kubectl('create', '-f', typo, '--validate=warn');
    expect(warn.code, warn.err).toBe(0);
    expect(warn.err).toContain('unknown field "spec.template.spec.containers[0].imagePullPolice"');
    const stored = JSON.parse(await ok('get', 'deployment', 'typo', '-o', 'json'));
    expect(stored.spec.template.spec.containers[0].imagePullPolice).toBeUndefined();
    await ok('delete', 'deployment', 'typo');
    const ignore = await kubectl('create', '-f', typo, '--validate=false');
    expect(ignore.code, ignore.err).toBe(0);
    expect(ignore.err).not.toContain('unknown field');
  });
});
