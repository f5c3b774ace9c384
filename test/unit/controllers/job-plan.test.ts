import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { backoffMs, planJob } from '../../../shared/controllers/job/plan.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
type J = KubeObject & { metadata: { name: string; uid: string } };
const job = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>): J => ({
  apiVersion: 'batch/v1',
  kind: 'Job',
  metadata: { name: 'pi', namespace: 'default', uid: 'job-uid' },
  spec: {
    completions: 5,
    parallelism: 2,
    backoffLimit: 2,
    template: {
      metadata: { labels: { 'job-name': 'pi' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] },
    },
    ...spec,
  },
  ...(status ? { status } : {}),
});
const pod = (name: string, phase: string, startedAgoMs = 60_000): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name },
  status: { phase, startTime: new Date(NOW - startedAgoMs).toISOString() },
});

describe('planJob', () => {
  it('creates at most a burst of 500 pods per reconcile, and comes back at once for the rest (MaxPodCreateDeletePerSync)', () => {
    const plan = planJob(job({ completions: 2000, parallelism: 1200 }), [], NOW);
    expect(plan.create).toHaveLength(500);
    expect(plan.requeueAfterMs).toBe(0);
    expect(planJob(job({ completions: 2000, parallelism: 500 }), [], NOW).requeueAfterMs).toBeUndefined();
  });
  it.each<
    [string, J, KubeObject[], { create: number; delete?: number; status: Record<string, unknown>; condition?: string }]
  >([
    ['starts parallelism pods', job(), [], { create: 2, status: { active: 0, succeeded: 0, failed: 0 } }],
    [
      'keeps parallelism running',
      job(),
      [pod('a', 'Running'), pod('b', 'Succeeded')],
      { create: 1, status: { active: 1, succeeded: 1 } },
    ],
    [
      'never runs more than the completions left',
      job(),
      ['a', 'b', 'c', 'd'].map((n) => pod(n, 'Succeeded')),
      { create: 1, status: { succeeded: 4 } },
    ],
    [
      'completes at completions',
      job(),
      ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, 'Succeeded')),
      { create: 0, status: { succeeded: 5, active: 0 }, condition: 'Complete' },
    ],
    [
      'fails past backoffLimit and stops what runs',
      job(),
      [pod('a', 'Failed'), pod('b', 'Failed'), pod('c', 'Failed'), pod('d', 'Running')],
      { create: 0, delete: 1, status: { failed: 3, active: 0 }, condition: 'Failed' },
    ],
    [
      'fails past activeDeadlineSeconds',
      job({ activeDeadlineSeconds: 30 }, { startTime: new Date(NOW - 31_000).toISOString() }),
      [pod('a', 'Running')],
      { create: 0, delete: 1, status: {}, condition: 'Failed' },
    ],
    ['runs nothing while suspended', job({ suspend: true }), [], { create: 0, status: { active: 0 } }],
  ])('%s', (_name, j, pods, expected) => {
    const plan = planJob(j, pods, NOW);
    expect(plan.create).toHaveLength(expected.create);
    expect(plan.delete).toHaveLength(expected.delete ?? 0);
    expect(plan.status).toMatchObject(expected.status);
    const finished = ((plan.status.conditions ?? []) as { type: string; status: string }[]).find(
      (c) => c.status === 'True',
    );
    expect(finished?.type).toBe(expected.condition);
  });

  it('names the reason of a failure like Kubernetes', () => {
    const plan = planJob(job(), [pod('a', 'Failed'), pod('b', 'Failed'), pod('c', 'Failed')], NOW);
    expect(plan.status.conditions).toEqual([
      expect.objectContaining({ type: 'Failed', reason: 'BackoffLimitExceeded' }),
    ]);
    expect(plan.events).toEqual([
      { type: 'Warning', reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
    ]);
  });

  it('waits out the back-off before replacing a failed pod', () => {
    expect([1, 2, 3, 10].map(backoffMs)).toEqual([10_000, 20_000, 40_000, 360_000]);
    const plan = planJob(job({ parallelism: 1 }), [pod('a', 'Failed', 4_000)], NOW);
    expect(plan.create).toHaveLength(0);
    expect(plan.requeueAfterMs).toBe(6_000);
    expect(planJob(job({ parallelism: 1 }), [pod('a', 'Failed', 11_000)], NOW).create).toHaveLength(1);
  });

  it('deletes a finished Job after ttlSecondsAfterFinished', () => {
    const done = {
      conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: new Date(NOW - 5_000).toISOString() }],
    };
    expect(planJob(job({ ttlSecondsAfterFinished: 10 }, done), [], NOW)).toMatchObject({
      deleteJob: false,
      requeueAfterMs: 5_000,
    });
    expect(planJob(job({ ttlSecondsAfterFinished: 3 }, done), [], NOW).deleteJob).toBe(true);
  });
});
