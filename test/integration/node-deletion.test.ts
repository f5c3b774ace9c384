import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode, createPod, pod } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';

/**
 * `kubectl delete node`: the pods bound to it are deleted (Kubernetes' pod garbage collector deletes
 * pods whose node no longer exists) and its capacity ledger leaves the table (issue 16: it stayed).
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

describe('a deleted Node', () => {
  it('takes its pods and its NodeAllocation item with it', async () => {
    await addNode(s.api.service, 'doomed');
    for (const name of ['a', 'b']) await createPod(s.api.service, pod(name, '250m'));
    await until(
      async () =>
        (await s.api.service.list(T('Pod'), 'default')).items.filter((p) => p.spec?.nodeName === 'doomed').length === 2,
    );
    await until(async () => Object.keys((await s.store.getNodeAllocation('doomed'))?.pods ?? {}).length === 2);

    await s.api.service.delete(T('Node'), '', 'doomed');
    await until(async () => (await s.api.service.list(T('Pod'), 'default')).items.length === 0, 30_000);
    await until(async () => (await s.store.getNodeAllocation('doomed')) === undefined, 30_000);
    const events = (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=NodeDeleted' })).items.map(
      (e) => e.message,
    );
    expect(events.sort()).toEqual([
      'Deleting Pod default/a: its node doomed was deleted',
      'Deleting Pod default/b: its node doomed was deleted',
    ]);
    expect((await s.store.listNodeAllocations()).map((a) => a.nodeName)).not.toContain('doomed');
  });
});
