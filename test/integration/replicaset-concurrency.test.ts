import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredObject } from '../../shared/model/types.js';
import { systemClock } from '../../shared/util/clock.js';
import { CLAIM_ANNOTATION } from '../../shared/controllers/claim.js';
import { isActive } from '../../shared/controllers/pods.js';
import { ReplicaSetController } from '../../shared/controllers/replicaset/controller.js';
import { slotName } from '../../shared/controllers/replicaset/plan.js';
import { storeEventRecorder, type EventRecorder } from '../../shared/events/recorder.js';
import type { ObjectService } from '../../shared/apiserver/object-service.js';
import { freshStack, type TestStack } from '../support/stack.js';
import { T } from '../support/wait.js';

/**
 * Duplicated and reordered reconcile keys against the real store: several reconciles of one
 * ReplicaSet run at once (as several controller invocations would), some still running while the
 * ReplicaSet is scaled or its pods change underneath them. Whatever the interleaving, once things
 * settle there are exactly `replicas` active pods, every one a slot name of this ReplicaSet, and no
 * claim is left behind.
 */
let s: TestStack;
let controller: ReplicaSetController;
let events: EventRecorder;
/** Pods the controllers asked to create, taken names included (the real service does the work). */
let attempted = 0;
beforeAll(async () => {
  s = await freshStack();
  const service = Object.create(s.api.service) as ObjectService;
  service.createAll = (type, namespace, bodies) => {
    attempted += bodies.length;
    return s.api.service.createAll(type, namespace, bodies);
  };
  events = storeEventRecorder(s.store, systemClock, 'test', randomUUID);
  controller = new ReplicaSetController({ store: s.store, service, clock: systemClock, events });
});

type Step =
  | { op: 'scale'; replicas: number }
  | { op: 'reconcile'; copies: number; overlap: boolean }
  | { op: 'finish' | 'remove'; index: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('scale' as const), replicas: fc.integer({ min: 0, max: 12 }) }),
  fc.record({ op: fc.constant('reconcile' as const), copies: fc.integer({ min: 1, max: 4 }), overlap: fc.boolean() }),
  fc.record({ op: fc.constantFrom('finish' as const, 'remove' as const), index: fc.nat({ max: 11 }) }),
);

async function pods(rs: StoredObject) {
  return s.store.listOwnedBy(rs.metadata.uid, 'Pod');
}

async function run(name: string, steps: Step[]) {
  let rs = await s.api.service.create(T('ReplicaSet'), 'default', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
    },
  });
  const background: Promise<unknown>[] = [];
  let replicas = 3;
  for (const st of steps) {
    if (st.op === 'scale') {
      replicas = st.replicas;
      rs = await s.api.service.patch(T('ReplicaSet'), 'default', name, 'merge', { spec: { replicas } });
    } else if (st.op === 'reconcile') {
      const copies = Promise.all(
        Array.from({ length: st.copies }, () => controller.reconcile({ namespace: 'default', name })),
      );
      if (st.overlap) background.push(copies);
      else await copies;
    } else {
      const active = (await pods(rs)).filter(isActive);
      const victim = active[st.index % Math.max(active.length, 1)];
      if (!victim) continue;
      if (st.op === 'remove')
        await s.api.service.delete(T('Pod'), 'default', victim.metadata.name, {}).catch(() => undefined);
      else await s.store.update({ ...victim, status: { phase: 'Succeeded' } }, victim).catch(() => undefined);
    }
  }
  await Promise.all(background);
  // Settle: the reconciles the last changes' events would bring, until one changes nothing.
  for (let round = 0; round < 10; round++) {
    const before = (await pods(rs)).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort();
    await controller.reconcile({ namespace: 'default', name });
    const after = (await pods(rs)).map((p) => `${p.metadata.name}@${p.metadata.resourceVersion}`).sort();
    if (before.join() === after.join()) break;
  }
  const final = await s.store.get({ kind: 'ReplicaSet', namespace: 'default', name });
  const active = (await pods(rs)).filter(isActive);
  return {
    replicas,
    active,
    final,
    slots: new Set(Array.from({ length: 64 }, (_, i) => slotName(name, rs.metadata.uid, i))),
  };
}

describe('ReplicaSet controller under duplicated, concurrent and reordered reconciles', () => {
  it('ends with exactly `replicas` active pods and no claim left, whatever the interleaving', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        const { replicas, active, final, slots } = await run(`rs-${randomUUID().slice(0, 8)}`, steps);
        expect(active).toHaveLength(replicas);
        for (const p of active) expect(slots.has(p.metadata.name)).toBe(true);
        expect(final?.metadata.annotations?.[CLAIM_ANNOTATION]).toBeUndefined();
        expect(final?.status).toMatchObject({ replicas });
      }),
      { numRuns: 12 },
    );
  });

  it('creates a large scale-up once: concurrent reconciles of one key do not race over the same pods', async () => {
    const name = `big-${randomUUID().slice(0, 8)}`;
    await s.api.service.create(T('ReplicaSet'), 'default', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name },
      spec: {
        replicas: 500,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    attempted = 0;
    // Four at once (they read the same version: one wins the claim's conditional write), then three
    // more that read the ReplicaSet while the claim is held.
    let firstDone = false;
    const first = Promise.all(
      Array.from({ length: 4 }, () => controller.reconcile({ namespace: 'default', name })),
    ).finally(() => (firstDone = true));
    const key = { kind: 'ReplicaSet', namespace: 'default', name };
    while (!firstDone && !(await s.store.get(key))?.metadata.annotations?.[CLAIM_ANNOTATION])
      await new Promise((r) => setTimeout(r, 5));
    await Promise.all([
      first,
      ...Array.from({ length: 3 }, () => controller.reconcile({ namespace: 'default', name })),
    ]);
    await events.flush();
    const rs = (await s.store.get({ kind: 'ReplicaSet', namespace: 'default', name })) as StoredObject;
    expect((await pods(rs)).filter(isActive)).toHaveLength(500);
    // One reconcile did the work; the others stood aside instead of trying the same names.
    expect(attempted).toBe(500);
    // Every create is counted once; bursts of more than ten are combined into one event with a count.
    const created = (
      await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=SuccessfulCreate' })
    ).items.filter((e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name);
    expect(created.reduce((n, e) => n + Number((e as { count?: number }).count), 0)).toBe(500);
    expect(created.length).toBeLessThan(50);
    expect(rs.metadata.annotations?.[CLAIM_ANNOTATION]).toBeUndefined();
    expect(rs.status).toMatchObject({ observedGeneration: 1 });
  });
});

describe('ObjectService.createAll', () => {
  const cm = (name: string, data: Record<string, string> = { k: 'v' }) => ({
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name },
    data,
  });

  it('creates across several transactions, reports names already taken and still creates every other', async () => {
    const prefix = `ca-${randomUUID().slice(0, 6)}`;
    await s.api.service.create(T('ConfigMap'), 'default', cm(`${prefix}-3`, { k: 'first' }));
    await s.api.service.create(T('ConfigMap'), 'default', cm(`${prefix}-41`, { k: 'first' }));
    const { created, taken } = await s.api.service.createAll(
      T('ConfigMap'),
      'default',
      Array.from({ length: 60 }, (_, i) => cm(`${prefix}-${i}`)),
    );
    expect(taken.sort()).toEqual([`${prefix}-3`, `${prefix}-41`]);
    expect(created).toHaveLength(58);
    const stored = (await s.api.service.list(T('ConfigMap'), 'default')).items.filter((c) =>
      c.metadata.name.startsWith(`${prefix}-`),
    );
    expect(stored).toHaveLength(60);
    // The names that were taken keep what they had.
    expect(stored.find((c) => c.metadata.name === `${prefix}-3`)?.data).toEqual({ k: 'first' });
  });

  it('refuses an invalid object before writing any of them', async () => {
    const prefix = `cb-${randomUUID().slice(0, 6)}`;
    await expect(
      s.api.service.createAll(T('ConfigMap'), 'default', [cm(`${prefix}-ok`), cm('Not_A_Valid_Name')]),
    ).rejects.toMatchObject({ code: 422 });
    expect(
      (await s.api.service.list(T('ConfigMap'), 'default')).items.filter((c) => c.metadata.name.startsWith(prefix)),
    ).toHaveLength(0);
  });

  it('splits large objects into transactions under DynamoDB 4 MB limit', async () => {
    const prefix = `cc-${randomUUID().slice(0, 6)}`;
    const big = 'x'.repeat(300_000);
    const { created } = await s.api.service.createAll(
      T('ConfigMap'),
      'default',
      Array.from({ length: 15 }, (_, i) => cm(`${prefix}-${i}`, { big })),
    );
    expect(created).toHaveLength(15);
  });
});
