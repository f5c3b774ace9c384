import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAgent } from '../../agent/create.js';
import type { Agent } from '../../shared/agent/agent.js';
import { TokenService } from '../../shared/auth/token-service.js';
import { loadAgentConfig } from '../../shared/config.js';
import { DynamoTokenStore } from '../../shared/store/dynamo/dynamo-token-store.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import { systemClock } from '../../shared/util/clock.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { inject } from 'vitest';
import { until } from '../support/wait.js';
import { request } from '../support/http.js';
import { k8sEnvelope, pbField, pbMessage } from '../support/protobuf.js';

/**
 * Every route × every kind of caller against the real API handler (functions/api.ts) in `tokens` mode,
 * as on AWS: tokens are real records in DynamoDB Local, checked by the same code. "allow" means the
 * request got past authorization (any answer but 401/403); "deny" means 401 for the anonymous caller
 * and 403 for the others.
 */
let api: TestApi;
let tokens: TokenService;
const t: Record<string, string> = {};

type Who =
  | 'anonymous'
  | 'admin'
  | 'adminA'
  | 'editorA'
  | 'viewerA'
  | 'editorB'
  | 'custom'
  | 'saA'
  | 'nodeA'
  | 'nodeB'
  | 'bootstrap';
const WHO: Who[] = [
  'anonymous',
  'admin',
  'adminA',
  'editorA',
  'viewerA',
  'editorB',
  'custom',
  'saA',
  'nodeA',
  'nodeB',
  'bootstrap',
];

const as = (who: Who, method: string, path: string, body?: unknown, contentType = 'application/json') =>
  request(api.url, method, path, {
    body,
    contentType,
    headers: who === 'anonymous' ? {} : { authorization: `Bearer ${t[who]}` },
  });

const registration = {
  holder: 'matrix',
  capacity: { cpu: '2', memory: '4Gi', pods: '10' },
  allocatable: { cpu: '2', memory: '4Gi', pods: '10' },
};
const podOn = (name: string, node: string, secret: string, cm: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  spec: {
    nodeName: node,
    containers: [
      {
        name: 'c',
        image: 'busybox',
        env: [{ name: 'S', valueFrom: { secretKeyRef: { name: secret, key: 'k' } } }],
        envFrom: [{ configMapRef: { name: cm } }],
      },
    ],
  },
});

beforeAll(async () => {
  process.env.KUMO_AUTH_MODE = 'tokens';
  process.env.KUMO_AUTH_CACHE_SECONDS = '1';
  api = await startApi();
  tokens = new TokenService(
    new DynamoTokenStore(
      dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }),
      api.stack.tableName,
    ),
    systemClock,
  );
  t.admin = (await tokens.createUserToken({ name: 'alice', role: 'cluster-admin' })).token;
  t.adminA = (await tokens.createUserToken({ name: 'ad', role: 'admin', namespaces: ['team-a'] })).token;
  t.editorA = (await tokens.createUserToken({ name: 'ed', role: 'edit', namespaces: ['team-a'] })).token;
  // No token role: only what RBAC grants (a Role reading pods in team-a, bound below).
  t.custom = (await tokens.createUserToken({ name: 'cu', role: 'none' })).token;
  t.viewerA = (await tokens.createUserToken({ name: 'vi', role: 'view', namespaces: ['team-a'] })).token;
  t.editorB = (await tokens.createUserToken({ name: 'bob', role: 'edit', namespaces: ['team-b'] })).token;
  t.nodeA = (await tokens.issueNodeCredential('node-a')).token;
  t.nodeB = (await tokens.issueNodeCredential('node-b')).token;
  t.bootstrap = (await tokens.createBootstrapToken('fleet', 600)).token;
  for (const ns of ['team-a', 'team-b'])
    expect(
      (await as('admin', 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } }))
        .status,
    ).toBe(201);
  expect(
    (
      await as('admin', 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/roles', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'Role',
        metadata: { name: 'pod-reader' },
        rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }],
      })
    ).status,
  ).toBe(201);
  expect(
    (
      await as('admin', 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'cu-reads-pods' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' },
        subjects: [{ kind: 'User', name: 'cu' }],
      })
    ).status,
  ).toBe(201);
  // A ServiceAccount of team-a bound to Kubernetes' view ClusterRole there, acting with a TokenRequest token.
  expect(
    (await as('admin', 'POST', '/api/v1/namespaces/team-a/serviceaccounts', { metadata: { name: 'robot' } })).status,
  ).toBe(201);
  expect(
    (
      await as('admin', 'POST', '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a/rolebindings', {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'robot-views' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
        subjects: [{ kind: 'ServiceAccount', name: 'robot' }],
      })
    ).status,
  ).toBe(201);
  const sa = await as('admin', 'POST', '/api/v1/namespaces/team-a/serviceaccounts/robot/token', {
    apiVersion: 'authentication.k8s.io/v1',
    kind: 'TokenRequest',
    spec: {},
  });
  expect(sa.status, sa.text).toBe(201);
  t.saA = sa.json.status.token;
  expect((await as('nodeA', 'POST', '/kumo/v1/nodes/node-a/register', registration)).status).toBe(200);
  expect((await as('nodeB', 'POST', '/kumo/v1/nodes/node-b/register', registration)).status).toBe(200);
  for (const [kind, plural, name] of [
    ['Secret', 'secrets', 'secret-a'],
    ['Secret', 'secrets', 'secret-b'],
    ['ConfigMap', 'configmaps', 'cm-a'],
    ['ConfigMap', 'configmaps', 'cm-b'],
  ] as const) {
    const data = kind === 'Secret' ? { stringData: { k: `value of ${name}` } } : { data: { k: name } };
    expect(
      (
        await as('admin', 'POST', `/api/v1/namespaces/team-a/${plural}`, {
          apiVersion: 'v1',
          kind,
          metadata: { name },
          ...data,
        })
      ).status,
    ).toBe(201);
  }
  expect(
    (await as('admin', 'POST', '/api/v1/namespaces/team-a/pods', podOn('pod-a', 'node-a', 'secret-a', 'cm-a'))).status,
  ).toBe(201);
  expect(
    (await as('admin', 'POST', '/api/v1/namespaces/team-a/pods', podOn('pod-b', 'node-b', 'secret-b', 'cm-b'))).status,
  ).toBe(201);
  // Volumes: pod-c on node-a mounts claim-a, bound to pv-a, and claim-stolen, which names pv-b as its
  // volume although pv-b is claim-b's (a claim's volumeName is its author's to write).
  const claims: Record<string, string> = {};
  for (const [name, volumeName] of [
    ['claim-a', 'pv-a'],
    ['claim-b', 'pv-b'],
    ['claim-stolen', 'pv-b'],
  ] as const) {
    const r = await as('admin', 'POST', '/api/v1/namespaces/team-a/persistentvolumeclaims', {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name },
      spec: {
        accessModes: ['ReadWriteOnce'],
        storageClassName: '',
        volumeName,
        resources: { requests: { storage: '1Gi' } },
      },
    });
    expect(r.status).toBe(201);
    claims[name] = r.json.metadata.uid;
  }
  for (const [name, claim] of [
    ['pv-a', 'claim-a'],
    ['pv-b', 'claim-b'],
  ] as const)
    expect(
      (
        await as('admin', 'POST', '/api/v1/persistentvolumes', {
          apiVersion: 'v1',
          kind: 'PersistentVolume',
          metadata: { name },
          spec: {
            capacity: { storage: '1Gi' },
            accessModes: ['ReadWriteOnce'],
            hostPath: { path: `/tmp/${name}` },
            claimRef: { namespace: 'team-a', name: claim, uid: claims[claim] },
          },
        })
      ).status,
    ).toBe(201);
  expect(
    (
      await as('admin', 'POST', '/api/v1/namespaces/team-a/pods', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'pod-c' },
        spec: {
          nodeName: 'node-a',
          containers: [{ name: 'c', image: 'busybox' }],
          volumes: [
            { name: 'a', persistentVolumeClaim: { claimName: 'claim-a' } },
            { name: 's', persistentVolumeClaim: { claimName: 'claim-stolen' } },
          ],
        },
      })
    ).status,
  ).toBe(201);
}, 60_000);
afterAll(async () => {
  delete process.env.KUMO_AUTH_MODE;
  await api?.close();
});

type Expect = Partial<Record<Who, 'allow'>>;
const only = (...who: Who[]): Expect => Object.fromEntries(who.map((w) => [w, 'allow'])) as Expect;
const USERS_READ_A = only('admin', 'adminA', 'editorA', 'viewerA', 'saA');
const USERS_WRITE_A = only('admin', 'adminA', 'editorA');
const EVERYONE_KNOWN = only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'editorB', 'custom', 'nodeA', 'nodeB');
/** Pods in team-a: the token roles there, and the custom user's Role. */
const POD_READERS_A = only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'custom');
const RBAC_A = '/apis/rbac.authorization.k8s.io/v1/namespaces/team-a';
const bindingTo = (role: string) => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'RoleBinding',
  metadata: { name: `to-${role}` },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
  subjects: [{ kind: 'User', name: 'someone' }],
});
const review = (kind: string, spec: unknown) => ({ apiVersion: 'authorization.k8s.io/v1', kind, spec });

/** [what, method, path, body, who is allowed]. Destructive rows use ?dryRun=All (authorized as the write itself, nothing written), so nothing changes. */
const ROUTES: [string, string, string, unknown, Expect][] = [
  ['version', 'GET', '/version', undefined, EVERYONE_KNOWN],
  ['discovery /api', 'GET', '/api', undefined, EVERYONE_KNOWN],
  ['discovery /apis/apps/v1', 'GET', '/apis/apps/v1', undefined, EVERYONE_KNOWN],
  ['openapi', 'GET', '/openapi/v3', undefined, EVERYONE_KNOWN],
  ['health', 'GET', '/healthz', undefined, EVERYONE_KNOWN],
  ['list pods in team-a', 'GET', '/api/v1/namespaces/team-a/pods', undefined, POD_READERS_A],
  [
    'watch pods in team-a',
    'GET',
    '/api/v1/namespaces/team-a/pods?watch=true&timeoutSeconds=0',
    undefined,
    POD_READERS_A,
  ],
  ['list pods in all namespaces', 'GET', '/api/v1/pods', undefined, only('admin')],
  ['list configmaps in team-b', 'GET', '/api/v1/namespaces/team-b/configmaps', undefined, only('admin', 'editorB')],
  [
    'get pod-a (on node-a)',
    'GET',
    '/api/v1/namespaces/team-a/pods/pod-a',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'custom', 'nodeA'),
  ],
  [
    'get pod-b (on node-b)',
    'GET',
    '/api/v1/namespaces/team-a/pods/pod-b',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'custom', 'nodeB'),
  ],
  ['get a pod that does not exist', 'GET', '/api/v1/namespaces/team-a/pods/ghost', undefined, POD_READERS_A],
  ['pod-a log', 'GET', '/api/v1/namespaces/team-a/pods/pod-a/log', undefined, USERS_READ_A],
  [
    'get secret-a (pod-a needs it)',
    'GET',
    '/api/v1/namespaces/team-a/secrets/secret-a',
    undefined,
    only('admin', 'adminA', 'editorA', 'nodeA'),
  ],
  [
    'get secret-b (pod-b needs it)',
    'GET',
    '/api/v1/namespaces/team-a/secrets/secret-b',
    undefined,
    only('admin', 'adminA', 'editorA', 'nodeB'),
  ],
  ['list secrets in team-a', 'GET', '/api/v1/namespaces/team-a/secrets', undefined, USERS_WRITE_A],
  [
    'get cm-a (pod-a needs it)',
    'GET',
    '/api/v1/namespaces/team-a/configmaps/cm-a',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'nodeA'),
  ],
  [
    'get cm-b (pod-b needs it)',
    'GET',
    '/api/v1/namespaces/team-a/configmaps/cm-b',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'nodeB'),
  ],
  [
    'get claim-a (pod-c needs it)',
    'GET',
    '/api/v1/namespaces/team-a/persistentvolumeclaims/claim-a',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA', 'nodeA'),
  ],
  [
    'get claim-b (no pod uses it)',
    'GET',
    '/api/v1/namespaces/team-a/persistentvolumeclaims/claim-b',
    undefined,
    USERS_READ_A,
  ],
  ['get pv-a (bound to pod-c’s claim)', 'GET', '/api/v1/persistentvolumes/pv-a', undefined, only('admin', 'nodeA')],
  [
    'get pv-b (claim-b’s, named by pod-c’s other claim)',
    'GET',
    '/api/v1/persistentvolumes/pv-b',
    undefined,
    only('admin'),
  ],
  ['list persistentvolumes', 'GET', '/api/v1/persistentvolumes', undefined, only('admin')],
  [
    'create a configmap in team-a',
    'POST',
    '/api/v1/namespaces/team-a/configmaps?dryRun=All',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } },
    USERS_WRITE_A,
  ],
  [
    'patch a deployment in team-a',
    'PATCH',
    '/apis/apps/v1/namespaces/team-a/deployments/web?dryRun=All',
    { metadata: { labels: { a: 'b' } } },
    USERS_WRITE_A,
  ],
  [
    'scale a deployment in team-a',
    'PATCH',
    '/apis/apps/v1/namespaces/team-a/deployments/web/scale?dryRun=All',
    { spec: { replicas: 2 } },
    USERS_WRITE_A,
  ],
  ['delete pod-a', 'DELETE', '/api/v1/namespaces/team-a/pods/pod-a?dryRun=All', undefined, USERS_WRITE_A],
  ['update pod-a status', 'PUT', '/api/v1/namespaces/team-a/pods/pod-a/status?dryRun=All', {}, USERS_WRITE_A],
  [
    "bind a pod in team-a (the scheduler's)",
    'POST',
    '/api/v1/namespaces/team-a/pods/pod-a/binding?dryRun=All',
    { target: { kind: 'Node', name: 'node-b' } },
    only('admin'),
  ],
  [
    'create a namespace',
    'POST',
    '/api/v1/namespaces?dryRun=All',
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
    only('admin'),
  ],
  [
    'get namespace team-a',
    'GET',
    '/api/v1/namespaces/team-a',
    undefined,
    only('admin', 'adminA', 'editorA', 'viewerA', 'saA'),
  ],
  ['delete namespace team-a', 'DELETE', '/api/v1/namespaces/team-a?dryRun=All', undefined, only('admin')],
  ['list nodes', 'GET', '/api/v1/nodes', undefined, only('admin')],
  ['get node-a', 'GET', '/api/v1/nodes/node-a', undefined, only('admin', 'nodeA')],
  ['change node-a taints', 'PATCH', '/api/v1/nodes/node-a?dryRun=All', { spec: { taints: [] } }, only('admin')],
  ['update node-a status', 'PUT', '/api/v1/nodes/node-a/status?dryRun=All', {}, only('admin')],
  ['update node-b status', 'PUT', '/api/v1/nodes/node-b/status?dryRun=All', {}, only('admin')],
  ['delete node-a', 'DELETE', '/api/v1/nodes/node-a?dryRun=All', undefined, only('admin')],
  ['sync as node-a', 'POST', '/kumo/v1/nodes/node-a/sync', { epoch: 'not a number' }, only('admin', 'nodeA')],
  ['sync as node-b', 'POST', '/kumo/v1/nodes/node-b/sync', { epoch: 'not a number' }, only('admin', 'nodeB')],
  ['register as node-b', 'POST', '/kumo/v1/nodes/node-b/register', { holder: 1 }, only('admin', 'nodeB')],
  ['obtain a node credential', 'POST', '/kumo/v1/nodes/node-new/credentials', {}, only('admin', 'bootstrap')],
  [
    'apply a manifest into team-a',
    'POST',
    '/kumo/v1/apply?namespace=team-a',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied}\n',
    USERS_WRITE_A,
  ],
  [
    'apply a manifest into team-b',
    'POST',
    '/kumo/v1/apply',
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: applied, namespace: team-b}\n',
    only('admin', 'editorB'),
  ],
  ['list roles in team-a', 'GET', `${RBAC_A}/roles`, undefined, only('admin', 'adminA')],
  ['bind edit in team-a', 'POST', `${RBAC_A}/rolebindings?dryRun=All`, bindingTo('edit'), only('admin', 'adminA')],
  // An admin holds edit's rules in team-a, not cluster-admin's: granting them is an escalation.
  [
    'bind cluster-admin in team-a',
    'POST',
    `${RBAC_A}/rolebindings?dryRun=All`,
    bindingTo('cluster-admin'),
    only('admin'),
  ],
  ['list clusterroles', 'GET', '/apis/rbac.authorization.k8s.io/v1/clusterroles', undefined, only('admin')],
  [
    'review own access (kubectl auth can-i)',
    'POST',
    '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
    review('SelfSubjectAccessReview', { resourceAttributes: { verb: 'get', resource: 'pods' } }),
    EVERYONE_KNOWN,
  ],
  [
    'who am I (kubectl auth whoami)',
    'POST',
    '/apis/authentication.k8s.io/v1/selfsubjectreviews',
    { apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' },
    EVERYONE_KNOWN,
  ],
  [
    "review another's access",
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    review('SubjectAccessReview', { user: 'x', resourceAttributes: { verb: 'get', resource: 'pods' } }),
    only('admin'),
  ],
  [
    "review another's access in team-a",
    'POST',
    '/apis/authorization.k8s.io/v1/namespaces/team-a/localsubjectaccessreviews',
    review('LocalSubjectAccessReview', {
      user: 'x',
      resourceAttributes: { namespace: 'team-a', verb: 'get', resource: 'pods' },
    }),
    only('admin', 'adminA'),
  ],
  ['an unknown path', 'GET', '/no/such/path', undefined, EVERYONE_KNOWN],
];

describe('authorization matrix: every route × every kind of caller', () => {
  it('allows exactly what each role grants (0 unexpected allows, 0 unexpected denies)', async () => {
    const unexpected: string[] = [];
    let checked = 0;
    for (const [what, method, path, body, allowed] of ROUTES) {
      for (const who of WHO) {
        const yaml = typeof body === 'string';
        const r = await as(
          who,
          method,
          path,
          body,
          yaml ? 'application/yaml' : method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
        );
        const denied = r.status === 401 || r.status === 403;
        const want = allowed[who] === 'allow';
        checked++;
        if (want === denied)
          unexpected.push(
            `${who} ${method} ${path} (${what}): expected ${want ? 'allow' : 'deny'}, got ${r.status} ${r.text.slice(0, 160)}`,
          );
        else if (denied) {
          // Denials are Kubernetes Status objects: 401 only for the anonymous caller.
          expect(r.json).toMatchObject({
            kind: 'Status',
            code: r.status,
            reason: r.status === 401 ? 'Unauthorized' : 'Forbidden',
          });
          expect(r.status).toBe(who === 'anonymous' ? 401 : 403);
        }
      }
    }
    expect(unexpected).toEqual([]);
    expect(checked).toBe(ROUTES.length * WHO.length);
  }, 120_000);

  it('words a denial as Kubernetes does', async () => {
    const r = await as('viewerA', 'GET', '/api/v1/namespaces/team-a/secrets/secret-a');
    expect(r.json.message).toBe(
      'secrets "secret-a" is forbidden: User "vi" cannot get resource "secrets" in API group "" in the namespace "team-a": the view role does not read Secrets',
    );
    const n = await as('nodeA', 'GET', '/api/v1/namespaces/team-a/secrets/secret-b');
    expect(n.json.message).toContain('User "system:node:node-a" cannot get resource "secrets"');
  });

  it("gives a node tokens only for its own pods' accounts, bound to those pods (Node authorizer, NodeRestriction)", async () => {
    const uidOf = async (name: string) =>
      (await as('admin', 'GET', `/api/v1/namespaces/team-a/pods/${name}`)).json.metadata.uid as string;
    const tokenFor = (who: Who, account: string, bound?: { name: string; uid?: string }) =>
      as(who, 'POST', `/api/v1/namespaces/team-a/serviceaccounts/${account}/token`, {
        spec: bound ? { boundObjectRef: { apiVersion: 'v1', kind: 'Pod', ...bound } } : {},
      });
    // pod-a (on node-a) runs as team-a's default account: node-a gets a token bound to it, as kubelet asks.
    const ok = await tokenFor('nodeA', 'default', { name: 'pod-a', uid: await uidOf('pod-a') });
    expect(ok.status, ok.text).toBe(201);
    expect(ok.json.status.token).toMatch(/^eyJ/);
    // Unbound, or bound without a uid: NodeRestriction's refusals.
    const unbound = await tokenFor('nodeA', 'default');
    expect(unbound.status).toBe(403);
    expect(unbound.json.message).toBe(
      'serviceaccounts "default" is forbidden: node requested token not bound to a pod',
    );
    const noUid = await tokenFor('nodeA', 'default', { name: 'pod-a' });
    expect(noUid.json.message).toBe(
      'serviceaccounts "default" is forbidden: node requested token with a pod binding without a uid',
    );
    // Bound to pod-b, which runs as the same account but on node-b.
    const elsewhere = await tokenFor('nodeA', 'default', { name: 'pod-b', uid: await uidOf('pod-b') });
    expect(elsewhere.status).toBe(403);
    expect(elsewhere.json.message).toBe(
      'serviceaccounts "default" is forbidden: node requested token bound to a pod scheduled on a different node',
    );
    // No pod on node-a runs as robot: the Node authorizer refuses before anything is read.
    const robot = await tokenFor('nodeA', 'robot', { name: 'pod-a', uid: await uidOf('pod-a') });
    expect(robot.status).toBe(403);
    expect(robot.json.message).toContain(
      'User "system:node:node-a" cannot create resource "serviceaccounts/token" in API group "" in the namespace "team-a": no pod bound to this node runs as this ServiceAccount',
    );
  });

  it('lets a node write status only for pods bound to it, even through its own sync', async () => {
    const podB = (await as('admin', 'GET', '/api/v1/namespaces/team-a/pods/pod-b')).json;
    const lease = (await as('nodeA', 'POST', '/kumo/v1/nodes/node-a/register', registration)).json;
    const r = await as('nodeA', 'POST', '/kumo/v1/nodes/node-a/sync', {
      epoch: lease.epoch,
      pods: [
        { namespace: 'team-a', name: 'pod-b', uid: podB.metadata.uid, status: { phase: 'Failed', reason: 'Forged' } },
      ],
    });
    expect(r.status, r.text).toBeLessThan(500);
    const after = (await as('admin', 'GET', '/api/v1/namespaces/team-a/pods/pod-b')).json;
    expect(after.status?.phase).not.toBe('Failed');
  });
});

describe('token life cycle', () => {
  it('stops honouring a revoked token (after the cache period)', async () => {
    const issued = await tokens.createUserToken({ name: 'temp', role: 'view', namespaces: ['team-a'] });
    const call = () =>
      fetch(`${api.url}/api/v1/namespaces/team-a/pods`, { headers: { authorization: `Bearer ${issued.token}` } });
    expect((await call()).status).toBe(200);
    await tokens.revoke(issued.record.id);
    await until(async () => (await call()).status === 401, 5_000);
    expect((await tokens.list()).find((r) => r.id === issued.record.id)?.revokedAt).toBeTruthy();
  });

  it('refuses expired tokens, tampered tokens and malformed headers with 401', async () => {
    const short = await tokens.createUserToken({ name: 'brief', role: 'cluster-admin', ttlSeconds: 1 });
    await new Promise((r) => setTimeout(r, 1_200));
    const bad = [
      `Bearer ${short.token}`,
      `Bearer ${t.admin}x`,
      `Bearer ${t.admin?.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))}`,
      'Basic YWxpY2U6cGFzcw==',
      'Bearer',
      `Bearer kumo.${Buffer.from('node:node-a').toString('base64url')}.AAAAAAAAAAAAAAAAAAAAAAAA`,
    ];
    for (const authorization of bad) {
      const r = await fetch(`${api.url}/api/v1/namespaces`, { headers: { authorization } });
      expect(r.status, authorization).toBe(401);
      expect(await r.json()).toMatchObject({ kind: 'Status', reason: 'Unauthorized', code: 401 });
    }
  });

  it('stores only hashes: no token text in the table', async () => {
    const records = await tokens.list();
    expect(records.length).toBeGreaterThanOrEqual(7);
    const dump = JSON.stringify(records);
    for (const token of Object.values(t)) expect(dump).not.toContain(token.split('.')[2]);
  });

  it('replaces a node credential when a new one is issued for the same node', async () => {
    const old = (await tokens.issueNodeCredential('node-c')).token;
    const fresh = (await tokens.issueNodeCredential('node-c')).token;
    const get = (token: string) => fetch(`${api.url}/version`, { headers: { authorization: `Bearer ${token}` } });
    expect((await get(fresh)).status).toBe(200);
    expect((await get(old)).status).toBe(401);
  });
});

describe('node bootstrap', () => {
  let agent: Agent | undefined;
  afterAll(async () => agent?.stop({ stopPods: true }));

  it('an agent with a bootstrap token obtains its own credential, keeps it, and registers with it', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'kumo-bootstrap-'));
    agent = await createAgent(
      loadAgentConfig(
        {
          server: api.url,
          'node-name': 'node-boot',
          'bootstrap-token': t.bootstrap,
          'data-dir': dataDir,
          'internal-ip': '127.0.0.1',
          // This test is about credentials: no service range routed, no nftables table left on the host.
          'service-proxy': 'false',
        },
        {},
      ),
    );
    const file = join(dataDir, 'node-credential');
    expect(existsSync(file)).toBe(true);
    const credential = readFileSync(file, 'utf8').trim();
    expect(credential).not.toBe(t.bootstrap);
    await agent.start();
    await until(
      async () =>
        (await as('admin', 'GET', '/api/v1/nodes/node-boot')).json?.status?.conditions?.some(
          (c: any) => c.type === 'Ready' && c.status === 'True',
        ),
      20_000,
    );
    // The credential is node-boot's alone: it cannot act as another node.
    const other = await fetch(`${api.url}/kumo/v1/nodes/node-a/register`, {
      method: 'POST',
      headers: { authorization: `Bearer ${credential}`, 'content-type': 'application/json' },
      body: JSON.stringify(registration),
    });
    expect(other.status).toBe(403);
  }, 60_000);

  it('a node cannot give itself labels reserved for administrators (NodeRestriction)', async () => {
    const r = await as('nodeA', 'POST', '/kumo/v1/nodes/node-a/register', {
      ...registration,
      labels: { 'node-restriction.kubernetes.io/pci': 'true', role: 'web' },
    });
    expect(r.status).toBe(403);
    expect(r.json.message).toContain('node-restriction.kubernetes.io/pci');
    const node = (await as('admin', 'GET', '/api/v1/nodes/node-a')).json;
    expect(node.metadata.labels?.role).toBeUndefined(); // nothing of the refused registration was written
  });

  it('a bootstrap token can do nothing else', async () => {
    expect((await as('bootstrap', 'GET', '/api/v1/namespaces/team-a/pods')).status).toBe(403);
    expect((await as('bootstrap', 'POST', '/kumo/v1/nodes/node-a/register', registration)).status).toBe(403);
  });
});

describe('placing a pod: only a binding sets spec.nodeName (issue 16: an edit token bound pods past the scheduler)', () => {
  const PODS = '/api/v1/namespaces/team-a/pods';
  const unbound = (name: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: { containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '500m', memory: '64Mi' } } }] },
  });
  const allocation = async (node: string) => (await api.stack.store.getNodeAllocation(node))?.pods ?? {};

  it('refuses spec.nodeName through PUT and every patch type with 422 naming the field, for an editor and an admin alike', async () => {
    expect((await as('editorA', 'POST', PODS, unbound('free'))).status).toBe(201);
    const current = (await as('editorA', 'GET', `${PODS}/free`)).json;
    const attempts: [string, string, unknown, string][] = [
      ['PUT', `${PODS}/free`, { ...current, spec: { ...current.spec, nodeName: 'node-a' } }, 'application/json'],
      ['PATCH', `${PODS}/free`, { spec: { nodeName: 'node-a' } }, 'application/merge-patch+json'],
      ['PATCH', `${PODS}/free`, { spec: { nodeName: 'node-a' } }, 'application/strategic-merge-patch+json'],
      [
        'PATCH',
        `${PODS}/free`,
        [{ op: 'add', path: '/spec/nodeName', value: 'node-a' }],
        'application/json-patch+json',
      ],
      [
        'PATCH',
        `${PODS}/free?fieldManager=me&force=true`,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'free' },
          spec: { nodeName: 'node-a', containers: [{ name: 'c', image: 'busybox' }] },
        }),
        'application/apply-patch+yaml',
      ],
    ];
    for (const who of ['editorA', 'admin'] as const) {
      for (const [method, path, body, type] of attempts) {
        const r = await as(who, method, path, body, type);
        expect({ who, type, status: r.status }).toEqual({ who, type, status: 422 });
        expect(r.json.details.causes.map((c: { field: string }) => c.field)).toEqual(['spec.nodeName']);
      }
    }
    expect((await as('admin', 'GET', `${PODS}/free`)).json.spec.nodeName).toBeUndefined();
    expect(Object.keys(await allocation('node-a'))).not.toContain(current.metadata.uid);
  });

  it("pods/binding: refused to an editor, binds for an admin through the node's capacity ledger, once", async () => {
    const pod = (await as('admin', 'POST', PODS, unbound('placed'))).json;
    const binding = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'placed' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-a' },
    };
    const denied = await as('editorA', 'POST', `${PODS}/placed/binding`, binding);
    expect(denied.status).toBe(403);
    expect(denied.json.message).toContain('cannot create resource "pods/binding"');

    expect(
      (await as('admin', 'POST', `${PODS}/placed/binding`, { ...binding, metadata: { name: 'other' } })).status,
    ).toBe(400);
    const notNode = await as('admin', 'POST', `${PODS}/placed/binding`, {
      ...binding,
      target: { kind: 'Pod', name: 'node-a' },
    });
    expect(notNode.status).toBe(422);
    expect(notNode.json.details.causes[0].field).toBe('target.kind');
    expect(
      (
        await as('admin', 'POST', `${PODS}/placed/binding`, {
          ...binding,
          target: { kind: 'Node', name: 'no-such-node' },
        })
      ).status,
    ).toBe(404);

    const ok = await as('admin', 'POST', `${PODS}/placed/binding`, binding);
    expect(ok.status).toBe(201);
    expect(ok.json).toMatchObject({ kind: 'Status', status: 'Success', code: 201 });
    const bound = (await as('admin', 'GET', `${PODS}/placed`)).json;
    expect(bound.spec.nodeName).toBe('node-a');
    expect(bound.status.conditions).toContainEqual(expect.objectContaining({ type: 'PodScheduled', status: 'True' }));
    expect((await allocation('node-a'))[pod.metadata.uid]).toMatchObject({ cpuMilli: 500 });
    const again = await as('admin', 'POST', `${PODS}/placed/binding`, {
      ...binding,
      target: { kind: 'Node', name: 'node-b' },
    });
    expect(again.status).toBe(409);
    expect(again.json.message).toContain('pod placed is already assigned to node "node-a"');
  });

  it('pods/binding reads the protobuf Binding kube-scheduler sends, and is listed in discovery', async () => {
    expect((await as('admin', 'POST', PODS, unbound('by-proto'))).status).toBe(201);
    const body = k8sEnvelope(
      'v1',
      'Binding',
      pbMessage(
        pbField(1, pbMessage(pbField(1, 'by-proto'), pbField(3, 'team-a'))),
        pbField(2, pbMessage(pbField(1, 'Node'), pbField(3, 'node-b'))),
      ),
    );
    const r = await fetch(`${api.url}${PODS}/by-proto/binding`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.admin}`, 'content-type': 'application/vnd.kubernetes.protobuf' },
      body,
    });
    expect(r.status).toBe(201);
    expect((await as('admin', 'GET', `${PODS}/by-proto`)).json.spec.nodeName).toBe('node-b');
    const resources = (await as('admin', 'GET', '/api/v1')).json.resources.map(
      (x: { name: string; verbs: string[] }) => `${x.name}:${x.verbs.join(',')}`,
    );
    expect(resources).toContain('pods/binding:create');
  });
});
