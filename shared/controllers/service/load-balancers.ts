import type { KubeObject } from '../../model/types.js';
import { serviceSpec, serviceStatus } from '../../model/typed.js';

/**
 * Where LoadBalancer Services get their load balancers: the cloud-controller-manager's
 * cloudprovider.LoadBalancer, behind one interface. Offline the local provider (below); on AWS the
 * cloud controller's NLB provider (ARCHITECTURE.md §13) implements the same.
 */
export interface LoadBalancerIngress {
  ip?: string;
  hostname?: string;
  ipMode?: 'VIP' | 'Proxy';
}

export type EnsureResult = { ingress: LoadBalancerIngress[] } | { pending: string };

export interface LoadBalancerProvider {
  readonly name: string;
  /** Makes or updates the Service's load balancer; `others` are the cluster's other LoadBalancer Services. */
  ensure(service: KubeObject, others: KubeObject[]): Promise<EnsureResult>;
  /** Removes what `ensure` made; idempotent. */
  remove(service: KubeObject): Promise<void>;
  /** The Service's load balancer fields this provider cannot honour (spec paths), reported in an Event. */
  unsupported(service: KubeObject): string[];
}

const LOOPBACK = '127.0.0.1';

/**
 * The offline provider, like k3s' ServiceLB: each LoadBalancer Service is answered on 127.0.0.1 at its
 * own ports (the node agents listen there and hand connections to the endpoints). A port another
 * LoadBalancer Service already holds leaves this one pending, with the reason in an Event.
 */
export class LocalLoadBalancers implements LoadBalancerProvider {
  readonly name = 'local';

  async ensure(service: KubeObject, others: KubeObject[]): Promise<EnsureResult> {
    const mine = (serviceSpec(service).ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`);
    const iHold = (serviceStatus(service).loadBalancer?.ingress ?? []).some((i) => i.ip === LOOPBACK);
    for (const other of others) {
      const holds = (serviceStatus(other).loadBalancer?.ingress ?? []).some((i) => i.ip === LOOPBACK);
      // The one holding the port keeps it; two that claimed it at once settle by age (then uid), so
      // they never take turns.
      const olderThanMe =
        `${other.metadata.creationTimestamp ?? ''}/${other.metadata.uid ?? ''}` <
        `${service.metadata.creationTimestamp ?? ''}/${service.metadata.uid ?? ''}`;
      if (!holds || other.metadata.uid === service.metadata.uid || (iHold && !olderThanMe)) continue;
      const taken = (serviceSpec(other).ports ?? [])
        .map((p) => `${p.port}/${p.protocol ?? 'TCP'}`)
        .find((p) => mine.includes(p));
      if (taken)
        return {
          pending: `port ${taken} on ${LOOPBACK} is already the load balancer of ${other.metadata.namespace}/${other.metadata.name}`,
        };
    }
    return { ingress: [{ ip: LOOPBACK, ipMode: 'VIP' }] };
  }

  /** Everything answers on 127.0.0.1 for everyone: a requested address or source ranges cannot be honoured. */
  unsupported(service: KubeObject): string[] {
    const spec = serviceSpec(service);
    return [
      ...(spec.loadBalancerIP ? ['spec.loadBalancerIP'] : []),
      ...((spec.loadBalancerSourceRanges ?? []).length ? ['spec.loadBalancerSourceRanges'] : []),
    ];
  }

  async remove(): Promise<void> {
    // Nothing to remove: the agents stop listening when the Service no longer lists the address.
  }
}
