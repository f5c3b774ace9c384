import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { jobNameFor, planCronJob } from '../../../shared/controllers/cronjob/plan.js';
import { parseSchedule, scheduleProblem, timeZoneProblem } from '../../../shared/model/cron-schedule.js';

const T0 = Date.parse('2026-03-01T12:00:30Z');
const min = 60_000;
type Opts = {
  schedule?: string;
  policy?: string;
  deadline?: number;
  suspend?: boolean;
  last?: number;
  active?: KubeObject[];
  tz?: string;
  created?: number;
};
const cj = (o: Opts = {}) =>
  ({
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: 'report',
      namespace: 'default',
      uid: 'cj-uid',
      creationTimestamp: new Date(o.created ?? T0 - 10 * min).toISOString(),
    },
    spec: {
      schedule: o.schedule ?? '*/5 * * * *',
      ...(o.tz ? { timeZone: o.tz } : {}),
      concurrencyPolicy: o.policy ?? 'Allow',
      suspend: o.suspend ?? false,
      successfulJobsHistoryLimit: 2,
      failedJobsHistoryLimit: 1,
      ...(o.deadline !== undefined ? { startingDeadlineSeconds: o.deadline } : {}),
      jobTemplate: {
        metadata: { labels: { app: 'report' } },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
      },
    },
    status: {
      ...(o.last !== undefined ? { lastScheduleTime: new Date(o.last).toISOString() } : {}),
      ...(o.active?.length
        ? { active: o.active.map((j) => ({ kind: 'Job', name: j.metadata.name, uid: j.metadata.uid })) }
        : {}),
    },
  }) as KubeObject & { metadata: { name: string; uid: string } };

function job(name: string, o: { done?: 'Complete' | 'Failed'; started?: number; completed?: number } = {}) {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name,
      namespace: 'default',
      uid: `uid-${name}`,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'report', uid: 'cj-uid', controller: true }],
    },
    status: {
      ...(o.started ? { startTime: new Date(o.started).toISOString() } : {}),
      ...(o.completed ? { completionTime: new Date(o.completed).toISOString() } : {}),
      ...(o.done ? { conditions: [{ type: o.done, status: 'True' }] } : {}),
    },
  } as KubeObject & { metadata: { name: string; uid: string } };
}

describe('cron schedules as Kubernetes parses them', () => {
  it('takes five fields, names, steps and the descriptors, and refuses what robfig/cron refuses, in its words', () => {
    const at = new Date('2026-11-28T10:00:00Z');
    expect(parseSchedule('@hourly').next(at)?.toISOString()).toBe('2026-11-28T11:00:00.000Z');
    expect(parseSchedule('@midnight').next(at)?.toISOString()).toBe('2026-11-29T00:00:00.000Z');
    expect(parseSchedule('0 9 * * mon-fri').next(at)?.toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(parseSchedule('@every 90m').next(at)?.toISOString()).toBe('2026-11-28T11:30:00.000Z');
    expect(parseSchedule('0 9 * * *', 'Europe/Berlin').next(at)?.toISOString()).toBe('2026-11-29T08:00:00.000Z');
    expect(parseSchedule('0 0 30 2 *').next(at)).toBeUndefined();
    expect(scheduleProblem('61 * * * *')).toBe('end of range (61) above maximum (59): 61');
    expect(scheduleProblem('* * * *')).toBe('expected exactly 5 fields, found 4: [* * * *]');
    expect(scheduleProblem('0 0 * * 7')).toBe('end of range (7) above maximum (6): 7');
    expect(scheduleProblem('@often')).toBe('unrecognized descriptor: @often');
    expect(scheduleProblem('*/0 * * * *')).toBe('step of range should be a positive number: */0');
    expect(timeZoneProblem('Local')).toBe(
      'timeZone must be an explicit time zone as defined in https://www.iana.org/time-zones',
    );
    expect(timeZoneProblem('Mars/Olympus')).toBe('unknown time zone Mars/Olympus');
    // Go's zone names are case-sensitive, aliases are names of their own.
    expect(timeZoneProblem('europe/berlin')).toBe('unknown time zone europe/berlin');
    expect(timeZoneProblem('Etc/UTC')).toBeUndefined();
  });
});

describe('planCronJob', () => {
  it('starts the Job for the start time that has come, named by its minute, owned and annotated', () => {
    const plan = planCronJob(cj({ last: T0 - 5.5 * min }), [], new Set(), T0);
    const at = Date.parse('2026-03-01T12:00:00Z');
    expect(plan.create?.scheduledTime.toISOString()).toBe(new Date(at).toISOString());
    expect(plan.create?.job.metadata).toMatchObject({
      name: `report-${at / min}`,
      labels: { app: 'report' },
      annotations: { 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2026-03-01T12:00:00Z' },
      ownerReferences: [{ kind: 'CronJob', name: 'report', uid: 'cj-uid', controller: true, blockOwnerDeletion: true }],
    });
    // The next look comes just after the next start time, not sooner.
    expect(plan.requeueAfterMs).toBe(5 * min - 30_000 + 100);
    const zoned = planCronJob(cj({ last: T0 - 5.5 * min, tz: 'Asia/Kolkata' }), [], new Set(), T0);
    expect(zoned.create?.job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe(
      '2026-03-01T17:30:00+05:30',
    );
  });

  it('starts nothing before the first start time, nor twice for one, nor while suspended', () => {
    expect(planCronJob(cj({ created: T0 - 20_000 }), [], new Set(), T0).create).toBeUndefined();
    const at = Date.parse('2026-03-01T12:00:00Z');
    expect(planCronJob(cj({ last: at }), [], new Set(), T0).create).toBeUndefined();
    expect(planCronJob(cj({ last: T0 - 5.5 * min, suspend: true }), [], new Set(), T0).create).toBeUndefined();
  });

  it('after a stop of the controller, starts exactly one catch-up Job, for the latest missed time', () => {
    // Down from 11:41:30 to 12:00:30: 11:45, 11:50, 11:55 and 12:00 were missed; 12:00 runs.
    const plan = planCronJob(cj({ last: T0 - 19 * min }), [], new Set(), T0);
    expect(plan.create?.job.metadata.name).toBe(jobNameFor(cj(), new Date('2026-03-01T12:00:00Z')));
    expect(plan.events).toEqual([]);
    // Past a hundred missed times it says so, and still starts the latest.
    const many = planCronJob(cj({ schedule: '* * * * *', last: T0 - 200 * min }), [], new Set(), T0);
    expect(many.events.map((e) => e.reason)).toEqual(['TooManyMissedTimes']);
    expect(many.create?.scheduledTime.toISOString()).toBe('2026-03-01T12:00:00.000Z');
    // A starting deadline shorter than the delay: nothing runs, and the next one is awaited.
    expect(planCronJob(cj({ last: T0 - 19 * min, deadline: 10 }), [], new Set(), T0).create).toBeUndefined();
  });

  it('Forbid waits for the running Job, Allow runs beside it, Replace deletes it first', () => {
    const running = job('report-1');
    const forbid = planCronJob(
      cj({ last: T0 - 5.5 * min, policy: 'Forbid', active: [running] }),
      [running],
      new Set(),
      T0,
    );
    expect(forbid.create).toBeUndefined();
    expect(forbid.events.map((e) => e.reason)).toEqual(['JobAlreadyActive']);
    const allow = planCronJob(cj({ last: T0 - 5.5 * min, active: [running] }), [running], new Set(), T0);
    expect(allow.create).toBeDefined();
    const replace = planCronJob(
      cj({ last: T0 - 5.5 * min, policy: 'Replace', active: [running] }),
      [running],
      new Set(),
      T0,
    );
    expect(replace.delete.map((d) => d.name)).toEqual(['report-1']);
    expect(replace.create).toBeDefined();
    expect(replace.status.active).toBeUndefined();
  });

  it('moves finished Jobs out of the active list, keeps the history limits, and notices Jobs gone or not its own', () => {
    const done = job('report-3', { done: 'Complete', started: T0 - 3 * min, completed: T0 - 2 * min });
    const old = [1, 2].map((i) =>
      job(`report-${i}`, { done: 'Complete', started: T0 - (10 - i) * min, completed: T0 - 8 * min }),
    );
    const failed = [4, 5].map((i) => job(`report-${i}`, { done: 'Failed', started: T0 - (10 - i) * min }));
    const stray = job('report-manual');
    const gone = job('report-6');
    const plan = planCronJob(
      cj({ last: T0 - 1 * min, active: [done, gone] }),
      [done, ...old, ...failed, stray],
      new Set(['report-6']),
      T0,
    );
    expect(plan.delete.map((d) => d.name).sort()).toEqual(['report-1', 'report-4']);
    expect(plan.status.active).toBeUndefined();
    expect(plan.status.lastSuccessfulTime).toBe(new Date(T0 - 2 * min).toISOString());
    expect(plan.events.map((e) => e.reason).sort()).toEqual(['MissingJob', 'SawCompletedJob', 'UnexpectedJob']);
    expect(plan.events.find((e) => e.reason === 'SawCompletedJob')?.message).toBe(
      'Saw completed job: report-3, condition: Complete',
    );
  });
});
