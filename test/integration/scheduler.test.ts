import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { typeByKindName, type ResourceType } from '../../shared/model/kinds.js';
import type { StoredObject } from '../../shared/model/types.js';
import { systemClock } from '../../shared/util/clock.js';
import type { WorkQueue } from '../../shared/queue/work-queue.js';
import { Scheduler } from '../../shared/scheduling/scheduler.js';
import { SnapshotCache } from '../../shared/scheduling/snapshot.js';
import { nodeAllocatable, podRequests } from '../../shared/model/resources.js';
import { storeEventRecorder } from '../../shared/events/recorder.js';
import { addNode, createPod, pod } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { randomUUID } from 'node:crypto';

/** The scheduler end to end: API writes → stream → dispatch → SQS → concurrent scheduler invocations → binds. */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack({ schedulerConcurrency: 4 });
});
afterAll(() => s?.path.stop());

const T = (kind: string) => typeByKindName(kind) as ResourceType;

async function allPods(): Promise<StoredObject[]> {
  return (await s.api.service.list(T('Pod'), undefined)).items;
}

/** No node over allocatable; each bound pod accounted exactly once, on its own node; totals exact. */
async function expectPlacementInvariants(nodeCount: number) {
  const pods = await allPods();
  const nodes = (await s.api.service.list(T('Node'), undefined)).items;
  expect(nodes).toHaveLength(nodeCount);
  const allocations = await s.store.listNodeAllocations();
  const accounted = new Map<string, string>();
  for (const a of allocations) {
    for (const uid of Object.keys(a.pods)) {
      expect(accounted.has(uid), `pod ${uid} accounted on two nodes`).toBe(false);
      accounted.set(uid, a.nodeName);
    }
  }
  for (const node of nodes) {
    const bound = pods.filter((p) => p.spec?.nodeName === node.metadata.name);
    const used = bound.reduce((n, p) => n + podRequests(p).cpuMilli, 0);
    const alloc = allocations.find((a) => a.nodeName === node.metadata.name);
    expect(used).toBeLessThanOrEqual(nodeAllocatable(node).cpuMilli);
    expect(alloc?.requested.cpuMilli ?? 0).toBe(used);
    expect(alloc?.requested.pods ?? 0).toBe(bound.length);
  }
  for (const p of pods) {
    if (p.spec?.nodeName) expect(accounted.get(p.metadata.uid)).toBe(p.spec.nodeName);
    else expect(accounted.has(p.metadata.uid)).toBe(false);
  }
  return pods;
}

describe('scheduling 500 pods over 50 nodes with concurrent scheduler invocations', () => {
  it('never overcommits a node, binds every pod at most once, and explains the pods that fit nowhere', async () => {
    for (let i = 0; i < 50; i++) await addNode(s.api.service, `node-${String(i).padStart(2, '0')}`, { cpu: '4' });
    // 500 × 450m = 225 cores asked of 200: the last ~56 cannot fit, so capacity is contended to the end.
    for (let i = 0; i < 500; i += 50)
      await Promise.all(Array.from({ length: 50 }, (_, j) => createPod(s.api.service, pod(`load-${i + j}`, '450m'))));
    await s.quiet(120_000);

    const pods = await expectPlacementInvariants(50);
    const bound = pods.filter((p) => p.spec?.nodeName);
    const pending = pods.filter((p) => !p.spec?.nodeName);
    expect(bound).toHaveLength(50 * 8); // 8 × 450m fit in 4 cores, on every node
    expect(pending).toHaveLength(100);
    for (const p of pending) {
      expect((p.status?.conditions as any[]).find((c) => c.type === 'PodScheduled')).toMatchObject({
        status: 'False',
        reason: 'Unschedulable',
        message: '0/50 nodes are available: 50 Insufficient cpu.',
      });
    }
    const events = (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=FailedScheduling' }))
      .items;
    expect(new Set(events.map((e: any) => e.involvedObject.name)).size).toBe(100);
    // One Scheduled event per bound pod, naming its node: a batch bind that lost its race wrote none.
    const scheduled = (await s.api.service.list(T('Event'), 'default', { fieldSelector: 'reason=Scheduled' }))
      .items as any[];
    expect(scheduled).toHaveLength(bound.length);
    for (const p of bound)
      expect(scheduled.filter((e) => e.involvedObject.uid === p.metadata.uid).map((e) => e.message)).toEqual([
        `Successfully assigned default/${p.metadata.name} to ${p.spec?.nodeName}`,
      ]);
    // A hang guard, not a speed check: 10-17 s alone, 35-60 s inside the whole suite on two cores since
    // every write carries its change record (session 12's closing note).
  }, 150_000);

  it('places waiting pods when a node joins, and when capacity is freed', async () => {
    await addNode(s.api.service, 'node-new', { cpu: '4' });
    await s.quiet();
    let pods = await expectPlacementInvariants(51);
    expect(pods.filter((p) => p.spec?.nodeName === 'node-new')).toHaveLength(8);

    // Deleting bound pods (as their agent would, after stopping them) frees room exactly once.
    const victims = pods.filter((p) => p.spec?.nodeName === 'node-00');
    for (const v of victims)
      await s.api.service.delete(T('Pod'), 'default', v.metadata.name, { gracePeriodSeconds: 0 });
    await s.quiet();
    pods = await expectPlacementInvariants(51);
    expect(pods.filter((p) => p.spec?.nodeName === 'node-00')).toHaveLength(8);
    expect(pods.filter((p) => !p.spec?.nodeName)).toHaveLength(100 - 8 - 8);
  });
});

describe('duplicated and reordered delivery', () => {
  it('ends in the same placement invariants when every key arrives three times, shuffled, to parallel schedulers', async () => {
    for (let i = 0; i < 60; i++) await createPod(s.api.service, pod(`dup-${i}`, '100m'));
    // Stop nothing: the event path delivers each key once; here we also deliver every key again,
    // three more times, shuffled, straight to four scheduler instances running at once.
    const keys = Array.from({ length: 60 }, (_, i) => `Pod/default/dup-${i}`);
    const storm = [...keys, ...keys, ...keys].sort(() => Math.random() - 0.5);
    const queue: WorkQueue = { enqueue: async () => undefined };
    const schedulers = Array.from(
      { length: 4 },
      () =>
        new Scheduler({
          store: s.store,
          ledger: s.store,
          queue,
          clock: systemClock,
          events: storeEventRecorder(s.store, systemClock, 'test', randomUUID),
          strategy: 'LeastAllocated',
          snapshots: new SnapshotCache(s.store, systemClock),
        }),
    );
    await Promise.all(schedulers.map((sch, i) => sch.process(storm.filter((_, j) => j % 4 === i))));
    await s.quiet();
    const pods = await expectPlacementInvariants(51);
    expect(pods.filter((p) => p.metadata.name.startsWith('dup-') && !p.spec?.nodeName)).toHaveLength(0);
  });
});
