import { AlreadyExistsError } from '../model/errors.js';
import { kindNamed } from '../model/kinds.js';
import type { ObjectApi } from '../model/object-api.js';
import type { StoredObject } from '../model/types.js';
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
const LABELS = { component: 'apiserver', provider: 'kubernetes' };

export interface ApiEndpoint {
  ip: string;
  port: number;
}

/** The address in-cluster clients dial: the range's first (10.96.0.1 for 10.96.0.0/16). */
export const kubernetesServiceIP = (range: Ipv4Range) => range.at(1);

/** Writes the three objects, or brings them to `endpoint` (the API may listen elsewhere after a restart). */
export async function ensureKubernetesService(api: ObjectApi, range: Ipv4Range, endpoint: ApiEndpoint): Promise<void> {
  const ports = [{ name: PORT_NAME, port: 443, protocol: 'TCP', targetPort: endpoint.port }];
  await putService(api, { type: 'ClusterIP', clusterIP: kubernetesServiceIP(range), ports, sessionAffinity: 'None' });
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

/**
 * On AWS the API is a public https endpoint whose certificate names its host, which no cluster IP can
 * stand for: the `kubernetes` Service names that host (ExternalName), so `kubectl get svc kubernetes`
 * shows where the API is and the cluster DNS answers `kubernetes.default.svc` with it; pods get the
 * host in KUBERNETES_SERVICE_HOST from their node (agent/service-env.ts).
 */
export async function ensureExternalKubernetesService(api: ObjectApi, apiURL: string): Promise<void> {
  const url = new URL(apiURL);
  const port = Number(url.port || 443);
  await putService(api, {
    type: 'ExternalName',
    externalName: url.hostname,
    ports: [{ name: PORT_NAME, port, protocol: 'TCP', targetPort: port }],
  });
}

/** The Service with this spec; one of another type or address (the stack moved ranges) is made anew, as neither can change. */
function putService(api: ObjectApi, spec: Record<string, unknown>): Promise<void> {
  return put(api, 'Service', { metadata: { name: NAME, namespace: NAMESPACE, labels: LABELS }, spec }, (current) =>
    current.spec?.type !== spec.type || current.spec?.clusterIP !== spec.clusterIP
      ? 'recreate'
      : { spec: { ...current.spec, ...spec } },
  );
}

/**
 * The object with this body, replacing what is there; `merge` may keep parts of the stored object
 * (a Service's allocated fields) or ask for it to be made anew.
 */
async function put(
  api: ObjectApi,
  kind: string,
  body: Record<string, unknown> & { metadata: { name: string; [k: string]: unknown } },
  merge: (current: StoredObject) => Record<string, unknown> | 'recreate' = () => ({}),
): Promise<void> {
  const type = kindNamed(kind);
  try {
    await api.create(type, NAMESPACE, body);
  } catch (e) {
    if (!(e instanceof AlreadyExistsError)) throw e;
    const current = await api.get(type, NAMESPACE, body.metadata.name);
    const kept = merge(current);
    if (kept === 'recreate') {
      await api.delete(type, NAMESPACE, body.metadata.name, {});
      await api.create(type, NAMESPACE, body);
      return;
    }
    await api.replace(type, NAMESPACE, body.metadata.name, {
      ...body,
      ...kept,
      metadata: { ...body.metadata, resourceVersion: current.metadata.resourceVersion },
    });
  }
}
