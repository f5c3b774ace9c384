import type { CronJobStatus } from 'kubernetes-types/batch/v1.js';
import { cronJobSpec, cronJobStatus } from '../../model/typed.js';
import type { ObjectReference } from 'kubernetes-types/core/v1.js';
import { parseSchedule, ScheduleError, timeZoneProblem, type CronSchedule } from '../../model/cron-schedule.js';
import { findCondition } from '../../model/conditions.js';
import type { KubeObject } from '../../model/types.js';
import { DateTime } from 'luxon';
import { rfc3339 } from '../../util/clock.js';

/**
 * The CronJob controller's decision, pure (Kubernetes' cronjob_controllerv2.go syncCronJob and
 * cleanupFinishedJobs): finished Jobs leave the active list and trim to the history limits; the most
 * recent missed start time (only that one, however many were missed) starts a Job named
 * `<cronjob>-<minutes since the epoch>`, unless it is past the starting deadline, already started,
 * or held back by Forbid; Replace deletes the running ones first. The next run is a delayed reconcile
 * at the next start time, never a poll.
 */

/** Kubernetes requeues this long after the next start time, so the reconcile lands past it. */
const NEXT_SCHEDULE_DELTA_MS = 100;
/** An estimate over this many missed start times is reported (and the latest still started). */
const TOO_MANY_MISSED = 100;

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

type CronJob = KubeObject & { metadata: { name: string; uid: string } };
type Job = KubeObject & { metadata: { name: string; uid: string } };

export interface CronJobEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface CronJobPlan {
  /** Jobs to delete (Background): beyond the history limits, or replaced. */
  delete: { name: string; event?: CronJobEvent }[];
  /** The Job to start, and the start time it is for. */
  create?: { job: KubeObject; scheduledTime: Date };
  events: CronJobEvent[];
  /** The status after this plan, without the created Job (the controller adds its reference). */
  status: CronJobStatus;
  requeueAfterMs?: number;
}

const spec = cronJobSpec;
const isFinished = (j: KubeObject) => ['Complete', 'Failed'].some((t) => findCondition(j, t)?.status === 'True');
const succeeded = (j: KubeObject) => findCondition(j, 'Complete')?.status === 'True';

/** getJobName: the minutes since the epoch of the start time. */
export const jobNameFor = (cj: KubeObject, scheduled: Date) =>
  `${cj.metadata.name}-${Math.floor(scheduled.getTime() / 60_000)}`;

/** The schedule with the CronJob's time zone, or the reason it has none (an event the caller records). */
export function scheduleOf(cj: KubeObject): CronSchedule | CronJobEvent {
  const { schedule = '', timeZone } = spec(cj);
  if (timeZone !== undefined && timeZoneProblem(timeZone))
    return {
      type: 'Warning',
      reason: 'UnknownTimeZone',
      message: `invalid timeZone: "${timeZone}": unknown time zone ${timeZone}`,
    };
  try {
    return parseSchedule(schedule, timeZone);
  } catch (e) {
    if (!(e instanceof ScheduleError)) throw e;
    return {
      type: 'Warning',
      reason: 'UnparseableSchedule',
      message: `unparseable schedule: "${schedule}" : ${e.message}`,
    };
  }
}

/**
 * mostRecentScheduleTime: the latest start time at or before `now` since the last one (or creation),
 * from `now - startingDeadlineSeconds` when that is later; and whether more than a hundred were missed.
 */
export function mostRecentScheduleTime(
  cj: KubeObject,
  now: number,
  schedule: CronSchedule,
  includeDeadline: boolean,
): { earliest: number; mostRecent?: Date; tooMany: boolean; missed: boolean } {
  const status = cronJobStatus(cj);
  let earliest = Date.parse(status.lastScheduleTime ?? cj.metadata.creationTimestamp ?? '') || now;
  const deadline = spec(cj).startingDeadlineSeconds;
  if (includeDeadline && deadline != null) earliest = Math.max(earliest, now - deadline * 1000);
  const t1 = schedule.next(new Date(earliest));
  if (!t1 || now < t1.getTime()) return { earliest, tooMany: false, missed: false };
  const t2 = schedule.next(t1);
  if (!t2 || now < t2.getTime()) return { earliest, mostRecent: t1, tooMany: false, missed: true };
  // Estimate how many were missed from the interval, then walk only the last two of them.
  const between = Math.max(1_000, Math.round((t2.getTime() - t1.getTime()) / 1000) * 1000);
  const missedCount = Math.floor((now - t1.getTime()) / between) + 1;
  let mostRecent: Date | undefined;
  for (
    let t = schedule.next(new Date(t1.getTime() + (missedCount - 2) * between));
    t && t.getTime() <= now;
    t = schedule.next(t)
  )
    mostRecent = t;
  return { earliest, mostRecent, tooMany: missedCount > TOO_MANY_MISSED, missed: true };
}

/** nextScheduleTimeDuration: how long until the start time after the most recent one, plus 100 ms. */
function untilNext(cj: KubeObject, now: number, schedule: CronSchedule): number | undefined {
  const r = mostRecentScheduleTime(cj, now, schedule, false);
  const from = r.mostRecent ? r.mostRecent.getTime() : r.missed ? now : r.earliest;
  const next = schedule.next(new Date(from));
  return next ? Math.max(0, next.getTime() + NEXT_SCHEDULE_DELTA_MS - now) : undefined;
}

/** byJobStartTime: the oldest started first, never-started last, then by name. */
function byStartTime(a: KubeObject, b: KubeObject): number {
  const start = (j: KubeObject) => Date.parse(String((j.status ?? {}).startTime ?? '')) || Infinity;
  return start(a) - start(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

/** getJobFromTemplate2: the template's Job, owned by the CronJob, annotated with its start time. */
export function jobFor(cj: CronJob, scheduled: Date): KubeObject {
  const template = spec(cj).jobTemplate;
  const tz = spec(cj).timeZone;
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: {
      name: jobNameFor(cj, scheduled),
      namespace: cj.metadata.namespace,
      ...(template?.metadata?.labels ? { labels: { ...template.metadata.labels } } : {}),
      annotations: { ...template?.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: inZone(scheduled, tz) },
      ownerReferences: [
        {
          apiVersion: 'batch/v1',
          kind: 'CronJob',
          name: cj.metadata.name,
          uid: cj.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: structuredClone({ ...template?.spec }) as Record<string, unknown>,
  };
}

/** RFC 3339 in the CronJob's time zone (UTC without one), as the scheduled-timestamp annotation carries it. */
const inZone = (t: Date, tz: string | undefined) =>
  DateTime.fromJSDate(t, { zone: tz ?? 'UTC' }).toISO({ suppressMilliseconds: true }) ?? rfc3339(t);

export function planCronJob(
  cj: CronJob,
  /** The Jobs it controls, as read now. */
  jobs: readonly Job[],
  /** Names in status.active whose Job is gone (read fresh by the caller). */
  missing: ReadonlySet<string>,
  now: number,
): CronJobPlan {
  const events: CronJobEvent[] = [];
  const status: CronJobStatus = structuredClone(cronJobStatus(cj));
  let active: ObjectReference[] = [...(status.active ?? [])];
  const plan: CronJobPlan = { delete: [], events, status };
  const s = spec(cj);

  // cleanupFinishedJobs: the oldest finished Jobs beyond each history limit go, before anything else.
  const gone = new Set<string>();
  const trim = (list: Job[], limit: number | undefined) => {
    if (limit == null) return;
    for (const j of [...list].sort(byStartTime).slice(0, Math.max(0, list.length - limit))) {
      gone.add(j.metadata.name);
      plan.delete.push({
        name: j.metadata.name,
        event: { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted job ${j.metadata.name}` },
      });
    }
  };
  trim(jobs.filter(succeeded), s.successfulJobsHistoryLimit);
  trim(
    jobs.filter((j) => isFinished(j) && !succeeded(j)),
    s.failedJobsHistoryLimit,
  );
  active = active.filter((r) => !gone.has(r.name ?? ''));

  // The Jobs it owns: finished ones leave the active list; ones it did not start are reported.
  for (const j of jobs) {
    const inActive = active.some((r) => r.uid === j.metadata.uid);
    if (!inActive && !isFinished(j)) {
      events.push({
        type: 'Warning',
        reason: 'UnexpectedJob',
        message: `Saw a job that the controller did not create or forgot: ${j.metadata.name}`,
      });
      continue;
    }
    if (!isFinished(j)) continue;
    if (inActive) {
      active = active.filter((r) => r.uid !== j.metadata.uid);
      events.push({
        type: 'Normal',
        reason: 'SawCompletedJob',
        message: `Saw completed job: ${j.metadata.name}, condition: ${succeeded(j) ? 'Complete' : 'Failed'}`,
      });
    }
    const completed = (j.status ?? {}).completionTime;
    if (
      succeeded(j) &&
      typeof completed === 'string' &&
      (!status.lastSuccessfulTime || Date.parse(completed) > Date.parse(status.lastSuccessfulTime))
    )
      status.lastSuccessfulTime = completed;
  }
  // Active references whose Job is gone.
  for (const r of active.filter((x) => missing.has(x.name ?? ''))) {
    events.push({ type: 'Normal', reason: 'MissingJob', message: `Active job went missing: ${r.name}` });
  }
  active = active.filter((x) => !missing.has(x.name ?? ''));
  const done = () => {
    status.active = active.length ? active : undefined;
    return plan;
  };

  if (cj.metadata.deletionTimestamp || s.suspend === true) return done();
  const schedule = scheduleOf(cj);
  if (!('next' in schedule)) {
    events.push(schedule);
    return done();
  }
  const next = mostRecentScheduleTime(cj, now, schedule, true);
  const requeue = untilNext(cj, now, schedule);
  if (requeue !== undefined) plan.requeueAfterMs = requeue;
  if (!next.mostRecent) return done();
  if (next.tooMany)
    events.push({
      type: 'Warning',
      reason: 'TooManyMissedTimes',
      message: 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew',
    });
  const scheduled = next.mostRecent;
  const deadline = s.startingDeadlineSeconds;
  if (deadline != null && scheduled.getTime() + deadline * 1000 < now) {
    events.push({
      type: 'Warning',
      reason: 'MissSchedule',
      message: `Missed scheduled time to start a job: ${scheduled.toUTCString().replace('GMT', '+0000')}`,
    });
    return done();
  }
  const name = jobNameFor(cj, scheduled);
  if (
    active.some((r) => r.name === name) ||
    (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled.getTime())
  )
    return done();
  if (s.concurrencyPolicy === 'Forbid' && active.length) {
    events.push({
      type: 'Normal',
      reason: 'JobAlreadyActive',
      message: 'Not starting job because prior execution is running and concurrency policy is Forbid',
    });
    return done();
  }
  if (s.concurrencyPolicy === 'Replace') {
    for (const r of active)
      plan.delete.push({
        name: r.name ?? '',
        event: { type: 'Normal', reason: 'SuccessfulDelete', message: `Deleted job ${r.name}` },
      });
    active = [];
  }
  plan.create = { job: jobFor(cj, scheduled), scheduledTime: scheduled };
  return done();
}
