import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T } from '../support/wait.js';

/**
 * The Job controller behind the real event path. No agent exists yet (issue 4), so this test plays
 * the agent's part for the pods it sees: it writes their terminal phase through the status subresource.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
});
afterAll(() => s?.path.stop());

/** Finishes every live pod of the job with `phase`, recording the most pods seen running at once. */
async function runPods(job: string, phase: 'Succeeded' | 'Failed', done: () => Promise<boolean>): Promise<number> {
  let maxActive = 0;
  const deadline = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error('job did not finish');
    const pods = (await s.api.service.list(T('Pod'), 'default', { labelSelector: `job-name=${job}` })).items.filter(
      (p) => !['Succeeded', 'Failed'].includes(String(p.status?.phase)),
    );
    maxActive = Math.max(maxActive, pods.length);
    for (const p of pods)
      await s.api.service.patch(T('Pod'), 'default', p.metadata.name, 'merge', { status: { phase } }, 'status');
    await new Promise((r) => setTimeout(r, 300));
  }
  return maxActive;
}

const condition = async (name: string) =>
  (
    (await s.api.service.get(T('Job'), 'default', name)).status?.conditions as
      { type: string; reason: string }[] | undefined
  )?.[0];

describe('Job controller', () => {
  it('runs completions: 5 with parallelism: 2 to Complete', async () => {
    await s.api.service.create(T('Job'), 'default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'five' },
      spec: {
        completions: 5,
        parallelism: 2,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    const maxActive = await runPods('five', 'Succeeded', async () => (await condition('five'))?.type === 'Complete');
    expect(maxActive).toBeLessThanOrEqual(2);
    const job = await s.api.service.get(T('Job'), 'default', 'five');
    expect(job.status).toMatchObject({ succeeded: 5, active: 0, failed: 0 });
    expect(job.status?.completionTime).toBeTruthy();
  });

  it('stops a failing Job at backoffLimit', async () => {
    await s.api.service.create(T('Job'), 'default', {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'flaky' },
      spec: {
        backoffLimit: 0,
        template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox' }] } },
      },
    });
    await runPods('flaky', 'Failed', async () => (await condition('flaky'))?.type === 'Failed');
    expect(await condition('flaky')).toMatchObject({ type: 'Failed', reason: 'BackoffLimitExceeded' });
    expect((await s.api.service.get(T('Job'), 'default', 'flaky')).status).toMatchObject({ failed: 1, succeeded: 0 });
  });
});
