import { matchesLabels, parseLabelSelector } from '../../model/selectors.js';
import type { KubeObject } from '../../model/types.js';
import { isReady, isTerminating, phaseOf } from '../pods.js';
import { podSpec, podStatus, serviceSpec } from '../../model/typed.js';

/**
 * The Endpoints of a Service, pure: the addresses of the pods its selector picks (ready ones under
 * `addresses`, others under `notReadyAddresses`) with the Service's ports resolved to the pods'
 * target ports. A pod's address is what its agent reports: its sandbox's IP, or the node's on host
 * networking (and on the process runtime).
 */

type Obj = Record<string, unknown>;
interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
}
/**
 * The number a Service port reaches on this pod (Kubernetes' podutil.FindPort): a named targetPort
 * is the container port of that name and protocol; a number is itself. Every pod has an address of
 * its own (its sandbox's, or the node's on host networking), so a hostPort plays no part.
 */
export function resolvePort(sp: ServicePort, pod: KubeObject): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  const protocol = sp.protocol ?? 'TCP';
  const ports = (podSpec(pod).containers ?? []).flatMap((c) => c.ports ?? []);
  return ports.find((p) => p.name === target && (p.protocol ?? 'TCP') === protocol)?.containerPort;
}

/** The Service as the controlling owner of what is made for it (its Endpoints and EndpointSlices). */
export function controlledBy(service: KubeObject & { metadata: { name: string; uid: string } }) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    name: service.metadata.name,
    uid: service.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

export function planEndpoints(
  service: KubeObject & { metadata: { name: string; uid: string } },
  pods: KubeObject[],
): KubeObject | undefined {
  const spec = serviceSpec(service);
  if (!spec.selector || Object.keys(spec.selector).length === 0) return undefined; // without a selector, endpoints are the user's
  const selector = parseLabelSelector(
    Object.entries(spec.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  );
  const selected = pods.filter(
    (p) =>
      matchesLabels(selector, p.metadata.labels) &&
      !isTerminating(p) &&
      phaseOf(p) !== 'Succeeded' &&
      phaseOf(p) !== 'Failed',
  );
  const address = (p: KubeObject) => {
    const st = podStatus(p);
    const ip = st.podIP ?? st.hostIP;
    // podToEndpointAddressForService: a pod whose subdomain is this Service is named under it by its hostname.
    const { hostname, subdomain } = podSpec(p);
    return ip
      ? {
          ip,
          ...(hostname && subdomain === service.metadata.name ? { hostname } : {}),
          nodeName: podSpec(p).nodeName,
          targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
        }
      : undefined;
  };
  // Pods whose ports resolve alike form one subset, as Kubernetes groups them.
  const subsets = new Map<string, { addresses: Obj[]; notReadyAddresses: Obj[]; ports: Obj[] }>();
  for (const p of selected) {
    const a = address(p);
    if (!a) continue;
    const ports = (spec.ports ?? [])
      .map((sp) => ({ name: sp.name, port: resolvePort(sp, p), protocol: sp.protocol ?? 'TCP' }))
      .filter((x) => x.port !== undefined);
    const key = JSON.stringify(ports);
    const subset = subsets.get(key) ?? {
      addresses: [],
      notReadyAddresses: [],
      ports: ports.map((x) => (x.name ? x : { port: x.port, protocol: x.protocol })),
    };
    (isReady(p) ? subset.addresses : subset.notReadyAddresses).push(a);
    subsets.set(key, subset);
  }
  const byIp = (x: Obj, y: Obj) =>
    String(x.ip).localeCompare(String(y.ip)) ||
    String((x.targetRef as Obj).name).localeCompare(String((y.targetRef as Obj).name));
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: service.metadata.name,
      namespace: service.metadata.namespace,
      labels: { ...service.metadata.labels },
      ownerReferences: [controlledBy(service)],
    },
    subsets: [...subsets.values()].map((ss) => ({
      ...(ss.addresses.length ? { addresses: ss.addresses.sort(byIp) } : {}),
      ...(ss.notReadyAddresses.length ? { notReadyAddresses: ss.notReadyAddresses.sort(byIp) } : {}),
      ports: ss.ports,
    })),
  };
}
