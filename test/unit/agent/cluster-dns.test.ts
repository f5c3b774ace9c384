import { Resolver } from 'node:dns/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClusterDns } from '../../../shared/agent/network/cluster-dns.js';
import { DnsRecords, reverseZones } from '../../../shared/agent/network/dns-records.js';
import type { ServiceView } from '../../../shared/nodes/service-view.js';

/** The node's cluster DNS on loopback, asked by Node's own resolver (c-ares): the wire format as a real client reads it. */

const view = (o: Partial<ServiceView> & { name: string }): ServiceView => ({
  namespace: 'shop',
  type: 'ClusterIP',
  headless: false,
  ports: [{ name: 'http', protocol: 'TCP', port: 80 }],
  internalLocal: false,
  externalLocal: false,
  loadBalancerIPs: [],
  endpoints: [],
  ...o,
});
const endpoint = (ip: string, extra: object = {}) => ({
  ip,
  ready: true,
  serving: true,
  terminating: false,
  ports: { http: 8080 },
  ...extra,
});

const views: ServiceView[] = [
  view({ name: 'web', clusterIP: '10.96.5.5', endpoints: [endpoint('10.88.0.2')] }),
  view({
    name: 'db',
    headless: true,
    endpoints: [
      endpoint('10.88.0.3', { hostname: 'db-0' }),
      endpoint('10.88.0.4', { hostname: 'db-1' }),
      endpoint('10.88.0.9', { ready: false, serving: false }),
    ],
  }),
  view({
    name: 'many',
    headless: true,
    endpoints: Array.from({ length: 20 }, (_, i) => endpoint(`10.88.1.${i + 1}`)),
  }),
  view({ name: 'ext', type: 'ExternalName', externalName: 'example.test', ports: [] }),
];

let dns: ClusterDns;
const resolver = new Resolver({ timeout: 2000, tries: 1 });

beforeAll(async () => {
  dns = new ClusterDns({
    address: '127.0.0.1',
    port: 0,
    upstreams: [],
    records: () => new DnsRecords(views, 'cluster.local', reverseZones('10.96.0.0', 16)),
  });
  await dns.start();
  resolver.setServers([`127.0.0.1:${dns.port}`]);
});
afterAll(async () => {
  await dns?.close();
});

describe('cluster DNS', () => {
  it('answers a Service with its cluster IP, a headless one with its ready endpoints', async () => {
    expect(await resolver.resolve4('web.shop.svc.cluster.local')).toEqual(['10.96.5.5']);
    expect((await resolver.resolve4('db.shop.svc.cluster.local')).sort()).toEqual(['10.88.0.3', '10.88.0.4']);
    expect(await resolver.resolve4('db-1.db.shop.svc.cluster.local')).toEqual(['10.88.0.4']);
    expect(await resolver.resolve4('10-1-2-3.shop.pod.cluster.local')).toEqual(['10.1.2.3']);
  });

  it('answers SRV for named ports', async () => {
    expect(await resolver.resolveSrv('_http._tcp.web.shop.svc.cluster.local')).toEqual([
      { name: 'web.shop.svc.cluster.local', port: 80, priority: 0, weight: 100 },
    ]);
    const srv = await resolver.resolveSrv('_http._tcp.db.shop.svc.cluster.local');
    expect(srv.map((r) => `${r.name}:${r.port}`).sort()).toEqual([
      'db-0.db.shop.svc.cluster.local:8080',
      'db-1.db.shop.svc.cluster.local:8080',
    ]);
  });

  it('truncates what does not fit a UDP answer, and answers it whole over TCP', async () => {
    // 20 SRV records with their addresses are far beyond 512 bytes: c-ares gets TC and asks again over TCP.
    const srv = await resolver.resolveSrv('_http._tcp.many.shop.svc.cluster.local');
    expect(srv).toHaveLength(20);
    expect(await resolver.resolve4('many.shop.svc.cluster.local')).toHaveLength(20);
  });

  it('answers NXDOMAIN for missing names, no records for another type of an existing name, CNAME for ExternalName, PTR for cluster IPs', async () => {
    await expect(resolver.resolve4('nope.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolver.resolve6('web.shop.svc.cluster.local')).rejects.toMatchObject({ code: 'ENODATA' });
    expect(await resolver.resolveCname('ext.shop.svc.cluster.local')).toEqual(['example.test']);
    expect(await resolver.reverse('10.96.5.5')).toEqual(['web.shop.svc.cluster.local']);
    // Outside the cluster domain with no upstream: SERVFAIL, nothing sent anywhere.
    await expect(resolver.resolve4('example.test')).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it("forwards other names to the node's resolvers and relays their answer", async () => {
    // The upstream: another server on loopback, authoritative for example.test.
    const upstream = new ClusterDns({
      address: '127.0.0.1',
      port: 0,
      upstreams: [],
      records: () => new DnsRecords([view({ name: 'www', clusterIP: '192.0.2.7' })], 'example.test'),
    });
    await upstream.start();
    const node = new ClusterDns({
      address: '127.0.0.1',
      port: 0,
      upstreams: [`127.0.0.1:${upstream.port}`],
      records: () => new DnsRecords(views, 'cluster.local'),
    });
    await node.start();
    try {
      const r = new Resolver({ timeout: 2000, tries: 1 });
      r.setServers([`127.0.0.1:${node.port}`]);
      expect(await r.resolve4('www.shop.svc.example.test')).toEqual(['192.0.2.7']);
      expect(await r.resolve4('web.shop.svc.cluster.local')).toEqual(['10.96.5.5']);
      expect(node.stats.forwarded).toBe(1);
    } finally {
      await node.close();
      await upstream.close();
    }
  });
});
