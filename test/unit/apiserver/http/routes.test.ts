import { describe, expect, it } from 'vitest';
import { StatusError } from '../../../../shared/model/errors.js';
import { route } from '../../../../shared/apiserver/http/routes.js';

const summary = (path: string) => {
  const r = route(path);
  if (r.kind === 'collection') return `collection ${r.type.kind} ns=${r.namespace ?? '*'}`;
  if (r.kind === 'object')
    return `object ${r.type.kind} ns=${r.namespace} name=${r.name}${r.subresource ? ` sub=${r.subresource}` : ''}`;
  return r.kind;
};

describe('routing Kubernetes REST paths', () => {
  it.each([
    ['/version', 'version'],
    ['/api', 'apiVersions'],
    ['/apis', 'apiGroups'],
    ['/api/v1', 'resources'],
    ['/apis/apps/v1', 'resources'],
    ['/apis/apps', 'apiGroup'],
    ['/api/v1/pods', 'collection Pod ns=*'],
    ['/api/v1/namespaces/default/pods', 'collection Pod ns=default'],
    ['/api/v1/namespaces/default/pods/web-1', 'object Pod ns=default name=web-1'],
    ['/api/v1/namespaces/default/pods/web-1/status', 'object Pod ns=default name=web-1 sub=status'],
    ['/api/v1/nodes', 'collection Node ns=*'],
    ['/api/v1/nodes/n1', 'object Node ns= name=n1'],
    ['/api/v1/nodes/n1/status', 'object Node ns= name=n1 sub=status'],
    ['/api/v1/namespaces', 'collection Namespace ns=*'],
    ['/api/v1/namespaces/demo', 'object Namespace ns= name=demo'],
    ['/api/v1/namespaces/demo/status', 'object Namespace ns= name=demo sub=status'],
    ['/apis/apps/v1/namespaces/default/deployments/web/scale', 'object Deployment ns=default name=web sub=scale'],
    ['/apis/apps/v1/deployments', 'collection Deployment ns=*'],
    ['/apis/batch/v1/namespaces/x/jobs', 'collection Job ns=x'],
    ['/kumo/v1/apply', 'bulkApply'],
    ['/api/v1/namespaces/default/pods/', 'collection Pod ns=default'],
  ])('%s → %s', (path, expected) => expect(summary(path)).toBe(expected));

  it.each([
    '/',
    '/api/v2/pods',
    '/apis/apps/v2/deployments',
    '/apis/apps/v1/pods',
    '/api/v1/widgets',
    '/api/v1/nodes/n1/status/extra/x',
    '/apis/unknown',
  ])('404 for %s', (path) => {
    expect(() => route(path)).toThrow(StatusError);
    try {
      route(path);
    } catch (e) {
      expect((e as StatusError).code).toBe(404);
    }
  });
});
