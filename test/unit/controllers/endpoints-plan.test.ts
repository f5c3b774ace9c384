import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { planEndpoints, resolvePort } from '../../../shared/controllers/endpoints/plan.js';

const svc = (selector: Record<string, string> | undefined, ports: unknown[]) =>
  ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default', uid: 's1' },
    spec: { selector, ports },
  }) as KubeObject & { metadata: { name: string; uid: string } };
const pod = (
  name: string,
  o: { ip?: string; ready?: boolean; labels?: Record<string, string>; hostPort?: number; phase?: string } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid: `u-${name}`, labels: o.labels ?? { app: 'web' } },
  spec: {
    nodeName: 'n1',
    containers: [
      {
        name: 'c',
        image: 'x',
        ports: [{ name: 'http', containerPort: 8080, ...(o.hostPort ? { hostPort: o.hostPort } : {}) }],
      },
    ],
  },
  status: {
    phase: o.phase ?? 'Running',
    ...(o.ip ? { podIP: o.ip } : {}),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
  },
});

describe('planEndpoints', () => {
  it('lists ready and not-ready addresses of the selected pods with resolved ports', () => {
    const ep = planEndpoints(svc({ app: 'web' }, [{ name: 'http', port: 80, targetPort: 'http' }]), [
      pod('b', { ip: '10.0.0.2' }),
      pod('a', { ip: '10.0.0.1' }),
      pod('c', { ip: '10.0.0.3', ready: false }),
      pod('other', { ip: '10.0.0.9', labels: { app: 'db' } }),
      pod('done', { ip: '10.0.0.8', phase: 'Succeeded' }),
      pod('no-ip'),
    ]);
    expect(ep?.subsets).toEqual([
      {
        addresses: [
          { ip: '10.0.0.1', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'u-a' } },
          { ip: '10.0.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'u-b' } },
        ],
        notReadyAddresses: [
          { ip: '10.0.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'c', uid: 'u-c' } },
        ],
        ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      },
    ]);
    expect(ep?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Service', uid: 's1', controller: true });
  });

  it('resolves target ports as FindPort: by number, by name and protocol, a hostPort plays no part, unknown names dropped', () => {
    const p = pod('a', { hostPort: 30080 });
    expect(resolvePort({ port: 80, targetPort: 9000 }, pod('x'))).toBe(9000);
    expect(resolvePort({ port: 80, targetPort: 'http' }, pod('x'))).toBe(8080);
    expect(resolvePort({ port: 80, targetPort: 'http', protocol: 'UDP' }, pod('x'))).toBeUndefined();
    expect(resolvePort({ port: 80, targetPort: 8080 }, p)).toBe(8080);
    expect(resolvePort({ port: 80, targetPort: 'nope' }, p)).toBeUndefined();
  });

  it('leaves Services without a selector alone', () => {
    expect(planEndpoints(svc(undefined, [{ port: 80 }]), [pod('a', { ip: '10.0.0.1' })])).toBeUndefined();
  });
});
