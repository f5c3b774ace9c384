import { AlreadyExistsError } from '../model/errors.js';
import { kindNamed } from '../model/kinds.js';
import type { ObjectApi } from '../model/object-api.js';
import type { Ipv4Range } from '../model/service-network.js';
import { SERVICE_NAME_LABEL } from '../nodes/service-view.js';

/**
 * The `kubernetes` Service of `default`, as kube-apiserver keeps it
 * (pkg/controlplane/controller/kubernetesservice): the first address of the service range, port 443
 * named https, with an Endpoints and an EndpointSlice of its own naming where the API answers (it has
 * no selector, so the endpoints controller leaves them alone). Pods get KUBERNETES_SERVICE_HOST and
 * _PORT from it (agent/service-env.ts) and reach the API through their node's proxy; the API's
 * serving certificate names this address (local/pki.ts), as kube-apiserver's does.
 */

const NAMESPACE = 'default';
const NAME = 'kubernetes';
const PORT_NAME = 'https';

export interface ApiEndpoint {
  ip: string;
  port: number;
}

/** The address in-cluster clients dial: the range's first (10.96.0.1 for 10.96.0.0/16). */
export const kubernetesServiceIP = (range: Ipv4Range) => range.at(1);

/** Writes the three objects, or brings them to `endpoint` (the API may listen elsewhere after a restart). */
export async function ensureKubernetesService(api: ObjectApi, range: Ipv4Range, endpoint: ApiEndpoint): Promise<void> {
  const labels = { component: 'apiserver', provider: 'kubernetes' };
  const ports = [{ name: PORT_NAME, port: 443, protocol: 'TCP', targetPort: endpoint.port }];
  const clusterIP = kubernetesServiceIP(range);
  await put(
    api,
    'Service',
    {
      metadata: { name: NAME, namespace: NAMESPACE, labels },
      spec: { type: 'ClusterIP', clusterIP, ports, sessionAffinity: 'None' },
    },
    { ports, clusterIP },
  );
  await put(api, 'Endpoints', {
    metadata: { name: NAME, namespace: NAMESPACE, labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' } },
    subsets: [{ addresses: [{ ip: endpoint.ip }], ports: [{ name: PORT_NAME, port: endpoint.port, protocol: 'TCP' }] }],
  });
  await put(api, 'EndpointSlice', {
    metadata: { name: NAME, namespace: NAMESPACE, labels: { [SERVICE_NAME_LABEL]: NAME } },
    addressType: 'IPv4',
    endpoints: [{ addresses: [endpoint.ip], conditions: { ready: true } }],
    ports: [{ name: PORT_NAME, port: endpoint.port, protocol: 'TCP' }],
  });
}

async function put(
  api: ObjectApi,
  kind: string,
  body: Record<string, unknown> & { metadata: { name: string; [k: string]: unknown } },
  /** A Service's address and ports, the part of its spec that follows the endpoint. */
  service?: { ports: unknown[]; clusterIP: string },
) {
  const type = kindNamed(kind);
  try {
    await api.create(type, NAMESPACE, body);
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    const current = await api.get(type, NAMESPACE, body.metadata.name);
    // An address from another service range (the stack moved ranges) cannot be changed: made anew.
    if (service && current.spec?.clusterIP !== service.clusterIP) {
      await api.delete(type, NAMESPACE, body.metadata.name, {});
      await api.create(type, NAMESPACE, body);
      return;
    }
    // A Service keeps its address; the rest follows the API's endpoint.
    const spec = service ? { spec: { ...current.spec, ports: service.ports } } : {};
    await api.replace(type, NAMESPACE, body.metadata.name, {
      ...body,
      ...spec,
      metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
    });
  }
}
