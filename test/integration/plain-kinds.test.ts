import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kindNamed } from '../../shared/model/kinds.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';

/**
 * The kinds served as plain declarations (shared/model/kinds/plain.ts): stored, validated against
 * Kubernetes' schema, defaulted and printed, through the real kubectl and the real API handler.
 */
if (!kubectlPath && process.env.CI) throw new Error('kubectl is not on PATH: the plain kinds suite cannot run in CI');
if (!kubectlPath)
  console.warn('kubectl is not on PATH: the plain kinds suite is skipped (install kubectl 1.32 to run it)');

interface Case {
  kind: string;
  /** kubectl's name for it: `<plural>.<group>` as `kubectl get` accepts, and what it prints before the name. */
  resource: string;
  printed: string;
  manifest: string;
  /** A line `kubectl get` prints for it (the columns kube-apiserver's printers choose). */
  row: RegExp;
  /** The manifest with one field misspelt, and the path Strict validation must name. */
  typo: [from: string, to: string, field: string];
  /** What defaulting must have added (checked on the stored object). */
  defaulted?: (o: any) => void;
  /**
   * A second apply of the same file: `unchanged`, or `configured` where defaulting added to an item
   * of a list without a merge key (kubectl's three-way patch replaces such a list whole, as against
   * Kubernetes); either way the stored object must not change.
   */
  reapplied?: 'configured';
}

const CASES: Case[] = [
  {
    kind: 'ServiceAccount',
    resource: 'serviceaccounts',
    printed: 'serviceaccount',
    manifest: 'apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: builder\nautomountServiceAccountToken: false\n',
    row: /^builder\s+0\s+\S+$/m,
    typo: ['automountServiceAccountToken', 'automountServiceAccountTokn', 'automountServiceAccountTokn'],
  },
  {
    kind: 'Lease',
    resource: 'leases.coordination.k8s.io',
    printed: 'lease.coordination.k8s.io',
    manifest:
      'apiVersion: coordination.k8s.io/v1\nkind: Lease\nmetadata:\n  name: leader\nspec:\n  holderIdentity: pod-a\n  leaseDurationSeconds: 15\n',
    row: /^leader\s+pod-a\s+\S+$/m,
    typo: ['holderIdentity', 'holderIdentitty', 'spec.holderIdentitty'],
  },
  {
    kind: 'PriorityClass',
    resource: 'priorityclasses.scheduling.k8s.io',
    printed: 'priorityclass.scheduling.k8s.io',
    manifest:
      'apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata:\n  name: high\nvalue: 100000\ndescription: for the important ones\n',
    row: /^high\s+100000\s+false\s+\S+\s+PreemptLowerPriority$/m,
    typo: ['description', 'descripton', 'descripton'],
    defaulted: (o) => expect(o.preemptionPolicy).toBe('PreemptLowerPriority'),
  },
  {
    kind: 'NetworkPolicy',
    resource: 'networkpolicies.networking.k8s.io',
    printed: 'networkpolicy.networking.k8s.io',
    manifest:
      'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: db-ingress\nspec:\n  podSelector:\n    matchLabels:\n      app: db\n  ingress:\n  - from:\n    - podSelector:\n        matchLabels:\n          app: api\n    ports:\n    - port: 5432\n',
    row: /^db-ingress\s+app=db\s+\S+$/m,
    typo: ['podSelector:\n    matchLabels', 'podSelectr:\n    matchLabels', 'spec.podSelectr'],
    reapplied: 'configured',
    defaulted: (o) => {
      expect(o.spec.policyTypes).toEqual(['Ingress']);
      expect(o.spec.ingress[0].ports[0]).toEqual({ port: 5432, protocol: 'TCP' });
    },
  },
  {
    kind: 'LimitRange',
    resource: 'limitranges',
    printed: 'limitrange',
    manifest:
      'apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: defaults\nspec:\n  limits:\n  - type: Container\n    max:\n      cpu: "2"\n    defaultRequest:\n      cpu: 100m\n',
    row: /^defaults\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/m,
    typo: ['type: Container', 'tpye: Container', 'spec.limits[0].tpye'],
    reapplied: 'configured',
    defaulted: (o) =>
      expect(o.spec.limits[0]).toEqual({
        type: 'Container',
        max: { cpu: '2' },
        default: { cpu: '2' },
        defaultRequest: { cpu: '100m' },
      }),
  },
  {
    kind: 'ResourceQuota',
    resource: 'resourcequotas',
    printed: 'resourcequota',
    manifest:
      'apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: compute\nspec:\n  hard:\n    requests.cpu: "4"\n    limits.memory: 8Gi\n    pods: "10"\n',
    row: /^compute\s+\S+\s+pods: 0\/0, requests\.cpu: 0\/0\s+limits\.memory: 0\/0$/m,
    typo: ['hard:', 'hrad:', 'spec.hrad'],
  },
];

let api: TestApi;
let k: Kubectl;

describe.skipIf(!kubectlPath)('plain kinds through kubectl', () => {
  beforeAll(async () => {
    api = await startApi();
    k = kubectlFor(api.url);
  });
  afterAll(async () => {
    await api?.close();
    if (k) rmSync(k.dir, { recursive: true, force: true });
  });

  it('are discovered with their groups, scopes and short names', async () => {
    const resources = await k.ok('api-resources');
    expect(resources).toMatch(/^serviceaccounts\s+sa\s+v1\s+true\s+ServiceAccount$/m);
    expect(resources).toMatch(/^leases\s+coordination\.k8s\.io\/v1\s+true\s+Lease$/m);
    expect(resources).toMatch(/^priorityclasses\s+pc\s+scheduling\.k8s\.io\/v1\s+false\s+PriorityClass$/m);
    expect(resources).toMatch(/^networkpolicies\s+netpol\s+networking\.k8s\.io\/v1\s+true\s+NetworkPolicy$/m);
    expect(resources).toMatch(/^limitranges\s+limits\s+v1\s+true\s+LimitRange$/m);
    expect(resources).toMatch(/^resourcequotas\s+quota\s+v1\s+true\s+ResourceQuota$/m);
    const openapi = await api.call('GET', '/openapi/v3/apis/coordination.k8s.io/v1');
    expect(
      openapi.body.paths['/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}'].patch[
        'x-kubernetes-group-version-kind'
      ],
    ).toEqual({ group: 'coordination.k8s.io', version: 'v1', kind: 'Lease' });
  });

  for (const c of CASES) {
    it(`${c.kind}: apply, get, describe, Strict validation of a typo, delete`, async () => {
      const file = join(k.dir, `${c.kind}.yaml`);
      writeFileSync(file, c.manifest);
      const name = /name: (\S+)/.exec(c.manifest)?.[1] as string;
      const type = kindNamed(c.kind);
      const read = () => api.stack.api.service.get(type, type.namespaced ? 'default' : '', name);
      const created = await k.run('apply', '-f', file);
      expect(created.out).toBe(`${c.printed}/${name} created\n`);
      // What kumo stores but does not act on is said with every write (kubectl prints the Warning).
      if (type.notEnforced) expect(created.err).toContain(`Warning: ${type.notEnforced}`);
      else expect(created.err).not.toContain('Warning');
      const stored = await read();
      expect(await k.ok('apply', '-f', file)).toBe(`${c.printed}/${name} ${c.reapplied ?? 'unchanged'}\n`);
      expect((await read()).metadata.resourceVersion).toBe(stored.metadata.resourceVersion);
      expect(await k.ok('get', c.resource, name, '--no-headers')).toMatch(c.row);
      expect(await k.ok('describe', c.resource, name)).toMatch(new RegExp(`^Name:\\s+${name}$`, 'm'));
      c.defaulted?.(stored);

      const [from, to, field] = c.typo;
      writeFileSync(file, c.manifest.replace(from, to));
      const strict = await k.run('apply', '--validate=strict', '-f', file);
      expect(strict.code).not.toBe(0);
      expect(strict.err).toContain(`strict decoding error: unknown field "${field}"`);

      expect(await k.ok('delete', c.resource, name)).toBe(`${c.printed} "${name}" deleted\n`);
      const gone = await k.run('get', c.resource, name);
      expect(gone.err).toContain(`"${name}" not found`);
    });
  }

  it('kubectl create sends serviceaccounts, priorityclasses and quotas as protobuf, read by their declared messages', async () => {
    expect(await k.ok('create', 'serviceaccount', 'robot')).toBe('serviceaccount/robot created\n');
    expect(
      await k.ok(
        'create',
        'priorityclass',
        'batch-low',
        '--value=-10',
        '--description=preemptible',
        '--preemption-policy=Never',
      ),
    ).toBe('priorityclass.scheduling.k8s.io/batch-low created\n');
    expect(await k.ok('create', 'quota', 'small', '--hard=cpu=1,pods=2', '--scopes=BestEffort')).toBe(
      'resourcequota/small created\n',
    );
    const pc = await api.stack.api.service.get(kindNamed('PriorityClass'), '', 'batch-low');
    expect(pc).toMatchObject({ value: -10, description: 'preemptible', preemptionPolicy: 'Never' });
    const quota = await api.stack.api.service.get(kindNamed('ResourceQuota'), 'default', 'small');
    expect(quota.spec).toEqual({ hard: { cpu: '1', pods: '2' }, scopes: ['BestEffort'] });
  });

  it('takes quantities as JSON numbers, as Kubernetes does, and keeps them as strings', async () => {
    const r = await api.call('POST', '/api/v1/namespaces/default/resourcequotas', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'numbers' },
      spec: { hard: { pods: 10, cpu: 1.5 } },
    });
    expect(r.status).toBe(201);
    expect(r.body.spec.hard).toEqual({ pods: '10', cpu: '1.5' });
  });

  it("refuses what Kubernetes refuses: JSON types from the schema, and each kind's own rules, naming the field", async () => {
    const post = (path: string, body: unknown) => api.call('POST', path, body);
    const bad = await post('/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'x' },
      spec: { holderIdentity: 7, leaseDurationSeconds: 0 },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 7: must be of type string',
        field: 'spec.holderIdentity',
      },
    ]);
    const zero = await post('/apis/coordination.k8s.io/v1/namespaces/default/leases', {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'x' },
      spec: { leaseDurationSeconds: 0 },
    });
    expect(zero.status).toBe(422);
    expect(zero.body.details.causes).toEqual([
      {
        reason: 'FieldValueInvalid',
        message: 'Invalid value: 0: must be greater than 0',
        field: 'spec.leaseDurationSeconds',
      },
    ]);
    const tooHigh = await k.run('create', 'priorityclass', 'vip', '--value=2000000000');
    expect(tooHigh.err).toContain('value: Forbidden: maximum allowed value of a user defined priority is 1000000000');
    const reserved = await k.run('create', 'priorityclass', 'system-mine', '--value=1');
    expect(reserved.err).toContain(
      "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only",
    );
    const quota = await post('/api/v1/namespaces/default/resourcequotas', {
      apiVersion: 'v1',
      kind: 'ResourceQuota',
      metadata: { name: 'q' },
      spec: { hard: { cpu: 'lots' }, scopes: ['Sometimes'] },
    });
    expect(quota.status).toBe(422);
    expect(quota.body.details.causes.map((x: any) => x.field)).toEqual(['spec.hard[cpu]', 'spec.scopes[0]']);
    const policy = await post('/apis/networking.k8s.io/v1/namespaces/default/networkpolicies', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'p' },
      spec: { podSelector: {}, policyTypes: ['Sideways'] },
    });
    expect(policy.status).toBe(422);
    expect(policy.body.details.causes[0]).toMatchObject({
      reason: 'FieldValueNotSupported',
      field: 'spec.policyTypes[0]',
    });
  });
});
