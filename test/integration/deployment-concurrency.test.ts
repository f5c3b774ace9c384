import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/util/clock.js';
import { DeploymentController } from '../../shared/controllers/deployment/controller.js';
import { storeEventRecorder, type EventRecorder } from '../../shared/events/recorder.js';
import { makeDeployment } from '../support/fixtures.js';
import { freshStack, type TestStack } from '../support/stack.js';
import { T } from '../support/wait.js';

/**
 * Several reconciles of one Deployment at once (duplicate keys in several controller invocations):
 * each scaling of a ReplicaSet happens once, and so does its ScalingReplicaSet event (issue 16: a
 * rollout recorded one scaling twice).
 */
let s: TestStack;
let controller: DeploymentController;
let events: EventRecorder;
beforeAll(async () => {
  s = await freshStack();
  events = storeEventRecorder(s.store, systemClock, 'test', randomUUID);
  controller = new DeploymentController({ store: s.store, service: s.api.service, clock: systemClock, events });
});

const scalingEvents = async (name: string) =>
  (
    await s.api.service.list(T('Event'), 'default', {
      fieldSelector: `involvedObject.name=${name},reason=ScalingReplicaSet`,
    })
  ).items.map((e) => e.message as string);

/** Reconciles until nothing changes, `copies` at a time. */
async function settle(name: string, copies: number) {
  for (let round = 0; round < 20; round++) {
    const before = (await s.api.service.get(T('Deployment'), 'default', name)).metadata.resourceVersion;
    await Promise.all(Array.from({ length: copies }, () => controller.reconcile({ namespace: 'default', name })));
    await events.flush();
    if ((await s.api.service.get(T('Deployment'), 'default', name)).metadata.resourceVersion === before) return;
  }
}

describe('concurrent Deployment reconciles', () => {
  it('scale each ReplicaSet once and record each scaling once', async () => {
    await s.api.service.create(
      T('Deployment'),
      'default',
      makeDeployment('twin', (d) => (d.spec.replicas = 2)),
    );
    await settle('twin', 4);
    for (const replicas of [5, 1, 3]) {
      await s.api.service.patch(T('Deployment'), 'default', 'twin', 'merge', { spec: { replicas } });
      await settle('twin', 4);
    }
    const messages = await scalingEvents('twin');
    const rs = (await s.api.service.list(T('ReplicaSet'), 'default')).items.filter((r) =>
      r.metadata.name.startsWith('twin-'),
    );
    expect(rs).toHaveLength(1);
    expect((rs[0]?.spec as { replicas: number }).replicas).toBe(3);
    const name = rs[0]?.metadata.name;
    // Each message once (the aggregator would fold repeats into a count, so counts are checked too).
    const counts = (
      await s.api.service.list(T('Event'), 'default', {
        fieldSelector: 'involvedObject.name=twin,reason=ScalingReplicaSet',
      })
    ).items.map((e) => e.count ?? 1);
    expect(
      counts.every((c) => c === 1),
      JSON.stringify(messages),
    ).toBe(true);
    expect(messages.sort()).toEqual(
      [
        `Scaled down replica set ${name} to 1 from 5`,
        `Scaled up replica set ${name} to 2`,
        `Scaled up replica set ${name} to 3 from 1`,
        `Scaled up replica set ${name} to 5 from 2`,
      ].sort(),
    );
  });
});
