import { ConflictError, NotFoundError } from '../../model/errors.js';
import { jsonEqual } from '../../model/json.js';
import { kindNamed } from '../../model/kinds.js';
import type { StoredObject } from '../../model/types.js';
import { serviceSpec, serviceStatus } from '../../model/typed.js';
import { EVERY_NAME } from '../../queue/work-key.js';
import type { ControllerDeps, ObjectRef, ReconcileResult } from '../types.js';
import type { LoadBalancerProvider } from './load-balancers.js';

const SERVICE = kindNamed('Service');
/** Kubernetes' service controller holds a LoadBalancer Service's deletion until its load balancer is gone. */
export const LB_CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';
/** A pending load balancer is tried again this often (the service controller's retry). */
const PENDING_RETRY_MS = 10_000;

/**
 * The cloud-controller-manager's service controller: a LoadBalancer Service gets a load balancer from
 * the provider and its address in `status.loadBalancer.ingress`; one that stops being a LoadBalancer,
 * or is deleted, has it removed first (the cleanup finalizer). A Service with `loadBalancerClass` is
 * another controller's, as in Kubernetes. Without a provider the Service says why it stays pending.
 */
export class ServiceController {
  constructor(private readonly deps: ControllerDeps & { loadBalancers?: LoadBalancerProvider }) {}

  async reconcile({ namespace, name }: ObjectRef): Promise<ReconcileResult> {
    if (name === EVERY_NAME) return {}; // pod changes concern endpoints, not load balancers
    const svc = await this.deps.store.get({ kind: 'Service', namespace, name });
    if (!svc) return {};
    const spec = serviceSpec(svc);
    const finalizers = svc.metadata.finalizers ?? [];
    const wants = spec.type === 'LoadBalancer' && !spec.loadBalancerClass && !svc.metadata.deletionTimestamp;
    const provider = this.deps.loadBalancers;
    try {
      if (!wants) {
        if (!finalizers.includes(LB_CLEANUP_FINALIZER)) return {};
        await provider?.remove(svc);
        if (!svc.metadata.deletionTimestamp && serviceStatus(svc).loadBalancer?.ingress?.length)
          await this.writeIngress(svc, []);
        const latest = await this.fresh(svc);
        await this.deps.service.patch(SERVICE, namespace, name, 'merge', {
          metadata: {
            resourceVersion: latest.metadata.resourceVersion,
            finalizers: (latest.metadata.finalizers ?? []).filter((f) => f !== LB_CLEANUP_FINALIZER),
          },
        });
        if (provider) this.deps.events.record(svc, 'Normal', 'DeletedLoadBalancer', 'Deleted load balancer');
        return {};
      }
      if (!provider) {
        this.deps.events.record(
          svc,
          'Warning',
          'SyncLoadBalancerFailed',
          'Error syncing load balancer: this cluster has no load balancer provider (KUMO_LOAD_BALANCER_PROVIDER); the Service stays pending',
        );
        return {};
      }
      let current: StoredObject = svc;
      if (!finalizers.includes(LB_CLEANUP_FINALIZER))
        current = await this.deps.service.patch(SERVICE, namespace, name, 'merge', {
          metadata: {
            resourceVersion: svc.metadata.resourceVersion,
            finalizers: [...finalizers, LB_CLEANUP_FINALIZER],
          },
        });
      const others = (await this.deps.service.list(SERVICE, undefined)).items.filter(
        (o) => serviceSpec(o).type === 'LoadBalancer' && o.metadata.uid !== svc.metadata.uid,
      );
      const result = await provider.ensure(current, others);
      if ('pending' in result) {
        this.deps.events.record(
          current,
          'Warning',
          'SyncLoadBalancerFailed',
          `Error syncing load balancer: ${result.pending}`,
        );
        if (serviceStatus(current).loadBalancer?.ingress?.length) await this.writeIngress(current, []);
        return { requeueAfterMs: PENDING_RETRY_MS }; // the port may be freed: try again
      }
      if (!jsonEqual(serviceStatus(current).loadBalancer?.ingress ?? [], result.ingress)) {
        this.deps.events.record(current, 'Normal', 'EnsuringLoadBalancer', 'Ensuring load balancer');
        // What a provider does not honour is said on the Service, not silently dropped.
        for (const field of provider.unsupported(current))
          this.deps.events.record(
            current,
            'Warning',
            'UnsupportedLoadBalancerField',
            `${field} is not honoured by the ${provider.name} load balancer provider`,
          );
        await this.writeIngress(current, result.ingress);
        this.deps.events.record(current, 'Normal', 'EnsuredLoadBalancer', 'Ensured load balancer');
      }
      return {};
    } catch (e) {
      if (e instanceof ConflictError || e instanceof NotFoundError) return { requeueAfterMs: 0 }; // changed meanwhile: look again
      throw e;
    }
  }

  private async fresh(svc: StoredObject): Promise<StoredObject> {
    const o = await this.deps.store.get({
      kind: 'Service',
      namespace: svc.metadata.namespace ?? '',
      name: svc.metadata.name,
    });
    if (!o) throw new NotFoundError({ resource: 'services', group: '', name: svc.metadata.name });
    return o;
  }

  private async writeIngress(svc: StoredObject, ingress: unknown[]): Promise<void> {
    await this.deps.service.patch(
      SERVICE,
      svc.metadata.namespace ?? '',
      svc.metadata.name,
      'merge',
      { status: { loadBalancer: ingress.length ? { ingress } : {} } },
      'status',
    );
  }
}
