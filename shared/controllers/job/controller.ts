import { ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';
import { refusesSpec } from '../spec-guard.js';
import { applyPodChanges } from '../pod-writes.js';
import { planJob } from './plan.js';

const JOB = kindNamed('Job');

/** Reads a Job and its pods, applies planJob. */
export class JobController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const job = await this.deps.store.get({ kind: 'Job', namespace, name });
    if (!job || job.metadata.deletionTimestamp) return {};
    if (refusesSpec(this.deps, job)) return {};
    const pods = await this.deps.store.listOwnedBy(job.metadata.uid, 'Pod');
    const plan = planJob(job, pods, this.deps.clock.now().getTime());
    if (plan.deleteJob) {
      await this.deps.service.delete(JOB, namespace, name, { propagationPolicy: 'Background' }).catch((e) => {
        if (!(e instanceof NotFoundError)) throw e;
      });
      return {};
    }
    await applyPodChanges(this.deps, job, namespace, plan.create, plan.delete, false);
    if (!jsonEqual({ ...job.status, ...plan.status }, job.status ?? {})) {
      try {
        await this.deps.store.update({ ...job, status: { ...job.status, ...plan.status } }, job);
        for (const e of plan.events) this.deps.events.record(job, e.type, e.reason, e.message);
      } catch (e) {
        if (!(e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        return { requeueAfterMs: 0 };
      }
    }
    return { requeueAfterMs: plan.requeueAfterMs };
  }
}
