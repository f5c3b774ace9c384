import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { adoptable, withController } from '../../../shared/controllers/adoption.js';

const owner = (selector?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web', namespace: 'default', uid: 'rs-uid' },
  spec: { selector },
});
const pod = (
  name: string,
  labels: Record<string, string>,
  extra: Partial<KubeObject['metadata']> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `${name}-uid`, labels, ...extra },
});

describe('adoption', () => {
  const candidates = [
    pod('match', { app: 'web' }),
    pod('other-app', { app: 'db' }),
    pod(
      'owned',
      { app: 'web' },
      { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'x', uid: 'x', controller: true }] },
    ),
    pod(
      'owned-not-controller',
      { app: 'web' },
      { ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c' }] },
    ),
    pod('deleting', { app: 'web' }, { deletionTimestamp: '2026-01-01T00:00:00Z' }),
  ];

  it('takes what the selector matches, nobody controls and is not being deleted', () => {
    expect(adoptable(owner({ matchLabels: { app: 'web' } }), candidates).map((p) => p.metadata.name)).toEqual([
      'match',
      'owned-not-controller',
    ]);
    expect(
      adoptable(owner({ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'db'] }] }), candidates).map(
        (p) => p.metadata.name,
      ),
    ).toEqual(['match', 'other-app', 'owned-not-controller']);
  });

  it('takes nothing with an empty selector, and honours the extra filter', () => {
    expect(adoptable(owner(undefined), candidates)).toEqual([]);
    expect(adoptable(owner({}), candidates)).toEqual([]);
    expect(
      adoptable(owner({ matchLabels: { app: 'web' } }), candidates, (p) => p.metadata.name === 'match').map(
        (p) => p.metadata.name,
      ),
    ).toEqual(['match']);
  });

  it('adds a controller reference beside the references already there', () => {
    const adopted = withController(candidates[3] as KubeObject, owner({ matchLabels: { app: 'web' } }));
    expect(adopted.metadata.ownerReferences).toEqual([
      { apiVersion: 'v1', kind: 'ConfigMap', name: 'c', uid: 'c' },
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'web',
        uid: 'rs-uid',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });
});
