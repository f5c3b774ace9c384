import { describe, expect, it } from 'vitest';
import { isOurs, match, ourClasses, routingTable } from '../../../shared/ingress/routes.js';
import type { KubeObject } from '../../../shared/model/types.js';

const ingress = (name: string, spec: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name,
    namespace: 'shop',
    creationTimestamp: '2026-01-01T00:00:00Z',
    ...(annotations ? { annotations } : {}),
  },
  spec,
});
const path = (p: string, service: string, pathType = 'Prefix') => ({
  path: p,
  pathType,
  backend: { service: { name: service, port: { number: 80 } } },
});
const svc = (r: ReturnType<typeof match>) => (r ? ('backend' in r ? r.backend.service : r.service) : undefined);

describe('Ingress routing (Kubernetes matching rules)', () => {
  const table = routingTable([
    ingress('a', {
      defaultBackend: { service: { name: 'fallback', port: { number: 80 } } },
      rules: [
        {
          host: 'foo.test',
          http: {
            paths: [path('/', 'root'), path('/foo', 'foo'), path('/foo/bar', 'bar'), path('/exact', 'exact', 'Exact')],
          },
        },
        { host: '*.wild.test', http: { paths: [path('/', 'wild')] } },
        { http: { paths: [path('/any', 'any')] } },
      ],
    }),
  ]);

  it('matches Prefix by whole path elements, the longest path first, Exact whole', () => {
    expect(svc(match(table, 'foo.test', '/foo'))).toBe('foo');
    expect(svc(match(table, 'foo.test', '/foo/'))).toBe('foo');
    expect(svc(match(table, 'foo.test', '/foobar'))).toBe('root');
    expect(svc(match(table, 'foo.test', '/foo/bar/baz'))).toBe('bar');
    expect(svc(match(table, 'FOO.test:8080', '/exact'))).toBe('exact');
    expect(svc(match(table, 'foo.test', '/exact/more'))).toBe('root');
  });

  it('matches a wildcard host on one label only, hostless rules otherwise, then the default backend', () => {
    expect(svc(match(table, 'a.wild.test', '/x'))).toBe('wild');
    expect(svc(match(table, 'a.b.wild.test', '/any'))).toBe('any');
    expect(svc(match(table, 'wild.test', '/any'))).toBe('any');
    expect(svc(match(table, 'other.test', '/nothing'))).toBe('fallback');
  });

  it('serves Ingresses of its class: by name, by the legacy annotation, or without either when its class is the default', () => {
    const classes = ourClasses([
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'kumo', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } },
        spec: { controller: 'kumo.dev/ingress' },
      },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'IngressClass',
        metadata: { name: 'nginx' },
        spec: { controller: 'k8s.io/ingress-nginx' },
      },
    ]);
    expect(isOurs(ingress('x', { ingressClassName: 'kumo' }), classes)).toBe(true);
    expect(isOurs(ingress('x', { ingressClassName: 'nginx' }), classes)).toBe(false);
    expect(isOurs(ingress('x', {}, { 'kubernetes.io/ingress.class': 'nginx' }), classes)).toBe(false);
    expect(isOurs(ingress('x', {}), classes)).toBe(true);
    expect(isOurs(ingress('x', {}), { ...classes, isDefault: false })).toBe(false);
  });
});
