import { apiVersionOf, groupVersions, RESOURCE_TYPES } from '../../model/kinds.js';

/**
 * A small OpenAPI v3 document per group/version: enough for kubectl's default `--validate=strict`
 * to find the kinds (PATCH operations tagged with their group/version/kind and accepting
 * `fieldValidation`), after which kubectl leaves field validation to the server.
 */

const gvPath = (group: string, version: string) => (group ? `apis/${group}/${version}` : `api/${version}`);

export function openApiRoot() {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const gv of groupVersions()) {
    const p = gvPath(gv.group, gv.version);
    paths[p] = { serverRelativeURL: `/openapi/v3/${p}?hash=kumo-${apiVersionOf(gv).replace('/', '-')}-1` };
  }
  return { paths };
}

export function openApiGroupVersion(group: string, version: string) {
  const paths: Record<string, unknown> = {};
  for (const t of RESOURCE_TYPES.filter((x) => x.group === group && x.version === version)) {
    const base = `/${gvPath(group, version)}${t.namespaced ? '/namespaces/{namespace}' : ''}/${t.plural}`;
    const gvk = { group, version, kind: t.kind };
    const params = [
      { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
      { name: 'fieldManager', in: 'query', schema: { type: 'string' } },
    ];
    paths[base] = {
      post: { 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': 'post', parameters: params },
    };
    paths[`${base}/{name}`] = {
      get: { 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': 'get' },
      put: { 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': 'put', parameters: params },
      patch: { 'x-kubernetes-group-version-kind': gvk, 'x-kubernetes-action': 'patch', parameters: params },
    };
  }
  return { openapi: '3.0.0', info: { title: 'kumo', version: 'v1.32.0-kumo' }, paths, components: { schemas: {} } };
}
