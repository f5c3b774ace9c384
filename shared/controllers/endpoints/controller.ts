import { AlreadyExistsError, ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';
import { planEndpoints } from './plan.js';
import { EVERY_NAME } from '../../queue/work-key.js';

const SERVICE = kindNamed('Service');
const ENDPOINTS = kindNamed('Endpoints');

/** Keeps one Endpoints object per Service with a selector (`name` "*" reconciles every Service of the namespace). */
export class EndpointsController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const services =
      name === EVERY_NAME
        ? (await this.deps.service.list(SERVICE, namespace)).items
        : [await this.deps.store.get({ kind: 'Service', namespace, name })].filter((x): x is StoredObject => !!x);
    if (services.length === 0) return {};
    const pods = (await this.deps.service.list(kindNamed('Pod'), namespace)).items;
    let requeue = false;
    for (const svc of services) {
      const desired = planEndpoints(svc, pods);
      if (!desired) continue;
      const current = await this.deps.store.get({ kind: 'Endpoints', namespace, name: svc.metadata.name });
      try {
        if (!current) await this.deps.service.create(ENDPOINTS, namespace, desired);
        else if (!jsonEqual(current.subsets, desired.subsets))
          await this.deps.service.replace(ENDPOINTS, namespace, svc.metadata.name, {
            ...desired,
            metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion },
          });
      } catch (e) {
        if (!(e instanceof AlreadyExistsError || e instanceof ConflictError || e instanceof NotFoundError)) throw e;
        requeue = true; // raced with another reconcile: look again with fresh state
      }
    }
    return requeue ? { requeueAfterMs: 0 } : {};
  }
}
