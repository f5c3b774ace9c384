import { createHash } from 'node:crypto';
import { matchesLabels, parseLabelSelector } from '../../model/selectors.js';
import type { KubeObject } from '../../model/types.js';
import { podSpec, podStatus, serviceSpec } from '../../model/typed.js';
import { SERVICE_NAME_LABEL } from '../../nodes/service-view.js';
import { isReady, isTerminating, phaseOf } from '../pods.js';
import { controlledBy, resolvePort } from './plan.js';

/**
 * The EndpointSlices (discovery.k8s.io/v1) of a Service, pure, as Kubernetes' EndpointSlice
 * controller makes them (staging/src/k8s.io/endpointslice): every selected pod with an address that
 * has not finished, terminating ones included with their conditions (ready: serving and not
 * terminating; serving: passing readiness; terminating), grouped by the ports they resolve to, at
 * most 100 endpoints per slice. Names are deterministic (`<service>-<hash>`) so two reconciles of
 * one Service collide on a conditional write instead of writing twins.
 */

export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const MANAGED_BY = 'endpointslice-controller.k8s.io';
/** Kubernetes' --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;

type Obj = Record<string, unknown>;

export function planEndpointSlices(
  service: KubeObject & { metadata: { name: string; uid: string } },
  pods: KubeObject[],
): KubeObject[] | undefined {
  const spec = serviceSpec(service);
  if (!spec.selector || Object.keys(spec.selector).length === 0) return undefined; // without a selector, slices are the user's
  const selector = parseLabelSelector(
    Object.entries(spec.selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  );
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const groups = new Map<string, { ports: Obj[]; endpoints: Obj[] }>();
  const selected = pods
    .filter(
      (p) =>
        matchesLabels(selector, p.metadata.labels) &&
        podStatus(p).podIP &&
        phaseOf(p) !== 'Succeeded' &&
        phaseOf(p) !== 'Failed',
    )
    .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const p of selected) {
    const ports = (spec.ports ?? [])
      .map((sp) => ({ name: sp.name ?? '', port: resolvePort(sp, p), protocol: sp.protocol ?? 'TCP' }))
      .filter((x) => x.port !== undefined);
    const key = JSON.stringify(ports);
    const group: { ports: Obj[]; endpoints: Obj[] } = groups.get(key) ?? { ports, endpoints: [] };
    const terminating = isTerminating(p);
    // podToEndpoint: serving is the pod's readiness; ready also needs it not terminating, unless the
    // Service publishes not-ready addresses.
    const serving = isReady(p);
    const ps = podSpec(p);
    group.endpoints.push({
      addresses: [podStatus(p).podIP],
      conditions: { ready: publishNotReady || (serving && !terminating), serving, terminating },
      // A pod's own DNS name under the Service: when its subdomain names it (EndpointSlice's hostname rule).
      ...(ps.hostname && ps.subdomain === service.metadata.name ? { hostname: ps.hostname } : {}),
      ...(ps.nodeName ? { nodeName: ps.nodeName } : {}),
      targetRef: { kind: 'Pod', namespace: p.metadata.namespace, name: p.metadata.name, uid: p.metadata.uid },
    });
    groups.set(key, group);
  }
  const slices: KubeObject[] = [];
  for (const [key, group] of groups)
    for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE)
      slices.push(
        slice(
          service,
          `${key}#${i / MAX_ENDPOINTS_PER_SLICE}`,
          group.ports,
          group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE),
        ),
      );
  // A Service with no endpoints still has one (empty) slice, as Kubernetes keeps a placeholder.
  if (!slices.length) slices.push(slice(service, 'placeholder', [], []));
  return slices;
}

function slice(
  service: KubeObject & { metadata: { name: string; uid: string } },
  key: string,
  ports: Obj[],
  endpoints: Obj[],
): KubeObject {
  const hash = createHash('sha256').update(`${service.metadata.uid}/${key}`).digest('hex').slice(0, 5);
  const name = `${service.metadata.name.slice(0, 57)}-${hash}`;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name,
      namespace: service.metadata.namespace,
      labels: {
        ...service.metadata.labels,
        [SERVICE_NAME_LABEL]: service.metadata.name,
        [MANAGED_BY_LABEL]: MANAGED_BY,
      },
      ownerReferences: [controlledBy(service)],
    },
    addressType: 'IPv4',
    endpoints,
    ports,
  };
}
