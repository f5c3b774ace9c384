import { describe, expect, it } from 'vitest';
import { Backends } from '../../../shared/agent/network/backends.js';
import { inKernel } from '../../../shared/agent/network/nft-data-path.js';
import type { EndpointView, ServiceView } from '../../../shared/nodes/service-view.js';
import { apiAddressOf, serviceEnv } from '../../../shared/agent/service-env.js';

const ep = (ip: string, o: Partial<EndpointView> = {}): EndpointView => ({
  ip,
  nodeName: 'n1',
  ready: true,
  serving: true,
  terminating: false,
  ports: { http: 8080 },
  ...o,
});
const view = (endpoints: EndpointView[], o: Partial<ServiceView> = {}): ServiceView => ({
  namespace: 'default',
  name: 'web',
  type: 'ClusterIP',
  clusterIP: '10.96.0.20',
  headless: false,
  ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
  internalLocal: false,
  externalLocal: false,
  loadBalancerIPs: [],
  endpoints,
  ...o,
});

describe('Backends (which endpoint a connection goes to)', () => {
  it('takes ready endpoints in turn, at their port for the Service port', () => {
    const b = new Backends(
      view([ep('a'), ep('b'), ep('c', { ready: false, serving: false })]),
      'http',
      'n1',
      () => false,
      () => 0,
    );
    expect([1, 2, 3, 4].map(() => b.pick('client')?.ip)).toEqual(['a', 'b', 'a', 'b']);
    expect(b.pick('client')?.port).toBe(8080);
  });

  it('falls back to serving terminating endpoints only when none is ready', () => {
    const b = new Backends(
      view([
        ep('old', { ready: false, serving: true, terminating: true }),
        ep('gone', { ready: false, serving: false, terminating: true }),
      ]),
      'http',
      'n1',
      () => false,
      () => 0,
    );
    expect(b.pick(undefined)?.ip).toBe('old');
    b.update(view([]));
    expect(b.size).toBe(0);
    expect(b.pick(undefined)).toBeUndefined();
  });

  it("keeps this node's endpoints only under a Local traffic policy", () => {
    const v = view([ep('here'), ep('there', { nodeName: 'n2' })], { internalLocal: true });
    const b = new Backends(
      v,
      'http',
      'n1',
      (x) => x.internalLocal,
      () => 0,
    );
    expect([1, 2, 3].map(() => b.pick('c')?.ip)).toEqual(['here', 'here', 'here']);
  });

  it("dials a loopback endpoint only for this node's own pods and the kubernetes Service", () => {
    const eps = [ep('127.0.0.1', { nodeName: 'n2' }), ep('127.0.0.2'), ep('127.0.0.3', { nodeName: undefined })];
    const b = new Backends(
      view(eps),
      'http',
      'n1',
      () => false,
      () => 0,
    );
    expect([1, 2, 3].map(() => b.pick('c')?.ip)).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2']);
    const api = new Backends(
      view(eps, { name: 'kubernetes' }),
      'http',
      'n1',
      () => false,
      () => 0,
    );
    expect(api.size).toBe(3);
    // The nftables data path leaves such Services to this proxy: the kernel drops a pod's packet DNATed to loopback.
    expect(inKernel(view(eps), { name: 'http', protocol: 'TCP', port: 80 })).toBe(false);
    expect(inKernel(view([ep('10.88.0.5')]), { name: 'http', protocol: 'TCP', port: 80 })).toBe(true);
  });

  it('keeps a client on its endpoint under ClientIP affinity until the timeout', () => {
    let now = 0;
    const b = new Backends(
      view([ep('a'), ep('b')], { affinitySeconds: 10 }),
      'http',
      'n1',
      () => false,
      () => now,
    );
    const first = b.pick('1.2.3.4')?.ip;
    expect([1, 2, 3].map(() => b.pick('1.2.3.4')?.ip)).toEqual([first, first, first]);
    expect(b.pick('5.6.7.8')?.ip).not.toBe(first);
    now = 11_000;
    b.pick('9.9.9.9'); // moves the turn on
    expect(b.pick('1.2.3.4', new Set([first ?? '']))?.ip).not.toBe(first);
  });
});

describe('Service environment variables', () => {
  it("are kubelet's for the Services of the pod namespace, and the kubernetes Service always", () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: {} };
    const views = [
      view([], {
        namespace: 'shop',
        name: 'redis-primary',
        clusterIP: '10.96.0.7',
        ports: [
          { name: 'redis', protocol: 'TCP', port: 6379 },
          { name: 'metrics', protocol: 'UDP', port: 9121 },
        ],
      }),
      view([], { namespace: 'shop', name: 'headless', clusterIP: undefined, headless: true }),
      view([], { namespace: 'other', name: 'elsewhere', clusterIP: '10.96.0.8' }),
      view([], {
        namespace: 'default',
        name: 'kubernetes',
        clusterIP: '10.96.0.1',
        ports: [{ name: 'https', protocol: 'TCP', port: 443 }],
      }),
    ];
    const env = serviceEnv(pod, views);
    expect(env).toMatchObject({
      REDIS_PRIMARY_SERVICE_HOST: '10.96.0.7',
      REDIS_PRIMARY_SERVICE_PORT: '6379',
      REDIS_PRIMARY_SERVICE_PORT_REDIS: '6379',
      REDIS_PRIMARY_SERVICE_PORT_METRICS: '9121',
      REDIS_PRIMARY_PORT: 'tcp://10.96.0.7:6379',
      REDIS_PRIMARY_PORT_6379_TCP: 'tcp://10.96.0.7:6379',
      REDIS_PRIMARY_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_PRIMARY_PORT_6379_TCP_PORT: '6379',
      REDIS_PRIMARY_PORT_6379_TCP_ADDR: '10.96.0.7',
      REDIS_PRIMARY_PORT_9121_UDP: 'udp://10.96.0.7:9121',
      KUBERNETES_SERVICE_HOST: '10.96.0.1',
      KUBERNETES_SERVICE_PORT: '443',
    });
    expect(Object.keys(env).some((k) => k.startsWith('HEADLESS') || k.startsWith('ELSEWHERE'))).toBe(false);
    const noLinks = serviceEnv({ ...pod, spec: { enableServiceLinks: false } }, views);
    expect(Object.keys(noLinks).every((k) => k.startsWith('KUBERNETES_'))).toBe(true);
    // The kubernetes Service wins over the node's own API address; without it (on AWS) the address is the endpoint's.
    const api = apiAddressOf('https://abc123.execute-api.eu-west-1.amazonaws.com');
    expect(api).toEqual({ host: 'abc123.execute-api.eu-west-1.amazonaws.com', port: 443 });
    expect(serviceEnv(pod, views, api).KUBERNETES_SERVICE_HOST).toBe('10.96.0.1');
    expect(serviceEnv(pod, views.slice(0, 3), api)).toMatchObject({
      KUBERNETES_SERVICE_HOST: 'abc123.execute-api.eu-west-1.amazonaws.com',
      KUBERNETES_SERVICE_PORT: '443',
      KUBERNETES_SERVICE_PORT_HTTPS: '443',
    });
    // Plain http, loopback (pods cannot reach it) and a path prefix (in-cluster clients dial the root) give none.
    for (const url of [
      'http://api.example.com',
      'https://127.0.0.1:6443',
      'https://localhost',
      'https://a.example.com/prod',
    ])
      expect(apiAddressOf(url), url).toBeUndefined();
    expect(apiAddressOf('https://api.example.com:8443/')).toEqual({ host: 'api.example.com', port: 8443 });
  });
});
