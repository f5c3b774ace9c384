import { createHash } from 'node:crypto';
import type { KubeObject } from '../model/types.js';
import { serviceSpec } from '../model/typed.js';

/**
 * What a node needs of the cluster's Services to be their data path and DNS (kube-proxy's and
 * CoreDNS' view): each Service's addresses, ports and policies with its endpoints from its
 * EndpointSlices, compact enough to travel with an agent's sync. Built by the control plane, read by
 * the agent; a digest lets an agent that is up to date skip the transfer.
 */

export interface EndpointView {
  ip: string;
  nodeName?: string;
  /** EndpointSlice conditions: ready (serving and not terminating), serving, terminating. */
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** A pod's hostname when its subdomain names this Service: `<hostname>.<svc>.<ns>.svc.<domain>`. */
  hostname?: string;
  /** The endpoint's port for each Service port name ("" for an unnamed port). */
  ports: Record<string, number>;
}

export interface ServicePortView {
  name: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  port: number;
  nodePort?: number;
}

export interface ServiceView {
  namespace: string;
  name: string;
  type: 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';
  /** Absent for headless and ExternalName Services. */
  clusterIP?: string;
  headless: boolean;
  externalName?: string;
  ports: ServicePortView[];
  /** ClientIP affinity's timeout, when the Service asks for it. */
  affinitySeconds?: number;
  /** internalTrafficPolicy / externalTrafficPolicy Local: only this node's endpoints. */
  internalLocal: boolean;
  externalLocal: boolean;
  /** Addresses its load balancer was given (status.loadBalancer.ingress[].ip). */
  loadBalancerIPs: string[];
  endpoints: EndpointView[];
}

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

const isIPv4 = (a: unknown): a is string =>
  typeof a === 'string' &&
  /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(a) &&
  a !== '0.0.0.0' &&
  !a.startsWith('169.254.');
const isPort = (p: unknown): p is number => Number.isInteger(p) && Number(p) >= 1 && Number(p) <= 65535;

export function serviceViews(services: KubeObject[], slices: KubeObject[]): ServiceView[] {
  const slicesOf = new Map<string, KubeObject[]>();
  for (const s of slices) {
    const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
    if (!svc) continue;
    const key = `${s.metadata.namespace ?? ''}/${svc}`;
    slicesOf.set(key, [...(slicesOf.get(key) ?? []), s]);
  }
  return services
    .filter((s) => !s.metadata.deletionTimestamp)
    .map((s) => viewOf(s, slicesOf.get(`${s.metadata.namespace ?? ''}/${s.metadata.name}`) ?? []))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
}

function viewOf(svc: KubeObject, slices: KubeObject[]): ServiceView {
  const spec = serviceSpec(svc);
  const headless = spec.clusterIP === 'None';
  const endpoints = new Map<string, EndpointView>();
  for (const slice of slices) {
    if ((slice as Obj).addressType !== 'IPv4') continue;
    const ports = arr((slice as Obj).ports);
    for (const e of arr((slice as Obj).endpoints)) {
      const cond = obj(e.conditions);
      // Only what a node can act on safely reaches it: IPv4 addresses and real ports (older or hand-written
      // objects may hold anything; every node would otherwise dial or program it).
      for (const ip of Array.isArray(e.addresses) ? e.addresses.filter(isIPv4) : []) {
        const view = endpoints.get(ip) ?? {
          ip,
          ...(typeof e.nodeName === 'string' ? { nodeName: e.nodeName } : {}),
          // A nil condition reads as ready/serving (EndpointConditions' documented meaning).
          ready: cond.ready !== false,
          serving: typeof cond.serving === 'boolean' ? cond.serving : cond.ready !== false,
          terminating: cond.terminating === true,
          ...(typeof e.hostname === 'string' ? { hostname: e.hostname } : {}),
          ports: {},
        };
        for (const p of ports) if (isPort(p.port)) view.ports[typeof p.name === 'string' ? p.name : ''] = p.port;
        endpoints.set(ip, view);
      }
    }
  }
  const type = (spec.type ?? 'ClusterIP') as ServiceView['type'];
  return {
    namespace: svc.metadata.namespace ?? '',
    name: svc.metadata.name ?? '',
    type,
    ...(isIPv4(spec.clusterIP) && type !== 'ExternalName' ? { clusterIP: spec.clusterIP } : {}),
    headless,
    ...(type === 'ExternalName' && spec.externalName ? { externalName: spec.externalName } : {}),
    ports: (spec.ports ?? [])
      .filter((p) => isPort(p.port))
      .map((p) => ({
        name: p.name ?? '',
        protocol: (p.protocol ?? 'TCP') as ServicePortView['protocol'],
        port: p.port,
        ...(isPort(p.nodePort) ? { nodePort: p.nodePort } : {}),
      })),
    ...(spec.sessionAffinity === 'ClientIP'
      ? { affinitySeconds: spec.sessionAffinityConfig?.clientIP?.timeoutSeconds ?? 10800 }
      : {}),
    internalLocal: spec.internalTrafficPolicy === 'Local',
    externalLocal: spec.externalTrafficPolicy === 'Local',
    loadBalancerIPs: arr(obj(obj(svc.status).loadBalancer).ingress)
      .map((i) => i.ip)
      .filter(isIPv4),
    endpoints: [...endpoints.values()].sort((a, b) => a.ip.localeCompare(b.ip)),
  };
}

export function serviceViewDigest(views: ServiceView[]): string {
  return createHash('sha256').update(JSON.stringify(views)).digest('base64url').slice(0, 32);
}
