import { describe, expect, it } from 'vitest';
import { typeByKindName, type ResourceType } from '../../shared/model/kinds.js';
import { sweepControllers } from '../../shared/controllers/sweep.js';
import type { QueueName, WorkQueue } from '../../shared/queue/work-queue.js';
import { makeDeployment } from '../support/fixtures.js';
import { freshStack } from '../support/stack.js';
import { systemClock } from '../../shared/util/clock.js';

const T = (kind: string) => typeByKindName(kind) as ResourceType;

describe('the sweep', () => {
  it('re-enqueues exactly the workloads that have not converged', async () => {
    const { api, store } = await freshStack();
    await api.service.create(T('Deployment'), 'default', makeDeployment('done'));
    await api.service.patch(
      T('Deployment'),
      'default',
      'done',
      'merge',
      { status: { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 } },
      'status',
    );
    await api.service.create(T('Deployment'), 'default', makeDeployment('pending'));
    const sent: [QueueName, string[]][] = [];
    const queue: WorkQueue = { enqueue: async (q, keys) => void sent.push([q, keys]) };
    expect(await sweepControllers(store, queue, systemClock)).toBe(1);
    expect(sent).toEqual([['controllers', ['Deployment/default/pending']]]);
  });
});
