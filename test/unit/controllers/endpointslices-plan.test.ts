import { describe, expect, it } from 'vitest';
import { planEndpointSlices } from '../../../shared/controllers/endpoints/slices.js';
import { serviceViews } from '../../../shared/nodes/service-view.js';
import type { KubeObject } from '../../../shared/model/types.js';

const svc = (spec: Record<string, unknown> = {}) =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 's1', labels: { tier: 'front' } },
    spec: {
      selector: { app: 'web' },
      clusterIP: '10.96.0.9',
      ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }],
      ...spec,
    },
  }) as KubeObject & { metadata: { name: string; uid: string } };
const pod = (
  name: string,
  o: { ip?: string; ready?: boolean; deleting?: boolean; port?: number; hostname?: string; phase?: string } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'default',
    uid: `u-${name}`,
    labels: { app: 'web' },
    ...(o.deleting ? { deletionTimestamp: '2026-01-01T00:00:00Z' } : {}),
  },
  spec: {
    nodeName: 'n1',
    ...(o.hostname ? { hostname: o.hostname, subdomain: 'web' } : {}),
    containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }],
  },
  status: {
    phase: o.phase ?? 'Running',
    ...(o.ip === undefined ? { podIP: `10.88.0.${name.length}` } : o.ip ? { podIP: o.ip } : {}),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});

describe('planEndpointSlices', () => {
  it('lists selected pods with their conditions, terminating ones included, finished and address-less ones left out', () => {
    const [slice, ...rest] =
      planEndpointSlices(svc(), [
        pod('a', { ip: '10.88.0.1' }),
        pod('b', { ip: '10.88.0.2', ready: false }),
        pod('c', { ip: '10.88.0.3', deleting: true }),
        pod('d', { ip: '' }),
        pod('e', { ip: '10.88.0.5', phase: 'Succeeded' }),
        pod('f', { ip: '10.88.0.6', hostname: 'f-0' }),
      ]) ?? [];
    expect(rest).toEqual([]);
    expect(slice?.metadata.labels).toMatchObject({
      'kubernetes.io/service-name': 'web',
      'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
      tier: 'front',
    });
    expect(slice?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', uid: 's1', controller: true });
    expect(slice?.addressType).toBe('IPv4');
    expect(slice?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'TCP' }]);
    const conditions = Object.fromEntries(
      (slice?.endpoints as { addresses: string[]; conditions: object }[]).map((e) => [e.addresses[0], e.conditions]),
    );
    expect(conditions).toEqual({
      '10.88.0.1': { ready: true, serving: true, terminating: false },
      '10.88.0.2': { ready: false, serving: false, terminating: false },
      '10.88.0.3': { ready: false, serving: true, terminating: true },
      '10.88.0.6': { ready: true, serving: true, terminating: false },
    });
    expect((slice?.endpoints as { hostname?: string }[]).find((e) => e.hostname)?.hostname).toBe('f-0');
  });

  it('groups pods by the ports they resolve to, 100 endpoints a slice, with stable names', () => {
    const pods = [
      ...Array.from({ length: 150 }, (_, i) => pod(`p${i}`, { ip: `10.88.1.${i}` })),
      pod('other', { ip: '10.88.2.1', port: 9090 }),
    ];
    const slices = planEndpointSlices(svc(), pods) ?? [];
    expect(slices.map((s) => (s.endpoints as unknown[]).length).sort((a, b) => a - b)).toEqual([1, 50, 100]);
    expect(planEndpointSlices(svc(), pods)?.map((s) => s.metadata.name)).toEqual(slices.map((s) => s.metadata.name));
    // Without a selector the slices are the user's; without endpoints there is one empty slice.
    expect(planEndpointSlices(svc({ selector: undefined }), pods)).toBeUndefined();
    expect(planEndpointSlices(svc(), [])?.map((s) => s.endpoints)).toEqual([[]]);
  });

  it('reads back as the service view a node gets: ports by name, ready flags, policies', () => {
    const s = svc({
      internalTrafficPolicy: 'Local',
      sessionAffinity: 'ClientIP',
      sessionAffinityConfig: { clientIP: { timeoutSeconds: 60 } },
    });
    const slices =
      planEndpointSlices(s, [pod('a', { ip: '10.88.0.1' }), pod('b', { ip: '10.88.0.2', ready: false })]) ?? [];
    const [v] = serviceViews([s], slices);
    expect(v).toMatchObject({ clusterIP: '10.96.0.9', internalLocal: true, affinitySeconds: 60, headless: false });
    expect(v?.endpoints).toEqual([
      { ip: '10.88.0.1', nodeName: 'n1', ready: true, serving: true, terminating: false, ports: { http: 8080 } },
      { ip: '10.88.0.2', nodeName: 'n1', ready: false, serving: false, terminating: false, ports: { http: 8080 } },
    ]);
  });
});
