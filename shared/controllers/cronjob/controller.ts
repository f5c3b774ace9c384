import { AlreadyExistsError, ConflictError, NotFoundError, StatusError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import { rfc3339 } from '../../util/clock.js';
import { cronJobStatus } from '../../model/typed.js';
import { refusesSpec } from '../spec-guard.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import { planCronJob } from './plan.js';

const JOB = kindNamed('Job');
/** When the pending delayed reconcile of a CronJob comes (kumo's bookkeeping, one message per CronJob). */
export const WAKE_ANNOTATION = 'kumo.io/next-reconcile';
/** SQS delays a message by 15 minutes at most: a later start time is reached in steps. */
const MAX_DELAY_MS = 900_000;

/**
 * Reads a CronJob and its Jobs, applies planCronJob, starts the Job it asks for and writes the status.
 * A Job's name is its start time's, so two reconciles of the same moment start it once: the second
 * create finds it and only records it. The next start is a delayed reconcile (requeueAfterMs), and the
 * minute sweep picks up a CronJob whose start time has come should that message be lost.
 */
export class CronJobController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const cj = await this.deps.store.get({ kind: 'CronJob', namespace, name });
    if (!cj) return {};
    if (refusesSpec(this.deps, cj)) return {};
    // The owner index finds its Jobs; the base table gives their current state, and says which active ones are gone.
    const listed = await this.deps.store.listOwnedBy(cj.metadata.uid, 'Job');
    const activeNames = (cronJobStatus(cj).active ?? []).map((r) => r.name ?? '');
    const names = [...new Set([...listed.map((j) => j.metadata.name), ...activeNames])];
    const fresh = await this.deps.store.getMany(names.map((n) => ({ kind: 'Job', namespace, name: n })));
    const jobs = fresh.filter((j) =>
      j.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid),
    );
    const found = new Set(fresh.map((j) => j.metadata.name));
    const missing = new Set(activeNames.filter((n) => !found.has(n)));
    const plan = planCronJob(cj, jobs, missing, this.deps.clock.now().getTime());
    const event = (e: { type: 'Normal' | 'Warning'; reason: string; message: string }) =>
      this.deps.events.record(cj, e.type, e.reason, e.message);
    plan.events.forEach(event);

    for (const d of plan.delete) {
      try {
        await this.deps.service.delete(JOB, namespace, d.name, { propagationPolicy: 'Background' });
        if (d.event) event(d.event);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    const status = { ...plan.status };
    if (plan.create) {
      let job: StoredObject | undefined;
      try {
        job = await this.deps.service.create(JOB, namespace, plan.create.job);
        event({ type: 'Normal', reason: 'SuccessfulCreate', message: `Created job ${job.metadata.name}` });
      } catch (e) {
        if (e instanceof AlreadyExistsError) {
          // Started by another reconcile of the same moment: record it if it is this CronJob's.
          const held = await this.deps.store.get({ kind: 'Job', namespace, name: plan.create.job.metadata.name ?? '' });
          if (held?.metadata.ownerReferences?.some((r) => r.controller && r.uid === cj.metadata.uid)) job = held;
        } else {
          if (e instanceof StatusError && e.code < 500)
            event({ type: 'Warning', reason: 'FailedCreate', message: `Error creating job: ${e.message}` });
          throw e;
        }
      }
      if (job) {
        const ref = {
          kind: 'Job',
          namespace,
          name: job.metadata.name,
          uid: job.metadata.uid,
          apiVersion: 'batch/v1',
          resourceVersion: job.metadata.resourceVersion,
        };
        if (!(status.active ?? []).some((r) => r.uid === ref.uid)) status.active = [...(status.active ?? []), ref];
        status.lastScheduleTime = rfc3339(plan.create.scheduledTime);
      }
    }
    // One delayed message at a time: every reconcile (a Job's change, a status write) would otherwise
    // start a chain of its own. The annotation says when the pending one comes; a reconcile asks for
    // another only when none is pending, or the pending one comes too late (the schedule changed).
    const now = this.deps.clock.now().getTime();
    // `<uid> <time>`: a copied manifest's annotation (another uid) promises nothing. Should the message it
    // promises be lost, the minute sweep finds the CronJob due and this reconcile asks again.
    const [pendingUid, pendingTime] = (cj.metadata.annotations?.[WAKE_ANNOTATION] ?? '').split(' ');
    const pendingAt = pendingUid === cj.metadata.uid ? Date.parse(pendingTime ?? '') : NaN;
    const wantAt = plan.requeueAfterMs === undefined ? undefined : now + plan.requeueAfterMs;
    const wakeAt =
      wantAt === undefined || (pendingAt > now && pendingAt <= wantAt)
        ? undefined
        : Math.min(wantAt, now + MAX_DELAY_MS);
    const next: StoredObject = {
      ...cj,
      metadata:
        wakeAt === undefined
          ? cj.metadata
          : {
              ...cj.metadata,
              annotations: {
                ...cj.metadata.annotations,
                [WAKE_ANNOTATION]: `${cj.metadata.uid} ${new Date(wakeAt).toISOString()}`,
              },
            },
      status: JSON.parse(JSON.stringify(status)) as Record<string, unknown>,
    };
    if (!jsonEqual(next, cj)) {
      try {
        await this.deps.store.update(next, cj);
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        return { requeueAfterMs: 0 };
      }
    }
    return wakeAt === undefined ? {} : { requeueAfterMs: wakeAt - now };
  }
}
