import { describe, expect, it } from 'vitest';
import { RbacSnapshots } from '../../../shared/apiserver/rbac-snapshot.js';
import type { ListQuery, ObjectStore } from '../../../shared/store/store.js';
import type { StoredObject } from '../../../shared/model/types.js';

/** A store that serves RBAC objects from memory and counts the lists made of it. */
function fakeStore(objects: StoredObject[]) {
  const counts = { lists: 0 };
  const store = {
    list: (q: ListQuery) => {
      counts.lists++;
      return Promise.resolve({ items: objects.filter((o) => o.kind === q.kind), more: false });
    },
  } as unknown as ObjectStore;
  return { store, counts };
}

const binding = (name: string, user: string): StoredObject => ({
  apiVersion: 'rbac.authorization.k8s.io/v1',
  kind: 'ClusterRoleBinding',
  metadata: { name, resourceVersion: '1', uid: name, creationTimestamp: '2026-01-01T00:00:00Z' },
  roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' },
  subjects: [{ kind: 'User', name: user }],
});

describe('RbacSnapshots', () => {
  it('lists once, then reads only the generation each TTL, and lists again when it moved or this container wrote', async () => {
    const objects: StoredObject[] = [binding('a', 'alice')];
    const { store, counts } = fakeStore(objects);
    let now = 0;
    let generation = 7;
    let generationReads = 0;
    const snapshots = new RbacSnapshots(store, { now: () => new Date(now) }, 5_000, {
      read: () => (generationReads++, Promise.resolve(generation)),
      bump: () => Promise.resolve(),
    });
    const canList = async (user: string) =>
      (await snapshots.policy()).authorize(
        { name: user, groups: [] },
        { type: 'resource', verb: 'list', group: '', resource: 'pods' },
        'x',
      ).allowed;
    expect(await canList('alice')).toBe(true);
    const listsPerLoad = counts.lists; // one per RBAC kind
    expect(listsPerLoad).toBe(4);
    now = 4_000;
    expect(await canList('alice')).toBe(true);
    expect([counts.lists, generationReads]).toEqual([4, 1]); // within the TTL: nothing read
    objects.push(binding('b', 'bob'));
    now = 6_000;
    expect(await canList('bob')).toBe(false); // the generation did not move: the copy stands
    expect([counts.lists, generationReads]).toEqual([4, 2]);
    generation = 8;
    now = 12_000;
    expect(await canList('bob')).toBe(true); // it moved: listed again
    expect([counts.lists, generationReads]).toEqual([8, 3]);
    objects.push(binding('c', 'carol'));
    snapshots.invalidate(); // this container wrote one
    expect(await canList('carol')).toBe(true);
    expect(counts.lists).toBe(12);
    // A generation that never moves (a bump lost on the way) still lets the copy be listed again in time.
    objects.push(binding('d', 'dave'));
    for (now = 20_000; now < 20_000 + 12 * 5_000; now += 5_001) await canList('x');
    expect(await canList('dave')).toBe(true);
  });
});
