import type { KubeObject } from '../model/types.js';
import type { ServiceView } from '../nodes/service-view.js';
import { podSpec } from '../model/typed.js';

/**
 * The environment variables kubelet gives a container for Services (pkg/kubelet/envvars FromServices):
 * for each Service of the pod's namespace with a cluster IP (when `enableServiceLinks`, the default),
 * and always for the `kubernetes` Service of `default`: `<NAME>_SERVICE_HOST`, `<NAME>_SERVICE_PORT`,
 * `<NAME>_SERVICE_PORT_<PORT NAME>`, and the Docker link variables `<NAME>_PORT`,
 * `<NAME>_PORT_<port>_<PROTO>[_PROTO|_PORT|_ADDR]`. Only Services that exist when the container starts.
 */
export function serviceEnv(
  pod: KubeObject,
  views: ServiceView[],
  /** Where pods reach the API when there is no `kubernetes` Service with a cluster IP (see below). */
  api?: ApiAddress,
): Record<string, string> {
  const namespace = pod.metadata.namespace ?? 'default';
  const links = podSpec(pod).enableServiceLinks !== false;
  const chosen = new Map<string, ServiceView>();
  for (const v of views) {
    if (!v.clusterIP) continue;
    if (v.namespace === 'default' && v.name === 'kubernetes') chosen.set(v.name, v);
    else if (links && v.namespace === namespace) chosen.set(v.name, v);
  }
  const env: Record<string, string> = {};
  for (const v of chosen.values()) {
    const name = envName(v.name);
    const ip = v.clusterIP ?? '';
    const first = v.ports[0];
    env[`${name}_SERVICE_HOST`] = ip;
    if (first) env[`${name}_SERVICE_PORT`] = String(first.port);
    for (const p of v.ports) if (p.name) env[`${name}_SERVICE_PORT_${envName(p.name)}`] = String(p.port);
    if (first) env[`${name}_PORT`] = `${first.protocol.toLowerCase()}://${ip}:${first.port}`;
    for (const p of v.ports) {
      const proto = p.protocol.toLowerCase();
      const prefix = `${name}_PORT_${p.port}_${p.protocol}`;
      env[prefix] = `${proto}://${ip}:${p.port}`;
      env[`${prefix}_PROTO`] = proto;
      env[`${prefix}_PORT`] = String(p.port);
      env[`${prefix}_ADDR`] = ip;
    }
  }
  // Without a `kubernetes` Service (on AWS the API is a public https endpoint whose certificate names
  // its host, not a cluster IP), in-cluster clients get the endpoint's own host and port: they dial
  // https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT and verify it against ca.crt, which then
  // holds the public roots it chains to.
  if (api && !chosen.has('kubernetes')) {
    env.KUBERNETES_SERVICE_HOST = api.host;
    env.KUBERNETES_SERVICE_PORT = String(api.port);
    env.KUBERNETES_SERVICE_PORT_HTTPS = String(api.port);
  }
  return env;
}

export interface ApiAddress {
  host: string;
  port: number;
}

/** The address pods dial for the API's https URL; none for http, loopback (pods cannot reach it) or a path prefix. */
export function apiAddressOf(serverUrl: string): ApiAddress | undefined {
  let u: URL;
  try {
    u = new URL(serverUrl);
  } catch {
    return undefined;
  }
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (u.protocol !== 'https:' || host === 'localhost' || host.startsWith('127.') || host === '::1') return undefined;
  if (u.pathname !== '/' && u.pathname !== '') return undefined;
  return { host, port: Number(u.port || 443) };
}

const envName = (s: string) => s.toUpperCase().replace(/-/g, '_');
