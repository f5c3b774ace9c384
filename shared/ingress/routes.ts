import type { KubeObject } from '../model/types.js';

/**
 * Ingress rules as a routing table, pure, with Kubernetes' matching rules (networking.k8s.io/v1
 * Ingress, and the Ingress docs' "Examples" table): a host matches exactly, or a wildcard host
 * `*.foo.com` matches one label in its place; Exact paths match the whole path, Prefix paths match
 * whole path elements (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`), ImplementationSpecific
 * is Prefix here; the longest path wins, and Exact wins over Prefix at equal length; a request no
 * rule matches goes to a default backend, when one is given.
 */

export interface Backend {
  namespace: string;
  service: string;
  /** The Service port, by number or by name. */
  port: number | string;
}

export interface Route {
  ingress: string; // namespace/name
  host?: string;
  path: string;
  exact: boolean;
  backend: Backend;
}

export interface RoutingTable {
  routes: Route[];
  /** Default backends by Ingress (namespace/name), the first one kept. */
  defaultBackend?: Backend & { ingress: string };
  /** TLS hosts and the Secret holding their certificate. */
  tls: { ingress: string; hosts: string[]; namespace: string; secretName: string }[];
}

export const KUMO_INGRESS_CLASS = 'kumo';
export const INGRESS_CONTROLLER = 'kumo.dev/ingress';
const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

/** The IngressClasses whose controller is kumo's, and whether one of them is the cluster's default. */
export function ourClasses(classes: KubeObject[]): { names: Set<string>; isDefault: boolean } {
  const ours = classes.filter((c) => obj(c.spec).controller === INGRESS_CONTROLLER);
  return {
    names: new Set(ours.map((c) => c.metadata.name ?? '')),
    isDefault: ours.some((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true'),
  };
}

/** Whether an Ingress is this controller's: by class name, by the legacy annotation, or (with neither) when our class is the default. */
export function isOurs(ing: KubeObject, classes: { names: Set<string>; isDefault: boolean }): boolean {
  const name = obj(ing.spec).ingressClassName;
  if (typeof name === 'string') return classes.names.has(name);
  const legacy = ing.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return classes.names.has(legacy);
  return classes.isDefault;
}

function backendOf(namespace: string, b: Obj): Backend | undefined {
  const svc = obj(b.service);
  const port = obj(svc.port);
  const p = typeof port.number === 'number' ? port.number : typeof port.name === 'string' ? port.name : undefined;
  return typeof svc.name === 'string' && p !== undefined ? { namespace, service: svc.name, port: p } : undefined;
}

export function routingTable(ingresses: KubeObject[]): RoutingTable {
  const table: RoutingTable = { routes: [], tls: [] };
  const sorted = [...ingresses].sort(
    (a, b) =>
      String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
      `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`),
  );
  for (const ing of sorted) {
    const namespace = ing.metadata.namespace ?? 'default';
    const id = `${namespace}/${ing.metadata.name}`;
    const spec = obj(ing.spec);
    const def = backendOf(namespace, obj(spec.defaultBackend));
    if (def && !table.defaultBackend) table.defaultBackend = { ...def, ingress: id };
    for (const rule of arr(spec.rules)) {
      const host = typeof rule.host === 'string' && rule.host ? rule.host.toLowerCase() : undefined;
      for (const p of arr(obj(rule.http).paths)) {
        const backend = backendOf(namespace, obj(p.backend));
        if (!backend) continue;
        table.routes.push({
          ingress: id,
          ...(host ? { host } : {}),
          path: typeof p.path === 'string' && p.path ? p.path : '/',
          exact: p.pathType === 'Exact',
          backend,
        });
      }
    }
    for (const t of arr(spec.tls))
      if (typeof t.secretName === 'string')
        table.tls.push({
          ingress: id,
          hosts: Array.isArray(t.hosts) ? t.hosts.map((h) => String(h).toLowerCase()) : [],
          namespace,
          secretName: t.secretName,
        });
  }
  return table;
}

const hostMatches = (pattern: string | undefined, host: string) => {
  if (pattern === undefined) return true;
  if (!pattern.startsWith('*.')) return pattern === host;
  const rest = pattern.slice(1); // ".foo.com"
  return host.endsWith(rest) && !host.slice(0, -rest.length).includes('.') && host.length > rest.length;
};

const pathMatches = (route: Route, path: string) => {
  if (route.exact) return path === route.path;
  if (route.path === '/') return true;
  const prefix = route.path.replace(/\/+$/, '');
  return path === prefix || path.startsWith(`${prefix}/`);
};

/**
 * The route for a request. The host picks the rules first (an exact host, else a wildcard one, else
 * the rules without a host), as each host is its own virtual server; then the longest matching path,
 * Exact before Prefix; with none, the default backend.
 */
export function match(
  table: RoutingTable,
  hostHeader: string,
  path: string,
): Route | (Backend & { ingress: string }) | undefined {
  const host = hostHeader.toLowerCase().replace(/:\d+$/, '');
  const tiers = [
    table.routes.filter((r) => r.host === host),
    table.routes.filter((r) => r.host?.startsWith('*.') && hostMatches(r.host, host)),
    table.routes.filter((r) => r.host === undefined),
  ];
  const rules = tiers.find((t) => t.length) ?? [];
  const candidates = rules
    .filter((r) => pathMatches(r, path))
    .sort((a, b) => b.path.length - a.path.length || Number(b.exact) - Number(a.exact));
  return candidates[0] ?? table.defaultBackend;
}
