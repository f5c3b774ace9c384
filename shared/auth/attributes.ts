export type Verb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  /** RBAC's own verbs, asked by the API itself (impersonation, escalation checks) and in access reviews. */
  | 'impersonate'
  | 'bind'
  | 'escalate'
  | 'use';

/** What a request asks to do, in the terms authorization rules are written in (Kubernetes' request attributes). */
export type RequestAttributes =
  | {
      type: 'resource';
      verb: Verb;
      group: string;
      resource: string;
      subresource?: string;
      namespaced: boolean;
      namespace?: string;
      name?: string;
    }
  /** Discovery, version, OpenAPI and health: readable by every authenticated principal. */
  | { type: 'nonResource'; verb: string; path: string }
  | { type: 'agent'; action: 'register' | 'sync' | 'credentials'; node: string }
  /** kumo's multi-document apply: each document is authorized on its own (see Gate.admitDocuments). */
  | { type: 'bulkApply' };

/** `pods`, `pods/log`, `deployments.apps/scale`: how the resource is named in messages. */
export function resourceLabel(a: Extract<RequestAttributes, { type: 'resource' }>): string {
  return `${a.resource}${a.group ? `.${a.group}` : ''}${a.subresource ? `/${a.subresource}` : ''}`;
}
