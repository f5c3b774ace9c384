import { beforeAll, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  RequestEntityTooLargeError,
  TransactionError,
} from '../../shared/model/errors.js';
import type { KubeObject } from '../../shared/model/types.js';
import type { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { makeConfigMap, makePod } from '../support/fixtures.js';
import { freshStack } from '../support/stack.js';

/** The DynamoDB store against the real DynamoDB Local: conditional writes, paging, indexes, transactions. */
let store: DynamoStore;
beforeAll(async () => {
  store = (await freshStack()).store;
});

const settle = <T>(ps: Promise<T>[]) => Promise.allSettled(ps);

describe('DynamoStore', () => {
  it('creates once: 32 racing creates of one name give 1 success and 31 AlreadyExists', async () => {
    const results = await settle(
      Array.from({ length: 32 }, (_, i) => store.create({ ...makeConfigMap('race'), data: { writer: String(i) } })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(ok).toHaveLength(1);
    expect(rejected).toHaveLength(31);
    expect(rejected.every((r) => r.reason instanceof AlreadyExistsError)).toBe(true);
    const stored = await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'race' });
    expect(stored?.data).toEqual((ok[0] as PromiseFulfilledResult<KubeObject>).value.data);
  });

  it('updates optimistically: 32 racing updates from one version give 1 success and 31 Conflict', async () => {
    const base = await store.create(makeConfigMap('contended'));
    const results = await settle(
      Array.from({ length: 32 }, (_, i) => store.update({ ...base, data: { writer: String(i) } }, base)),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected' && r.reason instanceof ConflictError)).toHaveLength(31);
    const after = await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'contended' });
    expect(Number(after?.metadata.resourceVersion)).toBeGreaterThan(Number(base.metadata.resourceVersion));
  });

  it('tells NotFound from Conflict on update and delete', async () => {
    const o = await store.create(makeConfigMap('short-lived'));
    await expect(
      store.delete({ kind: 'ConfigMap', namespace: 'default', name: 'short-lived' }, '1'),
    ).rejects.toBeInstanceOf(ConflictError);
    await store.delete({ kind: 'ConfigMap', namespace: 'default', name: 'short-lived' }, o.metadata.resourceVersion);
    await expect(store.update(o, o)).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.delete({ kind: 'ConfigMap', namespace: 'default', name: 'short-lived' })).rejects.toBeInstanceOf(
      NotFoundError,
    );
  });

  it('refuses an item over 400 KB before writing it', async () => {
    const big = { ...makeConfigMap('big'), data: { blob: 'x'.repeat(410 * 1024) } };
    await expect(store.create(big)).rejects.toBeInstanceOf(RequestEntityTooLargeError);
    expect(await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'big' })).toBeUndefined();
    const fits = { ...makeConfigMap('fits'), data: { blob: 'x'.repeat(390 * 1024) } };
    await expect(store.create(fits)).resolves.toBeDefined();
  });

  it('answers "pods on node n" from the byNode index', async () => {
    await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'other' } });
    await Promise.all([
      store.create(makePod().named('a').onNode('n1').build()),
      store.create(makePod().named('b').onNode('n2').build()),
      store.create(makePod().named('c').inNamespace('other').onNode('n1').build()),
      store.create(makePod().named('d').build()),
    ]);
    const all = await store.list({ kind: 'Pod', nodeName: 'n1', limit: 10 });
    expect(all.items.map((p) => `${p.metadata.namespace}/${p.metadata.name}`).sort()).toEqual(['default/a', 'other/c']);
    const inDefault = await store.list({ kind: 'Pod', namespace: 'default', nodeName: 'n1', limit: 10 });
    expect(inDefault.items.map((p) => p.metadata.name)).toEqual(['a']);
  });

  it('creates many objects in transactions cut by count and by size', async () => {
    const small = Array.from({ length: 60 }, (_, i) => makeConfigMap(`many-${i}`));
    const large = Array.from({ length: 15 }, (_, i) => ({
      ...makeConfigMap(`many-large-${i}`),
      data: { blob: 'x'.repeat(300 * 1024) },
    }));
    await store.createMany([...small, ...large]);
    const names = (await store.list({ kind: 'ConfigMap', namespace: 'default', limit: 1000 })).items
      .map((o) => o.metadata.name)
      .filter((n) => n.startsWith('many-'));
    expect(names).toHaveLength(75);
  });

  it('commits a transaction entirely or not at all', async () => {
    const existing = await store.create(makeConfigMap('tx-existing'));
    await expect(
      store.transact([
        { op: 'create', object: makeConfigMap('tx-new') },
        {
          op: 'update',
          object: { ...existing, data: { v: '2' } },
          previous: { ...existing, metadata: { ...existing.metadata, resourceVersion: '1' } },
        },
      ]),
    ).rejects.toSatisfy(
      (e) => e instanceof TransactionError && e.failures[0] === undefined && e.failures[1] instanceof ConflictError,
    );
    expect(await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'tx-new' })).toBeUndefined();

    const written = await store.transact([
      { op: 'create', object: makeConfigMap('tx-new') },
      {
        op: 'update',
        object: { ...existing, data: { v: '2' } },
        previous: existing,
      },
    ]);
    expect(written).toHaveLength(2);
    expect((await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'tx-existing' }))?.data).toEqual({
      v: '2',
    });
  });
});
