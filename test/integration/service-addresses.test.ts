import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, type TestApi } from '../support/api-server.js';
import { ObjectService } from '../../shared/apiserver/object-service.js';
import { kindNamed } from '../../shared/model/kinds.js';
import { DEFAULT_SERVICE_NETWORK } from '../../shared/model/service-network.js';
import { systemClock } from '../../shared/util/clock.js';
import { randomUUID } from 'node:crypto';

/**
 * Cluster IPs and node ports through the real API handler on DynamoDB Local: allocated from the
 * service range in the Service's own transaction (an IPAddress object per address), honoured when
 * asked for and free, refused with 422 naming the field when taken or out of range, kept across
 * updates, freed on delete.
 */

let api: TestApi;
const SVCS = '/api/v1/namespaces/default/services';
const svc = (name: string, spec: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: name }, ports: [{ port: 80 }], ...spec },
});
const inRange = (ip: string) => /^10\.96\.\d+\.\d+$/.test(ip);

beforeAll(async () => {
  api = await startApi();
});
afterAll(async () => {
  await api?.close();
});

describe('cluster IPs', () => {
  it('gives a Service an address of the range, held by an IPAddress object that names it', async () => {
    const res = await api.call('POST', SVCS, svc('web'));
    expect(res.status).toBe(201);
    const ip = res.body.spec.clusterIP as string;
    expect(inRange(ip)).toBe(true);
    expect(res.body.spec.clusterIPs).toEqual([ip]);
    const record = await api.call('GET', `/apis/networking.k8s.io/v1/ipaddresses/${ip}`);
    expect(record.status).toBe(200);
    expect(record.body.spec.parentRef).toEqual({ group: '', resource: 'services', namespace: 'default', name: 'web' });
  });

  it('gives 32 concurrent creates 32 distinct addresses', async () => {
    const results = await Promise.all(Array.from({ length: 32 }, (_, i) => api.call('POST', SVCS, svc(`many-${i}`))));
    expect(results.map((r) => r.status)).toEqual(Array(32).fill(201));
    const ips = results.map((r) => r.body.spec.clusterIP as string);
    expect(new Set(ips).size).toBe(32);
    expect(ips.every(inRange)).toBe(true);
  });

  it('settles concurrent creates that all pick the same address first on the conditional write', async () => {
    // Every pick starts at the same address (random pinned to 0): only the transaction keeps them apart.
    const pinned = new ObjectService({
      store: api.stack.store,
      clock: systemClock,
      newUid: randomUUID,
      nameSuffix: () => 'xxxxx',
      network: { ...DEFAULT_SERVICE_NETWORK, serviceCIDR: '10.96.0.0/24' },
      random: () => 0,
    });
    const created = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pinned.create(kindNamed('Service'), 'default', svc(`same-${i}`))),
    );
    const ips = created.map((o) => (o.spec as { clusterIP: string }).clusterIP);
    expect(new Set(ips).size).toBe(8);
    // The dynamic band of a /24 starts after its 16 static addresses.
    expect(ips.every((ip) => Number(ip.split('.')[3]) >= 16)).toBe(true);
  });

  it('honours a free address, refuses a taken or out-of-range one with 422 naming spec.clusterIPs', async () => {
    const asked = await api.call('POST', SVCS, svc('pinned', { clusterIP: '10.96.0.50' }));
    expect(asked.status).toBe(201);
    expect(asked.body.spec.clusterIPs).toEqual(['10.96.0.50']);

    const taken = await api.call('POST', SVCS, svc('pinned-again', { clusterIP: '10.96.0.50' }));
    expect(taken.status).toBe(422);
    expect(taken.body.details.causes).toEqual([
      expect.objectContaining({
        field: 'spec.clusterIPs',
        message: expect.stringContaining('failed to allocate IP 10.96.0.50: provided IP is already allocated'),
      }),
    ]);
    // Nothing half-written: the refused Service is absent.
    expect((await api.call('GET', `${SVCS}/pinned-again`)).status).toBe(404);

    const outside = await api.call('POST', SVCS, svc('outside', { clusterIP: '192.168.1.1' }));
    expect(outside.status).toBe(422);
    expect(outside.body.message).toContain('The range of valid IPs is 10.96.0.0/16');
    // The cluster DNS's address belongs to the nodes.
    expect((await api.call('POST', SVCS, svc('dns', { clusterIP: '10.96.0.10' }))).status).toBe(422);
    const malformed = await api.call('POST', SVCS, svc('malformed', { clusterIP: '10.96.0' }));
    expect(malformed.status).toBe(422);
    expect(malformed.body.details.causes[0].field).toBe('spec.clusterIPs[0]');
  });

  it('keeps the address across updates that omit it, refuses one that changes it, frees it on delete', async () => {
    const created = await api.call('POST', SVCS, svc('keeper', { clusterIP: '10.96.0.60' }));
    expect(created.status).toBe(201);
    // A replace from a manifest without clusterIP (kubectl replace -f) keeps the allocated one.
    const replaced = await api.call('PUT', `${SVCS}/keeper`, {
      ...svc('keeper', { ports: [{ port: 8080 }] }),
      metadata: { name: 'keeper', resourceVersion: created.body.metadata.resourceVersion },
    });
    expect(replaced.status).toBe(200);
    expect(replaced.body.spec.clusterIP).toBe('10.96.0.60');
    const changed = await api.call(
      'PATCH',
      `${SVCS}/keeper`,
      { spec: { clusterIP: '10.96.0.61', clusterIPs: ['10.96.0.61'] } },
      'application/merge-patch+json',
    );
    expect(changed.status).toBe(422);
    expect(changed.body.details.causes[0]).toMatchObject({ field: 'spec.clusterIPs[0]' });
    expect(changed.body.details.causes[0].message).toContain('may not change once set');

    expect((await api.call('DELETE', `${SVCS}/keeper`)).status).toBe(200);
    expect((await api.call('GET', '/apis/networking.k8s.io/v1/ipaddresses/10.96.0.60')).status).toBe(404);
    expect((await api.call('POST', SVCS, svc('keeper-2', { clusterIP: '10.96.0.60' }))).status).toBe(201);
  });

  it('makes a headless Service with clusterIP None and an ExternalName Service without an address', async () => {
    const headless = await api.call('POST', SVCS, svc('headless', { clusterIP: 'None' }));
    expect(headless.status).toBe(201);
    expect(headless.body.spec.clusterIPs).toEqual(['None']);
    const external = await api.call('POST', SVCS, {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'external' },
      spec: { type: 'ExternalName', externalName: 'db.example.com' },
    });
    expect(external.status).toBe(201);
    expect(external.body.spec.clusterIP).toBeUndefined();
    // Headless stays headless.
    const flip = await api.call(
      'PATCH',
      `${SVCS}/headless`,
      { spec: { clusterIP: '10.96.0.70', clusterIPs: ['10.96.0.70'] } },
      'application/merge-patch+json',
    );
    expect(flip.status).toBe(422);
  });
});

describe('updates as Kubernetes makes them', () => {
  it('frees the address of a Service that becomes ExternalName, keeps None for a headless one, refuses duplicate ports', async () => {
    const c = await api.call('POST', SVCS, svc('to-external', { clusterIP: '10.96.0.80' }));
    expect(c.status).toBe(201);
    const ext = await api.call(
      'PATCH',
      `${SVCS}/to-external`,
      { spec: { type: 'ExternalName', externalName: 'db.example.com' } },
      'application/merge-patch+json',
    );
    expect(ext.status, JSON.stringify(ext.body)).toBe(200);
    expect(ext.body.spec.clusterIP).toBeUndefined();
    expect((await api.call('GET', '/apis/networking.k8s.io/v1/ipaddresses/10.96.0.80')).status).toBe(404);

    const h = await api.call('POST', SVCS, svc('headless-put', { clusterIP: 'None' }));
    const put = await api.call('PUT', `${SVCS}/headless-put`, {
      ...svc('headless-put', { ports: [{ port: 81 }] }),
      metadata: { name: 'headless-put', resourceVersion: h.body.metadata.resourceVersion },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.spec.clusterIP).toBe('None');

    // DenyServiceExternalIPs: nothing would carry them.
    const extIPs = await api.call('POST', SVCS, svc('ext-ips', { externalIPs: ['192.0.2.1'] }));
    expect(extIPs.status).toBe(422);
    expect(extIPs.body.details.causes[0]).toMatchObject({
      field: 'spec.externalIPs',
      message: 'Forbidden: externalIPs have been disabled',
    });
    const dup = await api.call(
      'POST',
      SVCS,
      svc('dup', {
        ports: [
          { name: 'a', port: 80 },
          { name: 'b', port: 80 },
        ],
      }),
    );
    expect(dup.status).toBe(422);
    expect(dup.body.details.causes[0]).toMatchObject({ reason: 'FieldValueDuplicate', field: 'spec.ports[1]' });
  });

  it('refuses EndpointSlice addresses no node may be sent to', async () => {
    const res = await api.call('POST', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'bad', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['169.254.169.254'] }, { addresses: ['10.0.0.1\n}'] }],
      ports: [{ port: 70000 }],
    });
    expect(res.status).toBe(422);
    expect(res.body.details.causes.map((c: { field: string }) => c.field)).toEqual([
      'endpoints[0].addresses[0]',
      'endpoints[1].addresses[0]',
      'ports[0].port',
    ]);
  });
});

describe('atomic apply', () => {
  it('allocates the addresses of the Services in the apply, in its one transaction', async () => {
    const manifest = [
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: atomic-a\nspec:\n  selector: {app: a}\n  ports: [{port: 80}]',
      'apiVersion: v1\nkind: Service\nmetadata:\n  name: atomic-b\nspec:\n  type: NodePort\n  selector: {app: b}\n  ports: [{port: 80}]',
    ].join('\n---\n');
    const res = await api.call('POST', '/kumo/v1/apply?atomic=true&namespace=default', manifest, 'application/yaml');
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const [a, b] = res.body.results.map(
      (r: { object: { spec: { clusterIP: string; ports: { nodePort?: number }[] } } }) => r.object.spec,
    );
    expect(inRange(a.clusterIP)).toBe(true);
    expect(b.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
    expect(
      (await api.call('GET', `/apis/networking.k8s.io/v1/ipaddresses/${b.clusterIP}`)).body.spec.parentRef.name,
    ).toBe('atomic-b');
  });
});

describe('node ports', () => {
  it('allocates a node port of the range, refuses a taken or out-of-range one, releases them when no longer NodePort', async () => {
    const res = await api.call('POST', SVCS, svc('np', { type: 'NodePort', ports: [{ port: 80 }] }));
    expect(res.status).toBe(201);
    const port = res.body.spec.ports[0].nodePort as number;
    expect(port).toBeGreaterThanOrEqual(30000);
    expect(port).toBeLessThanOrEqual(32767);

    const taken = await api.call(
      'POST',
      SVCS,
      svc('np-2', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
    );
    expect(taken.status).toBe(422);
    expect(taken.body.details.causes[0]).toMatchObject({
      field: 'spec.ports[0].nodePort',
      message: `Invalid value: ${port}: provided port is already allocated`,
    });
    const outside = await api.call(
      'POST',
      SVCS,
      svc('np-3', { type: 'NodePort', ports: [{ port: 80, nodePort: 80 }] }),
    );
    expect(outside.status).toBe(422);
    expect(outside.body.details.causes[0].message).toContain('The range of valid ports is 30000-32767');
    const onClusterIP = await api.call('POST', SVCS, svc('np-4', { ports: [{ port: 80, nodePort: 30999 }] }));
    expect(onClusterIP.status).toBe(422);

    // Back to ClusterIP: the node port is cleared and free for another Service.
    const back = await api.call('PATCH', `${SVCS}/np`, { spec: { type: 'ClusterIP' } }, 'application/merge-patch+json');
    expect(back.status).toBe(200);
    expect(back.body.spec.ports[0].nodePort).toBeUndefined();
    expect(back.body.spec.clusterIP).toBe(res.body.spec.clusterIP);
    const reuse = await api.call(
      'POST',
      SVCS,
      svc('np-5', { type: 'NodePort', ports: [{ port: 80, nodePort: port }] }),
    );
    expect(reuse.status).toBe(201);
  });
});
