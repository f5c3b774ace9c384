import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import { TokenService } from '../../shared/auth/token-service.js';
import { DynamoTokenStore } from '../../shared/store/dynamo/dynamo-token-store.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import { systemClock } from '../../shared/util/clock.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { request } from '../support/http.js';

/**
 * RBAC through the real API handler in `tokens` mode (as on AWS): Roles and bindings stored and
 * enforced for users with and without a token role, ServiceAccount and Group subjects, the bootstrap
 * ClusterRoles, escalation prevention, and the access reviews `kubectl auth can-i` and `whoami` post.
 */
let api: TestApi;
const t: Record<string, string> = {};
const RBAC = '/apis/rbac.authorization.k8s.io/v1';

const as = (who: string, method: string, path: string, body?: unknown) =>
  request(api.url, method, path, { body, headers: { authorization: `Bearer ${t[who]}` } });

const role = (name: string, rules: unknown[]) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'Role',
  metadata: { name },
  rules,
});
const binding = (
  kind: 'RoleBinding' | 'ClusterRoleBinding',
  name: string,
  ref: [string, string],
  subjects: unknown[],
) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind,
  metadata: { name },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: ref[0], name: ref[1] },
  subjects,
});
const user = (name: string) => ({ kind: 'User', name, apiGroup: 'rbac.authorization.k8s.io' });

/** POSTs a SelfSubjectAccessReview as `who` and answers `allowed`. */
async function canI(who: string, attrs: Record<string, string>): Promise<boolean> {
  const spec = attrs.path
    ? { nonResourceAttributes: { path: attrs.path, verb: attrs.verb } }
    : { resourceAttributes: attrs };
  const r = await as(who, 'POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', {
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SelfSubjectAccessReview',
    spec,
  });
  expect(r.status, r.text).toBe(201);
  return r.json.status.allowed;
}

beforeAll(async () => {
  process.env.KUMO_AUTH_MODE = 'tokens';
  api = await startApi();
  const tokens = new TokenService(
    new DynamoTokenStore(
      dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }),
      api.stack.tableName,
    ),
    systemClock,
  );
  t.root = (await tokens.createUserToken({ name: 'root', role: 'cluster-admin' })).token;
  for (const r of ['admin', 'edit', 'view'] as const)
    t[r] = (await tokens.createUserToken({ name: `${r}-token`, role: r, namespaces: ['team-a'] })).token;
  // Users whose permissions come only from RBAC: by name, by group, and one bound to each built-in role.
  t.carol = (await tokens.createUserToken({ name: 'carol', role: 'none' })).token;
  t.dev = (await tokens.createUserToken({ name: 'dan', role: 'none', groups: ['devs'] })).token;
  for (const r of ['admin', 'edit', 'view'])
    t[`bound-${r}`] = (await tokens.createUserToken({ name: `bound-${r}`, role: 'none' })).token;
  for (const ns of ['team-a', 'team-b'])
    expect(
      (await as('root', 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
        .status,
    ).toBe(201);
  for (const r of ['admin', 'edit', 'view'])
    expect(
      (
        await as(
          'root',
          'POST',
          `${RBAC}/namespaces/team-a/rolebindings`,
          binding('RoleBinding', `bound-${r}`, ['ClusterRole', r], [user(`bound-${r}`)]),
        )
      ).status,
    ).toBe(201);
}, 60_000);
afterAll(async () => {
  delete process.env.KUMO_AUTH_MODE;
  await api?.close();
});

describe('bootstrap policy', () => {
  it('serves the built-in ClusterRoles, admin/edit/view with the rules they aggregate', async () => {
    const list = await as('root', 'GET', `${RBAC}/clusterroles`);
    expect(list.status).toBe(200);
    const names = list.json.items.map((r: any) => r.metadata.name);
    for (const n of ['cluster-admin', 'admin', 'edit', 'view', 'system:aggregate-to-edit', 'system:basic-user'])
      expect(names).toContain(n);
    const edit = list.json.items.find((r: any) => r.metadata.name === 'edit');
    expect(edit.aggregationRule.clusterRoleSelectors[0].matchLabels).toEqual({
      'rbac.authorization.k8s.io/aggregate-to-edit': 'true',
    });
    expect(edit.rules.some((r: any) => r.resources.includes('deployments') && r.verbs.includes('create'))).toBe(true);
    const crb = await as('root', 'GET', `${RBAC}/clusterrolebindings/cluster-admin`);
    expect(crb.json.subjects).toEqual([
      { kind: 'Group', name: 'system:masters', apiGroup: 'rbac.authorization.k8s.io' },
    ]);
  });
});

describe('enforcement', () => {
  it('a Role bound to a user grants exactly its rules, in its namespace', async () => {
    expect(
      (
        await as(
          'root',
          'POST',
          `${RBAC}/namespaces/team-a/roles`,
          role('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]),
        )
      ).status,
    ).toBe(201);
    const rb = await as(
      'root',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'carol-reads', ['Role', 'pod-reader'], [user('carol')]),
    );
    expect(rb.status, rb.text).toBe(201);
    expect((await as('carol', 'GET', '/api/v1/namespaces/team-a/pods')).status).toBe(200);
    const secrets = await as('carol', 'GET', '/api/v1/namespaces/team-a/secrets');
    expect(secrets.status).toBe(403);
    expect(secrets.json.message).toContain(
      'User "carol" cannot list resource "secrets" in API group "" in the namespace "team-a"',
    );
    expect((await as('carol', 'GET', '/api/v1/namespaces/team-b/pods')).status).toBe(403);
    expect((await as('carol', 'GET', '/api/v1/pods')).status).toBe(403);
    expect(
      (await as('carol', 'POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'x' }, data: {} })).status,
    ).toBe(403);
  });

  it('a ClusterRoleBinding to a group grants cluster-wide, lists across namespaces included', async () => {
    expect((await as('dev', 'GET', '/api/v1/namespaces/team-b/configmaps')).status).toBe(403);
    expect(
      (
        await as(
          'root',
          'POST',
          `${RBAC}/clusterrolebindings`,
          binding(
            'ClusterRoleBinding',
            'devs-view',
            ['ClusterRole', 'view'],
            [{ kind: 'Group', name: 'devs', apiGroup: 'rbac.authorization.k8s.io' }],
          ),
        )
      ).status,
    ).toBe(201);
    expect((await as('dev', 'GET', '/api/v1/namespaces/team-b/configmaps')).status).toBe(200);
    expect((await as('dev', 'GET', '/api/v1/pods')).status).toBe(200);
    expect((await as('dev', 'GET', '/api/v1/namespaces/team-b/secrets')).status).toBe(403); // view reads no Secrets
    expect((await as('dev', 'DELETE', `${RBAC}/clusterrolebindings/devs-view`)).status).toBe(403);
    expect((await as('root', 'DELETE', `${RBAC}/clusterrolebindings/devs-view`)).status).toBe(200);
    expect((await as('dev', 'GET', '/api/v1/namespaces/team-b/configmaps')).status).toBe(403);
  });

  it('a binding to a role that does not exist is accepted and grants nothing', async () => {
    const r = await as(
      'root',
      'POST',
      `${RBAC}/namespaces/team-b/rolebindings`,
      binding('RoleBinding', 'ghost', ['Role', 'no-such-role'], [user('carol')]),
    );
    expect(r.status).toBe(201);
    expect((await as('carol', 'GET', '/api/v1/namespaces/team-b/pods')).status).toBe(403);
  });

  it('ServiceAccount subjects match system:serviceaccount:<ns>:<name>, the binding namespace by default', async () => {
    const r = await as('root', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: {
        user: 'system:serviceaccount:team-a:robot',
        groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
        resourceAttributes: { namespace: 'team-a', verb: 'list', resource: 'pods' },
      },
    });
    expect(r.status).toBe(201);
    expect(r.json.status.allowed).toBe(false);
    expect(
      (
        await as(
          'root',
          'POST',
          `${RBAC}/namespaces/team-a/rolebindings`,
          binding('RoleBinding', 'robot-reads', ['Role', 'pod-reader'], [{ kind: 'ServiceAccount', name: 'robot' }]),
        )
      ).status,
    ).toBe(201);
    const again = await as('root', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { ...r.json.spec },
    });
    expect(again.json.status).toEqual({
      allowed: true,
      reason: 'RBAC: allowed by RoleBinding "robot-reads/team-a" of Role "pod-reader" to ServiceAccount "robot/team-a"',
    });
  });
});

describe('escalation prevention', () => {
  it('edit and view neither read nor write RBAC objects; admin does, within what it holds', async () => {
    expect((await as('edit', 'GET', `${RBAC}/namespaces/team-a/roles`)).status).toBe(403);
    expect((await as('view', 'GET', `${RBAC}/namespaces/team-a/rolebindings`)).status).toBe(403);
    const up = await as(
      'edit',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'up', ['ClusterRole', 'cluster-admin'], [user('edit-token')]),
    );
    expect(up.status).toBe(403);
    expect((await as('admin', 'GET', `${RBAC}/namespaces/team-a/roles`)).status).toBe(200);
  });

  it('an admin cannot bind cluster-admin, nor write a Role granting what it does not hold', async () => {
    const up = await as(
      'admin',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'up', ['ClusterRole', 'cluster-admin'], [user('carol')]),
    );
    expect(up.status).toBe(403);
    expect(up.json.message).toMatch(
      /^rolebindings\.rbac\.authorization\.k8s\.io "up" is forbidden: user "admin-token" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:\n\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}/,
    );
    const nodes = await as(
      'admin',
      'POST',
      `${RBAC}/namespaces/team-a/roles`,
      role('nodes', [{ apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['get', 'delete'] }]),
    );
    expect(nodes.status).toBe(403);
    expect(nodes.json.message).toContain('{APIGroups:[""], Resources:["nodes"], Verbs:["get" "delete"]}');
    expect(nodes.json.message).not.toContain('Resources:["pods"]');
    // What it holds it may grant: a Role within admin's rules, and edit bound in its namespace.
    expect(
      (
        await as(
          'admin',
          'POST',
          `${RBAC}/namespaces/team-a/roles`,
          role('pods', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'delete'] }]),
        )
      ).status,
    ).toBe(201);
    const editBinding = await as(
      'admin',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'carol-edits', ['ClusterRole', 'edit'], [user('carol')]),
    );
    expect(editBinding.status, editBinding.text).toBe(201);
    expect(
      (await as('carol', 'POST', '/api/v1/namespaces/team-a/configmaps', { metadata: { name: 'by-carol' } })).status,
    ).toBe(201);
    // Not in another namespace, and a missing role without `bind` is a 404 as in Kubernetes.
    expect(
      (
        await as(
          'admin',
          'POST',
          `${RBAC}/namespaces/team-b/rolebindings`,
          binding('RoleBinding', 'x', ['ClusterRole', 'edit'], [user('carol')]),
        )
      ).status,
    ).toBe(403);
    const ghost = await as(
      'admin',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'ghost', ['Role', 'no-such-role'], [user('carol')]),
    );
    expect(ghost.status).toBe(404);
    expect(ghost.json.message).toBe('roles.rbac.authorization.k8s.io "no-such-role" not found');
  });

  it('a manifest with a Role and a binding to it applies for an admin (kumo apply)', async () => {
    const manifest = [
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: Role',
      'metadata: {name: cm-reader}',
      'rules: [{apiGroups: [""], resources: [configmaps], verbs: [get, list]}]',
      '---',
      'apiVersion: rbac.authorization.k8s.io/v1',
      'kind: RoleBinding',
      'metadata: {name: carol-reads-cms}',
      'roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: cm-reader}',
      'subjects: [{kind: User, name: carol, apiGroup: rbac.authorization.k8s.io}]',
    ].join('\n');
    const r = await request(api.url, 'POST', '/kumo/v1/apply?namespace=team-a', {
      body: manifest,
      contentType: 'application/yaml',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(r.status, r.text).toBeLessThan(300);
    expect((await as('carol', 'GET', '/api/v1/namespaces/team-a/configmaps')).status).toBe(200);
    // The same manifest granting nodes is an escalation for an admin.
    const up = await request(api.url, 'POST', '/kumo/v1/apply?namespace=team-a', {
      body: manifest.replace('resources: [configmaps]', 'resources: [nodes]').replace(/cm-reader/g, 'node-reader'),
      contentType: 'application/yaml',
      headers: { authorization: `Bearer ${t.admin}` },
    });
    expect(up.status).toBe(403);
  });

  it('the bind verb lets a user bind a role it does not hold; an aggregationRule takes cluster-admin', async () => {
    const binder = role('binder', [
      { apiGroups: ['rbac.authorization.k8s.io'], resources: ['rolebindings'], verbs: ['create'] },
      {
        apiGroups: ['rbac.authorization.k8s.io'],
        resources: ['clusterroles'],
        verbs: ['bind'],
        resourceNames: ['view'],
      },
    ]);
    expect((await as('root', 'POST', `${RBAC}/namespaces/team-b/roles`, binder)).status).toBe(201);
    expect(
      (
        await as(
          'root',
          'POST',
          `${RBAC}/namespaces/team-b/rolebindings`,
          binding('RoleBinding', 'dan-binds', ['Role', 'binder'], [user('dan')]),
        )
      ).status,
    ).toBe(201);
    const viewFor = (name: string, roleName: string) =>
      binding('RoleBinding', name, ['ClusterRole', roleName], [user('carol')]);
    expect((await as('dev', 'POST', `${RBAC}/namespaces/team-b/rolebindings`, viewFor('v', 'view'))).status).toBe(201);
    expect((await as('dev', 'POST', `${RBAC}/namespaces/team-b/rolebindings`, viewFor('e', 'edit'))).status).toBe(403);
    const agg = await as('admin', 'POST', `${RBAC}/clusterroles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'gather' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'y' } }] },
    });
    expect(agg.status).toBe(403); // cluster-scoped: an admin token cannot write ClusterRoles at all
  });
});

describe('validation', () => {
  it('answers 422 naming the field, as pkg/apis/rbac/validation', async () => {
    const cases: [string, unknown, string][] = [
      [
        `${RBAC}/namespaces/team-a/roles`,
        role('bad', [{ apiGroups: [''], resources: ['pods'], verbs: [] }]),
        'rules[0].verbs: Required value: verbs must contain at least one value',
      ],
      [
        `${RBAC}/namespaces/team-a/roles`,
        role('bad', [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }]),
        'rules[0].nonResourceURLs: Invalid value: ["/healthz"]: namespaced rules cannot apply to non-resource URLs',
      ],
      [
        `${RBAC}/namespaces/team-a/rolebindings`,
        binding('RoleBinding', 'bad', ['Deployment', 'x'], [user('a')]),
        'roleRef.kind: Unsupported value: "Deployment": supported values: "Role", "ClusterRole"',
      ],
      [
        `${RBAC}/clusterrolebindings`,
        binding('ClusterRoleBinding', 'bad', ['ClusterRole', 'view'], [{ kind: 'ServiceAccount', name: 'sa' }]),
        'subjects[0].namespace: Required value',
      ],
      [
        `${RBAC}/namespaces/team-a/rolebindings`,
        binding('RoleBinding', 'bad', ['Role', 'x'], [{ kind: 'Robot', name: 'r' }]),
        'subjects[0].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
      ],
    ];
    for (const [path, body, message] of cases) {
      const r = await as('root', 'POST', path, body);
      expect(r.status, message).toBe(422);
      expect(r.json.message).toContain(message);
    }
  });

  it('refuses an aggregationRule selector that is not one (it would break every decision reading it)', async () => {
    const r = await as('root', 'POST', `${RBAC}/clusterroles`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'bad-selector' },
      aggregationRule: { clusterRoleSelectors: [{ matchExpressions: [null] }] },
    });
    expect(r.status).toBe(422);
    expect(r.json.message).toContain('aggregationRule.clusterRoleSelectors[0].matchExpressions[0].operator');
  });

  it('a binding keeps its roleRef; names may hold colons', async () => {
    const r = await as(
      'root',
      'POST',
      `${RBAC}/namespaces/team-a/rolebindings`,
      binding('RoleBinding', 'system:fixed', ['Role', 'pod-reader'], [user('z')]),
    );
    expect(r.status).toBe(201);
    const changed = await as('root', 'PUT', `${RBAC}/namespaces/team-a/rolebindings/system:fixed`, {
      ...r.json,
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'other' },
    });
    expect(changed.status).toBe(422);
    expect(changed.json.message).toContain('roleRef: Invalid value');
    expect(changed.json.message).toContain('cannot change roleRef');
  });
});

/**
 * `kubectl auth can-i` for each built-in role, in team-a: Kubernetes' answers for its admin, edit and
 * view ClusterRoles bound there. Each holds both for the kumo token role of that name and for a user
 * with no token role bound to the ClusterRole by a RoleBinding (the two paths must agree).
 */
const CAN_I: [Record<string, string>, admin: boolean, edit: boolean, view: boolean][] = [
  [{ verb: 'get', resource: 'pods' }, true, true, true],
  [{ verb: 'create', resource: 'pods' }, true, true, false],
  [{ verb: 'delete', group: 'apps', resource: 'deployments' }, true, true, false],
  [{ verb: 'get', resource: 'secrets' }, true, true, false],
  [{ verb: 'create', resource: 'secrets' }, true, true, false],
  [{ verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'roles' }, true, false, false],
  [{ verb: 'list', group: 'rbac.authorization.k8s.io', resource: 'rolebindings' }, true, false, false],
  [{ verb: 'update', resource: 'resourcequotas' }, false, false, false],
  [{ verb: 'get', resource: 'resourcequotas' }, true, true, true],
  [{ verb: 'create', resource: 'pods', subresource: 'eviction' }, true, true, false],
  [{ verb: 'get', resource: 'pods', subresource: 'log' }, true, true, true],
  [{ verb: 'create', group: 'authorization.k8s.io', resource: 'localsubjectaccessreviews' }, true, false, false],
  [{ verb: 'patch', group: 'apps', resource: 'deployments', subresource: 'scale' }, true, true, false],
  [{ verb: 'create', resource: 'serviceaccounts' }, true, true, false],
  [{ verb: 'update', resource: 'services', subresource: 'status' }, false, false, false],
  [{ verb: 'get', resource: 'configmaps' }, true, true, true],
  [
    { verb: 'bind', group: 'rbac.authorization.k8s.io', resource: 'clusterroles', name: 'cluster-admin' },
    false,
    false,
    false,
  ],
  [{ verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'roles' }, false, false, false],
  [{ verb: 'impersonate', resource: 'serviceaccounts' }, true, true, false],
  [{ verb: 'list', resource: 'pods', namespace: 'team-b' }, false, false, false],
];

describe('kubectl auth can-i answers as Kubernetes for each built-in role', () => {
  for (const [attrs, ...answers] of CAN_I)
    it(`${attrs.verb} ${attrs.resource}${attrs.subresource ? `/${attrs.subresource}` : ''}${attrs.group ? `.${attrs.group}` : ''}${attrs.name ? ` ${attrs.name}` : ''}`, async () => {
      const asked = { namespace: 'team-a', ...attrs };
      for (const [i, r] of (['admin', 'edit', 'view'] as const).entries()) {
        expect(await canI(r, asked), `${r} token`).toBe(answers[i]);
        expect(await canI(`bound-${r}`, asked), `user bound to ${r}`).toBe(answers[i]);
      }
    });

  it("cluster-wide resources asked with a namespace (kubectl sends its context's) are still cluster-wide", async () => {
    for (const who of ['admin', 'edit'])
      for (const [verb, resource] of [
        ['delete', 'nodes'],
        ['create', 'persistentvolumes'],
        ['delete', 'namespaces'],
      ] as const)
        expect(await canI(who, { namespace: 'team-a', verb, resource }), `${who} ${verb} ${resource}`).toBe(false);
    expect(
      await canI('admin', {
        namespace: 'team-a',
        verb: 'create',
        group: 'rbac.authorization.k8s.io',
        resource: 'clusterroles',
      }),
    ).toBe(false);
  });

  it("cluster-wide questions: nodes and namespaces are the cluster-admin's", async () => {
    for (const who of ['admin', 'edit', 'view', 'bound-admin'])
      expect(await canI(who, { verb: 'list', resource: 'nodes' }), who).toBe(false);
    expect(await canI('root', { verb: 'list', resource: 'nodes' })).toBe(true);
    expect(await canI('carol', { verb: 'get', path: '/healthz' })).toBe(true);
  });
});

describe('impersonation (kubectl --as, --as-group)', () => {
  const asImpersonating = (who: string, path: string, user?: string, groups?: string) =>
    request(api.url, 'GET', path, {
      headers: {
        authorization: `Bearer ${t[who]}`,
        ...(user ? { 'impersonate-user': user } : {}),
        ...(groups ? { 'impersonate-group': groups } : {}),
      },
    });

  it('acts as the impersonated user, with what RBAC grants it, when the caller may impersonate', async () => {
    // carol reads pods in team-a (her RoleBinding); nobody does not.
    expect((await asImpersonating('root', '/api/v1/namespaces/team-a/pods', 'carol')).status).toBe(200);
    const denied = await asImpersonating('root', '/api/v1/namespaces/team-a/pods', 'nobody');
    expect(denied.status).toBe(403);
    expect(denied.json.message).toContain('User "nobody" cannot list resource "pods"');
    // Groups come with the user: devs may read configmaps in team-b once bound.
    expect((await asImpersonating('root', '/api/v1/namespaces/team-b/configmaps', 'zed', 'devs')).status).toBe(403);
    const who = await request(api.url, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
      headers: { authorization: `Bearer ${t.root}`, 'impersonate-user': 'zed', 'impersonate-group': 'devs, qa' },
    });
    expect(who.json.status.userInfo).toEqual({ username: 'zed', groups: ['devs', 'qa', 'system:authenticated'] });
  });

  it('refuses callers who may not impersonate, and groups without a user', async () => {
    const r = await asImpersonating('edit', '/api/v1/namespaces/team-a/pods', 'carol');
    expect(r.status).toBe(403);
    expect(r.json.message).toMatch(
      /^users "carol" is forbidden: User "edit-token" cannot impersonate resource "users" in API group "" at the cluster scope/,
    );
    // Kubernetes' edit role impersonates its namespace's ServiceAccounts (robot reads pods in team-a).
    expect(
      (await asImpersonating('edit', '/api/v1/namespaces/team-a/pods', 'system:serviceaccount:team-a:robot')).status,
    ).toBe(200);
    expect(
      (await asImpersonating('edit', '/api/v1/namespaces/team-a/secrets', 'system:serviceaccount:team-a:robot')).status,
    ).toBe(403);
    expect(
      (await asImpersonating('edit', '/api/v1/namespaces/team-b/pods', 'system:serviceaccount:team-b:robot')).status,
    ).toBe(403);
    expect((await asImpersonating('root', '/api/v1/namespaces/team-a/pods', undefined, 'devs')).status).toBe(400);
  });
});

describe('reviews', () => {
  it('SelfSubjectReview says who the caller is (kubectl auth whoami)', async () => {
    const r = await as('dev', 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(r.status).toBe(201);
    expect(r.json.status.userInfo).toEqual({ username: 'dan', groups: ['devs', 'system:authenticated'] });
  });

  it('SelfSubjectRulesReview lists what RBAC grants in a namespace (kubectl auth can-i --list)', async () => {
    const r = await as('carol', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: { namespace: 'team-a' },
    });
    expect(r.status).toBe(201);
    expect(r.json.status.resourceRules).toContainEqual({
      verbs: ['get', 'list'],
      apiGroups: [''],
      resources: ['pods'],
    });
    expect(r.json.status.incomplete).toBe(false);
    const none = await as('carol', 'POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SelfSubjectRulesReview',
      spec: {},
    });
    expect(none.status).toBe(400);
  });

  it('SubjectAccessReview is for those allowed to create it; bad specs answer 422', async () => {
    const body = {
      apiVersion: 'authorization.k8s.io/v1',
      kind: 'SubjectAccessReview',
      spec: { user: 'carol', resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'pods' } },
    };
    expect((await as('carol', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body)).status).toBe(403);
    const ok = await as('root', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', body);
    expect(ok.json.status.allowed).toBe(true);
    const bad = await as('root', 'POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      ...body,
      spec: { resourceAttributes: body.spec.resourceAttributes },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.message).toBe(
      '.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": at least one of user or group must be specified',
    );
    const local = await as(
      'admin',
      'POST',
      '/apis/authorization.k8s.io/v1/namespaces/team-a/localsubjectaccessreviews',
      {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'LocalSubjectAccessReview',
        spec: { user: 'carol', resourceAttributes: { namespace: 'team-b', verb: 'get', resource: 'pods' } },
      },
    );
    expect(local.status).toBe(422);
    expect(local.json.message).toContain(
      'spec.resourceAttributes.namespace: Invalid value: "team-b": must match metadata.namespace',
    );
  });
});
