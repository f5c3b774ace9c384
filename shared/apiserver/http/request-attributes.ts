import type { RequestAttributes, Verb } from '../../auth/attributes.js';
import type { Route } from './routes.js';
import { queryBool } from './query.js';

/** A routed request as the attributes authorization rules are written in (Kubernetes' RequestInfo). */

const isWatch = (q: URLSearchParams) => queryBool(q, 'watch');

function verbOf(method: string, isObject: boolean, query: URLSearchParams): Verb {
  switch (method) {
    case 'GET':
    case 'HEAD':
      return isWatch(query) ? 'watch' : isObject ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return isObject ? 'delete' : 'deletecollection';
    default:
      return 'get';
  }
}

/** `r` undefined: a path that names nothing served, authorized like any other non-resource path. */
export function requestAttributes(
  r: Route | undefined,
  method: string,
  path: string,
  query: URLSearchParams,
): RequestAttributes {
  const m = method.toUpperCase();
  switch (r?.kind) {
    case 'collection':
      return {
        type: 'resource',
        verb: verbOf(m, false, query),
        group: r.type.group,
        resource: r.type.plural,
        namespaced: r.type.namespaced,
        namespace: r.namespace,
      };
    case 'object':
      return {
        type: 'resource',
        verb: verbOf(m, true, query),
        group: r.type.group,
        resource: r.type.plural,
        subresource: r.subresource,
        namespaced: r.type.namespaced,
        // A Namespace's own requests are in that namespace (RequestInfoFactory): a RoleBinding there may grant them.
        namespace: r.type.namespaced ? r.namespace : r.type.kind === 'Namespace' ? r.name : undefined,
        name: r.name,
      };
    case 'review':
      return {
        type: 'resource',
        verb: verbOf(m, false, query),
        group: r.resource.group,
        resource: r.resource.name,
        namespaced: r.resource.namespaced,
        ...(r.namespace !== undefined ? { namespace: r.namespace } : {}),
      };
    case 'metrics':
      return {
        type: 'resource',
        verb: verbOf(m, r.name !== undefined, query),
        group: 'metrics.k8s.io',
        resource: r.resource,
        namespaced: r.resource === 'pods',
        namespace: r.namespace,
        name: r.name,
      };
    case 'nodeAgent':
      return { type: 'agent', action: r.action, node: r.node };
    case 'bulkApply':
      return { type: 'bulkApply' };
    default:
      return { type: 'nonResource', verb: m.toLowerCase(), path };
  }
}
