import type { EndpointView, ServiceView } from '../../nodes/service-view.js';

/**
 * A loopback endpoint is this node's own loopback: only a pod of this node (the process runtime's share
 * its address) or the `kubernetes` Service's API listener may be one. Any other would let a Service
 * reach whatever listens on the node's loopback (Kubernetes refuses such addresses outright).
 */
const loopbackAllowed = (view: ServiceView, e: EndpointView, nodeName: string) =>
  !e.ip.startsWith('127.') || e.nodeName === nodeName || (view.namespace === 'default' && view.name === 'kubernetes');

/** kube-proxy's choice of endpoints: ready ones (this node's only under a Local policy), else serving terminating ones. */
export function candidates(
  view: ServiceView,
  portName: string,
  nodeName: string,
  local: boolean,
  terminatingFallback = true,
): EndpointView[] {
  let eps = view.endpoints.filter((e) => e.ports[portName] !== undefined && loopbackAllowed(view, e, nodeName));
  if (local) eps = eps.filter((e) => e.nodeName === nodeName);
  const ready = eps.filter((e) => e.ready);
  return ready.length || !terminatingFallback ? ready : eps.filter((e) => e.serving && e.terminating);
}

/**
 * Which endpoint a new connection to one Service port goes to, as kube-proxy chooses: ready
 * endpoints in turn; with a Local traffic policy only this node's; when none is ready, the serving
 * ones that are terminating (ProxyTerminatingEndpoints, so a rolling update never drops to zero);
 * with ClientIP affinity, a client keeps its endpoint until it has been idle for the timeout.
 */
export class Backends {
  private next = 0;
  private readonly affinity = new Map<string, { ip: string; until: number }>();
  private candidates: EndpointView[] = [];

  constructor(
    private view: ServiceView,
    private readonly portName: string,
    private readonly nodeName: string,
    /** Local traffic policy: internalTrafficPolicy for cluster IPs, externalTrafficPolicy for node ports and load balancers. */
    private readonly local: (v: ServiceView) => boolean,
    private readonly now: () => number,
    /** kube-proxy's fallback to serving terminating endpoints; an ingress controller routes to ready ones only. */
    private readonly terminatingFallback = true,
  ) {
    this.update(view);
  }

  update(view: ServiceView): void {
    this.view = view;
    this.candidates = candidates(view, this.portName, this.nodeName, this.local(view), this.terminatingFallback);
  }

  get size(): number {
    return this.candidates.length;
  }

  /** An endpoint for a client, or undefined when there is none (the connection is refused). `skip` leaves out ones that just failed. */
  pick(clientIP: string | undefined, skip: ReadonlySet<string> = new Set()): { ip: string; port: number } | undefined {
    const usable = this.candidates.filter((e) => !skip.has(e.ip));
    if (!usable.length) return undefined;
    const now = this.now();
    const timeoutMs = (this.view.affinitySeconds ?? 0) * 1000;
    let chosen: EndpointView | undefined;
    if (timeoutMs && clientIP) {
      const sticky = this.affinity.get(clientIP);
      if (sticky && sticky.until > now) chosen = usable.find((e) => e.ip === sticky.ip);
    }
    chosen ??= usable[this.next++ % usable.length];
    if (!chosen) return undefined;
    if (timeoutMs && clientIP) {
      this.affinity.set(clientIP, { ip: chosen.ip, until: now + timeoutMs });
      if (this.affinity.size > 10_000) for (const [k, v] of this.affinity) if (v.until <= now) this.affinity.delete(k);
    }
    return { ip: chosen.ip, port: chosen.ports[this.portName] ?? 0 };
  }
}
