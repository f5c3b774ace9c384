import { MethodNotAllowedError, RouteNotFoundError } from '../../model/errors.js';
import { groupVersions, typeForResource, type ResourceType } from '../../model/kinds.js';
import { METRICS_GROUP, METRICS_VERSION } from '../metrics-api.js';
import { AUTHENTICATION_GROUP, AUTHORIZATION_GROUP, reviewResource, type ReviewResource } from '../review-resources.js';

/** What a request path names, in Kubernetes' REST layout. */
export type Route =
  | { kind: 'version' }
  | { kind: 'health' }
  | { kind: 'apiVersions' } // GET /api
  | { kind: 'apiGroups' } // GET /apis
  | { kind: 'apiGroup'; group: string }
  | { kind: 'resources'; group: string; version: string } // GET /api/v1, /apis/apps/v1
  | { kind: 'collection'; type: ResourceType; namespace?: string }
  | { kind: 'object'; type: ResourceType; namespace: string; name: string; subresource?: string }
  | { kind: 'metrics'; resource: 'nodes' | 'pods'; namespace?: string; name?: string } // metrics.k8s.io/v1beta1
  | { kind: 'review'; resource: ReviewResource; namespace?: string } // access reviews, SelfSubjectReview
  | { kind: 'bulkApply' }
  | { kind: 'nodeAgent'; node: string; action: 'register' | 'sync' | 'credentials' }
  | { kind: 'openapiV3Root' }
  | { kind: 'openapiV3'; group: string; version: string };

/** kumo's own endpoints live outside the Kubernetes groups, so they never collide with them. */
export const BULK_APPLY_PATH = '/kumo/v1/apply';
/** The node agents' calls: `/kumo/v1/nodes/{name}/register|sync`, and `credentials` (a bootstrap token buys a node credential). */
const NODE_AGENT_PATH = /^\/kumo\/v1\/nodes\/([^/]+)\/(register|sync|credentials)$/;

function resourceRoute(group: string, version: string, segs: string[]): Route {
  if (!groupVersions().some((gv) => gv.group === group && gv.version === version)) throw new RouteNotFoundError();
  if (segs.length === 0) return { kind: 'resources', group, version };
  const lookup = (plural: string) => typeForResource(group, version, plural);
  const [a, b, c, d, e, ...rest] = segs as [string, string?, string?, string?, string?, ...string[]];
  if (rest.length) throw new RouteNotFoundError();
  // /namespaces/{ns}/{plural}[/{name}[/{sub}]] for namespaced kinds
  if (a === 'namespaces' && b !== undefined && c !== undefined) {
    const nsType = lookup(c);
    if (nsType?.namespaced) {
      if (d === undefined) return { kind: 'collection', type: nsType, namespace: b };
      return { kind: 'object', type: nsType, namespace: b, name: d, subresource: e };
    }
    // otherwise /namespaces/{name}/{subresource} on the Namespace itself, below
  }
  const t = lookup(a);
  if (!t)
    throw new RouteNotFoundError(`the server could not find the requested resource (${group ? `${a}.${group}` : a})`);
  if (b === undefined) return { kind: 'collection', type: t };
  if (t.namespaced) throw new RouteNotFoundError();
  if (d !== undefined) throw new RouteNotFoundError();
  return { kind: 'object', type: t, namespace: '', name: b, subresource: c };
}

export function route(path: string): Route {
  const clean = path.replace(/\/+$/, '') || '/';
  if (clean === '/version') return { kind: 'version' };
  if (clean === '/healthz' || clean === '/livez' || clean === '/readyz') return { kind: 'health' };
  if (clean === BULK_APPLY_PATH) return { kind: 'bulkApply' };
  const agent = NODE_AGENT_PATH.exec(clean);
  if (agent)
    return {
      kind: 'nodeAgent',
      node: decodeURIComponent(agent[1] ?? ''),
      action: agent[2] as 'register' | 'sync' | 'credentials',
    };
  if (clean === '/openapi/v3') return { kind: 'openapiV3Root' };
  const oa = /^\/openapi\/v3\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(clean);
  if (oa) {
    const [group, version] = oa[1] ? ['', oa[1]] : [oa[2] ?? '', oa[3] ?? ''];
    if (!groupVersions().some((gv) => gv.group === group && gv.version === version)) throw new RouteNotFoundError();
    return { kind: 'openapiV3', group, version };
  }
  const segs = clean.split('/').filter(Boolean).map(decodeURIComponent);
  if (segs[0] === 'api') {
    if (segs.length === 1) return { kind: 'apiVersions' };
    return resourceRoute('', segs[1] ?? '', segs.slice(2));
  }
  if (segs[0] === 'apis') {
    if (segs.length === 1) return { kind: 'apiGroups' };
    if (segs[1] === METRICS_GROUP) return metricsRoute(segs.slice(2));
    if (segs[1] === AUTHORIZATION_GROUP || segs[1] === AUTHENTICATION_GROUP) return reviewRoute(segs[1], segs.slice(2));
    if (segs.length === 2) {
      if (!groupVersions().some((gv) => gv.group === segs[1] && gv.group !== '')) throw new RouteNotFoundError();
      return { kind: 'apiGroup', group: segs[1] ?? '' };
    }
    return resourceRoute(segs[1] ?? '', segs[2] ?? '', segs.slice(3));
  }
  throw new RouteNotFoundError();
}

/** authorization.k8s.io/v1 and authentication.k8s.io/v1: [namespaces/{ns}/]{reviews}, POST only. */
function reviewRoute(group: string, segs: string[]): Route {
  if (segs.length === 0) return { kind: 'apiGroup', group };
  const [version, a, b, c, ...rest] = segs;
  if (version !== 'v1' || rest.length) throw new RouteNotFoundError();
  if (a === undefined) return { kind: 'resources', group, version };
  const namespaced = a === 'namespaces' && b !== undefined && c !== undefined;
  const resource = reviewResource(group, version, namespaced ? (c ?? '') : a);
  if (!resource || resource.namespaced !== namespaced || (!namespaced && b !== undefined))
    throw new RouteNotFoundError(`the server could not find the requested resource (${namespaced ? c : a}.${group})`);
  return { kind: 'review', resource, ...(namespaced ? { namespace: b } : {}) };
}

/** metrics.k8s.io/v1beta1: nodes[/name], pods[/name], namespaces/{ns}/pods[/name]. */
function metricsRoute(segs: string[]): Route {
  if (segs.length === 0) return { kind: 'apiGroup', group: METRICS_GROUP };
  const [version, a, b, c, d, ...rest] = segs;
  if (version !== METRICS_VERSION || rest.length) throw new RouteNotFoundError();
  if (a === undefined) return { kind: 'resources', group: METRICS_GROUP, version };
  if (a === 'nodes' && c === undefined) return { kind: 'metrics', resource: 'nodes', name: b };
  if (a === 'pods' && b === undefined) return { kind: 'metrics', resource: 'pods' };
  if (a === 'namespaces' && b !== undefined && c === 'pods')
    return { kind: 'metrics', resource: 'pods', namespace: b, name: d };
  throw new RouteNotFoundError(`the server could not find the requested resource (${a}.${METRICS_GROUP})`);
}

export const methodNotAllowed = (method: string, what: string) =>
  new MethodNotAllowedError(`the server does not allow this method on the requested resource: ${method} ${what}`);
