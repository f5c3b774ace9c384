import { AlreadyExistsError, ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { KubeObject, StoredObject } from '../../model/types.js';
import type { ControllerDeps, ReconcileResult, ObjectRef } from '../types.js';
import { planEndpoints } from './plan.js';
import { MANAGED_BY, MANAGED_BY_LABEL, planEndpointSlices } from './slices.js';
import { SERVICE_NAME_LABEL } from '../../nodes/service-view.js';
import { EVERY_NAME } from '../../queue/work-key.js';

const SERVICE = kindNamed('Service');
const ENDPOINTS = kindNamed('Endpoints');
const SLICE = kindNamed('EndpointSlice');

/**
 * Keeps one Endpoints object and the EndpointSlices of every Service with a selector (`name` "*"
 * reconciles every Service of the namespace): Kubernetes' endpoints and EndpointSlice controllers.
 */
export class EndpointsController {
  constructor(private readonly deps: ControllerDeps) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    const services =
      name === EVERY_NAME
        ? (await this.deps.service.list(SERVICE, namespace)).items
        : [await this.deps.store.get({ kind: 'Service', namespace, name })].filter((x): x is StoredObject => !!x);
    const slices = (
      await this.deps.service.list(SLICE, namespace, { labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}` })
    ).items.filter((s) => name === EVERY_NAME || s.metadata.labels?.[SERVICE_NAME_LABEL] === name);
    if (services.length === 0 && slices.length === 0) return {};
    const pods = services.length ? (await this.deps.service.list(kindNamed('Pod'), namespace)).items : [];
    let requeue = false;
    const raced = (e: unknown) => {
      if (!(e instanceof AlreadyExistsError || e instanceof ConflictError || e instanceof NotFoundError)) throw e;
      requeue = true; // raced with another reconcile: look again with fresh state
    };
    const wanted = new Set<string>();
    for (const svc of services) {
      const desired = planEndpoints(svc, pods);
      if (desired) {
        const current = await this.deps.store.get({ kind: 'Endpoints', namespace, name: svc.metadata.name });
        try {
          if (!current) await this.deps.service.create(ENDPOINTS, namespace, desired);
          else if (!jsonEqual(current.subsets, desired.subsets))
            await this.deps.service.replace(ENDPOINTS, namespace, svc.metadata.name, {
              ...desired,
              metadata: { ...desired.metadata, resourceVersion: current.metadata.resourceVersion },
            });
        } catch (e) {
          raced(e);
        }
      }
      for (const slice of svc.metadata.deletionTimestamp ? [] : (planEndpointSlices(svc, pods) ?? [])) {
        const sliceName = slice.metadata.name ?? '';
        wanted.add(sliceName);
        const current = slices.find((s) => s.metadata.name === sliceName);
        try {
          if (!current) await this.deps.service.create(SLICE, namespace, slice);
          else if (!sameSlice(current, slice))
            await this.deps.service.replace(SLICE, namespace, sliceName, {
              ...slice,
              metadata: { ...slice.metadata, resourceVersion: current.metadata.resourceVersion },
            });
        } catch (e) {
          raced(e);
        }
      }
    }
    // Slices no Service wants any more: their pods regrouped, or their Service lost its selector or is gone.
    for (const s of slices) {
      if (wanted.has(s.metadata.name)) continue;
      try {
        await this.deps.service.delete(SLICE, namespace, s.metadata.name, {
          preconditions: { resourceVersion: s.metadata.resourceVersion },
        });
      } catch (e) {
        raced(e);
      }
    }
    return requeue ? { requeueAfterMs: 0 } : {};
  }
}

const sameSlice = (a: KubeObject, b: KubeObject) =>
  jsonEqual(a.endpoints, b.endpoints) && jsonEqual(a.ports, b.ports) && jsonEqual(a.metadata.labels, b.metadata.labels);
