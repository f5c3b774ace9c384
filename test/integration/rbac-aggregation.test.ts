import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';
import { jsonEqual } from '../../shared/model/json.js';
import { inject } from 'vitest';
import { dynamoClient } from '../../shared/aws/clients.js';
import { DynamoGenerationStore } from '../../shared/store/dynamo/dynamo-generation.js';

/**
 * The clusterrole-aggregation controller behind the real event path: a chart's ClusterRole labelled
 * `aggregate-to-edit` shows up in the stored rules of `edit`, and through it of `admin`, and leaves
 * them when it is deleted, as Kubernetes' controller keeps them; and the RBAC generation the API
 * containers check their copies against moves with every change the authorizer reads.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

const WIDGETS = { apiGroups: ['example.io'], resources: ['widgets'], verbs: ['get', 'list', 'create'] };
const hasWidgets = async (name: string) => (await rulesOf(name)).some((r) => jsonEqual(r, WIDGETS));
const rulesOf = async (name: string) =>
  ((await s.api.service.get(T('ClusterRole'), '', name)).rules ?? []) as unknown[];

describe('ClusterRole aggregation', () => {
  it("adds a labelled role's rules to edit and admin, and takes them away when it goes", async () => {
    expect(await rulesOf('edit')).not.toContainEqual(WIDGETS);
    await s.api.service.create(T('ClusterRole'), undefined, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'widget-editor', labels: { 'rbac.authorization.k8s.io/aggregate-to-edit': 'true' } },
      rules: [WIDGETS],
    });
    await until(() => hasWidgets('admin'), 20_000);
    expect(await rulesOf('edit')).toContainEqual(WIDGETS);
    expect(await rulesOf('view')).not.toContainEqual(WIDGETS);
    const before = (await rulesOf('edit')).length;
    await s.api.service.delete(T('ClusterRole'), '', 'widget-editor');
    await until(async () => !(await hasWidgets('admin')), 20_000);
    expect((await rulesOf('edit')).length).toBe(before - 1);
  });

  it('any change the authorizer reads bumps the RBAC generation, so API containers list them again', async () => {
    const generation = new DynamoGenerationStore(
      dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }),
      s.tableName,
      'rbac',
    );
    const before = await generation.read();
    await s.api.service.create(T('RoleBinding'), 'default', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'carol-views' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
      subjects: [{ kind: 'User', name: 'carol' }],
    });
    await until(async () => (await generation.read()) > before, 20_000);
  });
});
