import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync as exec } from 'node:child_process';
import type { KubeObject } from '../../shared/model/types.js';
import { serviceRangeRoute } from '../../shared/agent/network/service-routes.js';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { podmanMissing, startPodman, type Podman } from '../../local/podman.js';
import { until } from '../support/wait.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { IngressController } from '../../shared/ingress/controller.js';
import { IngressProxy } from '../../shared/ingress/proxy.js';
import { storeEventRecorder } from '../../shared/events/recorder.js';
import { systemClock } from '../../shared/util/clock.js';

/**
 * Services carry traffic (issue 18), against podman: pods reach a Service by its cluster IP and by
 * name through the node's proxy and cluster DNS, a headless Service answers its pods' addresses and
 * SRV records, Service variables reach pods started after the Service, node ports answer on the
 * node's address, and readiness takes a pod out of the rotation.
 *
 * It runs once per data path for cluster IPs (services-nftables.test.ts, services-userspace.test.ts),
 * each file with a service range, node port range and load balancer port of its own.
 *
 * Network rule: each file's service range is routed `local` on this host by the agent before anything
 * is sent (asserted first), so no packet to it can leave the machine; every other address used is a
 * pod's, inside podman's network, or loopback.
 */
export interface SuiteOptions {
  dataPath: 'nftables' | 'userspace';
  cidr: string;
  nodePorts: string;
  lbPort: number;
  node: string;
}

export function servicesSuite(o: SuiteOptions) {
  const missing = podmanMissing();
  if (missing && process.env.CI) throw new Error(`the Services suite needs podman in CI: ${missing}`);
  if (missing) console.warn(`Services suite skipped: ${missing}`);

  const CIDR = o.cidr;
  const NODE = o.node;
  const DNS_IP = CIDR.replace(/0\/\d+$/, '10');
  let s: AgentStack;
  let engine: Podman;

  const api = (method: string, path: string, body?: unknown) => s.call(method, path, body);
  const ns = '/api/v1/namespaces/default';
  const create = async (path: string, body: unknown) => {
    const r = await api('POST', path, body);
    expect(r.status, r.text).toBe(201);
    return r.json as KubeObject;
  };
  const container = (name: string, script: string, extra: Record<string, unknown> = {}) => ({
    name,
    image: engine.image,
    imagePullPolicy: 'IfNotPresent',
    command: ['sh', '-c', script],
    resources: { requests: { cpu: '10m', memory: '8Mi' } },
    ...extra,
  });
  /** busybox httpd answering its pod's hostname on every path (its 404 page too); ready while /www/ready exists. */
  const webServer = (name = 'web') =>
    container(
      name,
      "mkdir -p /www && hostname > /www/index.html && printf 'E404:index.html\\n' > /www/httpd.conf && touch /www/ready && exec httpd -f -p 8080 -h /www -c /www/httpd.conf",
      {
        ports: [{ name: 'http', containerPort: 8080 }],
        readinessProbe: { exec: { command: ['test', '-f', '/www/ready'] }, periodSeconds: 1, failureThreshold: 1 },
      },
    );
  const deployment = (name: string, replicas: number, labels: Record<string, string>, c: unknown) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { terminationGracePeriodSeconds: 1, containers: [c] } },
    },
  });
  const service = (name: string, selector: Record<string, string>, spec: Record<string, unknown> = {}) => ({
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name },
    spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
  });
  const pods = async (selector: string) =>
    ((await api('GET', `${ns}/pods?labelSelector=${encodeURIComponent(selector)}`)).json?.items ?? []) as KubeObject[];
  const containerId = (p: KubeObject) =>
    String(
      (p.status as { containerStatuses?: { containerID?: string }[] }).containerStatuses?.[0]?.containerID ?? '',
    ).replace('docker://', '');
  const ready = (p: KubeObject) =>
    ((p.status as { conditions?: { type: string; status: string }[] }).conditions ?? []).some(
      (c) => c.type === 'Ready' && c.status === 'True',
    );
  const startClient = async (name: string) => {
    await create(`${ns}/pods`, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: { role: name } },
      spec: { terminationGracePeriodSeconds: 1, containers: [container('main', 'exec sleep 3600')] },
    });
    let id = '';
    await until(async () => {
      const [p] = await pods(`role=${name}`);
      id = p && ready(p) ? containerId(p) : '';
      return id !== '';
    }, 60_000);
    return id;
  };
  /** Runs a command in a client pod; resolves with its output and exit code (never throws on a failing command). */
  const inPod = async (id: string, script: string): Promise<{ code: number; out: string }> => {
    try {
      return { code: 0, out: await engine.podman('exec', id, 'sh', '-c', script) };
    } catch (e) {
      return { code: 1, out: String((e as Error).message) };
    }
  };

  let client = '';
  let ingressProxy: IngressProxy | undefined;

  /**
   * An HTTP GET from the client pod, answering the body's last line ('' when it failed). busybox-static's
   * wget crashes in this image, so it is nc; nc stops at the end of its input, so the input lasts a moment.
   */
  const get = async (target: string, port = 80) =>
    (
      await inPod(client, `(printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 0.5) | nc -w 3 ${target} ${port} | tail -n 1`)
    ).out.trim();

  beforeAll(async () => {
    if (missing) return;
    process.env.KUMO_SERVICE_CIDR = CIDR;
    process.env.KUMO_SERVICE_NODE_PORT_RANGE = o.nodePorts;
    engine = await startPodman();
    s = await startAgentStack();
    await s.startAgent(NODE, {
      runtime: 'docker',
      dockerSocket: engine.socket,
      sandboxImage: engine.sandboxImage,
      serviceProxy: true,
      proxyMode: o.dataPath,
    });
    // The network rule before any traffic: the whole service range is local to this host.
    await until(async () => (await serviceRangeRoute(CIDR)) !== undefined, 20_000);
    await create('/apis/apps/v1/namespaces/default/deployments', deployment('web', 3, { app: 'web' }, webServer()));
    await create(`${ns}/services`, service('web', { app: 'web' }));
    await create(`${ns}/services`, service('web-headless', { app: 'web' }, { clusterIP: 'None' }));
    await create(`${ns}/services`, service('nobody', { app: 'nobody' }));
    // A second app (its pods answer "api-…"), for the Ingress's second Service.
    await create('/apis/apps/v1/namespaces/default/deployments', deployment('api', 1, { app: 'api' }, webServer()));
    await create(`${ns}/services`, service('api', { app: 'api' }));
    await until(async () => (await pods('app=web')).filter(ready).length === 3, 90_000);
    await until(async () => (await pods('app=api')).filter(ready).length === 1, 90_000);
    client = await startClient('client');
  }, 240_000);
  afterAll(async () => {
    await ingressProxy?.close();
    await s?.close();
    await engine?.stop();
    // The agent leaves the service range routed (a node keeps it); the test's own ranges go.
    try {
      exec('ip', ['-4', 'route', 'del', 'local', CIDR, 'dev', 'lo', 'table', 'local'], { stdio: 'ignore' });
    } catch {
      // not there
    }
    delete process.env.KUMO_SERVICE_CIDR;
    delete process.env.KUMO_SERVICE_NODE_PORT_RANGE;
  });

  describe.skipIf(!!missing)(`Services on the docker runtime (${o.dataPath})`, { timeout: 180_000 }, () => {
    it('routes the whole service range to this host before anything is sent', async () => {
      expect(await serviceRangeRoute(CIDR)).toMatch(new RegExp(`^local ${CIDR.replace(/\./g, '\\.')} dev lo`));
    });

    it('answers through the cluster IP, by full name and by the search path, spread over the endpoints', async () => {
      const svc = (await api('GET', `${ns}/services/web`)).json;
      const ip = svc.spec.clusterIP as string;
      expect(ip.split('.').slice(0, 2)).toEqual(CIDR.split('.').slice(0, 2));
      // The data path this file is about carries it.
      const ruleset = () => exec('nft', ['list', 'ruleset'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      // Ready pods reach the rules through the endpoints controller and the agent's next sync, which may trail.
      const rule = `ip daddr ${ip} tcp dport 80 dnat ip to numgen random mod 3`;
      if (o.dataPath === 'nftables') {
        await until(async () => ruleset().includes(rule), 20_000);
        expect(ruleset()).toContain(rule);
      } else expect(ruleset()).not.toContain(`ip daddr ${ip}`);
      const backends = (await pods('app=web')).map((p) => p.metadata.name);
      // The userspace proxy, too, has the endpoints from the agent's next sync (CI once asked before it).
      await until(async () => backends.includes(await get(ip)), 20_000);
      expect(backends).toContain(await get(ip));
      expect(backends).toContain(await get('web.default.svc.cluster.local'));
      expect(backends).toContain(await get('web'));
      const seen = new Set<string>();
      for (let i = 0; i < 9; i++) seen.add(await get('web'));
      // From a backend to its own Service: one of the answers is its own (the reply comes back through the host).
      const [backend] = await pods('app=web');
      if (!backend) throw new Error('no web pod');
      const fromBackend = await inPod(
        containerId(backend),
        "for i in 1 2 3 4 5 6; do (printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 0.5) | nc -w 3 web 80 | tail -n 1; done",
      );
      expect(
        fromBackend.out
          .trim()
          .split('\n')
          .every((h) => backends.includes(h.trim())),
        fromBackend.out,
      ).toBe(true);
      expect([...seen].every((h) => backends.includes(h))).toBe(true);
      expect(seen.size).toBeGreaterThan(1);
    });

    it('resolves a headless Service to every ready pod, and SRV for its named port', async () => {
      const ips = (await pods('app=web')).map((p) => (p.status as { podIP: string }).podIP).sort();
      const a = await inPod(client, 'nslookup -type=a web-headless.default.svc.cluster.local');
      expect(a.code, a.out).toBe(0);
      for (const ip of ips) expect(a.out).toContain(ip);
      const srv = await inPod(client, 'nslookup -type=srv _http._tcp.web-headless.default.svc.cluster.local');
      expect(srv.code, srv.out).toBe(0);
      expect(srv.out).toContain('8080');
      // A pod's dashed-address name.
      const podName = await inPod(client, `nslookup -type=a ${ips[0]?.replace(/\./g, '-')}.default.pod.cluster.local`);
      expect(podName.out).toContain(ips[0]);
    });

    it('gives pods started after a Service its environment variables', async () => {
      const env = await inPod(client, 'env');
      const ip = (await api('GET', `${ns}/services/web`)).json.spec.clusterIP;
      expect(env.out).toContain(`WEB_SERVICE_HOST=${ip}`);
      expect(env.out).toContain('WEB_SERVICE_PORT=80');
      expect(env.out).toContain('WEB_SERVICE_PORT_HTTP=80');
      expect(env.out).toContain(`WEB_PORT_80_TCP=tcp://${ip}:80`);
      // Headless Services have no address and no variables.
      expect(env.out).not.toContain('WEB_HEADLESS_SERVICE_HOST');
    });

    it('refuses connections to a Service that selects nothing at once', async () => {
      const started = Date.now();
      const r = await inPod(client, `nc -w 10 nobody 80 </dev/null 2>&1; echo "exit=$?"`);
      expect(r.out).toMatch(/refused|exit=1/i);
      expect(r.out).not.toContain('exit=0');
      expect(Date.now() - started).toBeLessThan(5_000);
    });

    it('keeps a client on one endpoint with ClientIP affinity', async () => {
      await create(`${ns}/services`, service('web-sticky', { app: 'web' }, { sessionAffinity: 'ClientIP' }));
      let first = '';
      await until(async () => (first = await get('web-sticky')) !== '', 20_000);
      for (let i = 0; i < 6; i++) expect(await get('web-sticky')).toBe(first);
    });

    it('carries UDP: a Service whose endpoint (written by hand) is the cluster DNS answers DNS through the proxy', async () => {
      const udp = await create(`${ns}/services`, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'dns-udp' },
        spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] },
      });
      await create('/apis/discovery.k8s.io/v1/namespaces/default/endpointslices', {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'dns-udp-manual', labels: { 'kubernetes.io/service-name': 'dns-udp' } },
        addressType: 'IPv4',
        endpoints: [{ addresses: [DNS_IP] }],
        ports: [{ name: 'dns', port: 53, protocol: 'UDP' }],
      });
      const via = (udp.spec as { clusterIP: string }).clusterIP;
      const webIP = (await api('GET', `${ns}/services/web`)).json.spec.clusterIP as string;
      let out = '';
      await until(async () => {
        out = (await inPod(client, `nslookup -type=a web.default.svc.cluster.local ${via}`)).out;
        return out.includes(webIP);
      }, 20_000);
      expect(out).toContain(`Address:\t${via}:53`);
    });

    it('serves a node port on the node address', async () => {
      const np = await create(`${ns}/services`, service('web-np', { app: 'web' }, { type: 'NodePort' }));
      const port = (np.spec as { ports: { nodePort: number }[] }).ports[0]?.nodePort;
      let body = '';
      await until(async () => {
        body = await fetch(`http://127.0.0.1:${port}/`).then(
          (r) => r.text(),
          () => '',
        );
        return body !== '';
      }, 30_000);
      expect((await pods('app=web')).map((p) => p.metadata.name)).toContain(body.trim());
    });

    it('gives a LoadBalancer Service an address on 127.0.0.1 that answers, one per port, and removes it on delete', async () => {
      await create(
        `${ns}/services`,
        service(
          'web-lb',
          { app: 'web' },
          { type: 'LoadBalancer', ports: [{ name: 'http', port: o.lbPort, targetPort: 'http' }] },
        ),
      );
      let ingress: { ip?: string }[] = [];
      await until(async () => {
        ingress = (await api('GET', `${ns}/services/web-lb`)).json?.status?.loadBalancer?.ingress ?? [];
        return ingress.length > 0;
      }, 30_000);
      expect(ingress).toEqual([{ ip: '127.0.0.1', ipMode: 'VIP' }]);
      const backends = (await pods('app=web')).map((p) => p.metadata.name);
      let body = '';
      await until(async () => {
        body = await fetch(`http://127.0.0.1:${o.lbPort}/`).then(
          (r) => r.text(),
          () => '',
        );
        return body !== '';
      }, 30_000);
      expect(backends).toContain(body.trim());
      // The same port again: pending, and an Event says whose it is.
      await create(
        `${ns}/services`,
        service(
          'web-lb-2',
          { app: 'web' },
          { type: 'LoadBalancer', ports: [{ name: 'http', port: o.lbPort, targetPort: 'http' }] },
        ),
      );
      await until(async () => {
        const evs = (await api('GET', `${ns}/events?fieldSelector=involvedObject.name=web-lb-2`)).json?.items ?? [];
        return evs.some(
          (e: { reason: string; message: string }) =>
            e.reason === 'SyncLoadBalancerFailed' && e.message.includes('default/web-lb'),
        );
      }, 30_000);
      expect((await api('GET', `${ns}/services/web-lb-2`)).json.status?.loadBalancer?.ingress).toBeUndefined();
      // Deleting waits for the cleanup finalizer, then the Service and its address are gone.
      expect((await api('DELETE', `${ns}/services/web-lb`)).status).toBe(200);
      await until(async () => (await api('GET', `${ns}/services/web-lb`)).status === 404, 30_000);
      // The port is free again: the pending Service gets it at its next try.
      await until(
        async () => ((await api('GET', `${ns}/services/web-lb-2`)).json.status?.loadBalancer?.ingress ?? []).length > 0,
        30_000,
      );
    });

    it('loses no more than the request in flight when a backend pod is deleted', async () => {
      // podman's bridge took the lowest MAC of its ports, so a pod leaving could change it and cut every
      // other pod off the node (cluster DNS, cluster IPs) for 30-45 s until ARP gave up: the agent pins it.
      const gateway = (await inPod(client, 'ip route show default')).out.split(' ')[2] ?? '';
      const bridge = (
        JSON.parse(exec('ip', ['-j', '-4', 'addr', 'show', 'to', `${gateway}/32`], { encoding: 'utf8' })) as {
          ifname: string;
        }[]
      )[0]?.ifname;
      expect(readFileSync(`/sys/class/net/${bridge}/addr_assign_type`, 'utf8').trim(), `${gateway} ${bridge}`).toBe(
        '3',
      );
      const [victim] = await pods('app=web');
      if (!victim) throw new Error('no web pod');
      const deleted = api('DELETE', `${ns}/pods/${victim.metadata.name}`);
      const answers: string[] = [];
      for (let i = 0; i < 16; i++) answers.push(await get('web'));
      await deleted;
      // One request at a time: at most the one in flight when the pod went may fail.
      expect(answers.filter((a) => a === '').length, answers.join(',')).toBeLessThanOrEqual(1);
      await until(async () => (await pods('app=web')).filter(ready).length === 3, 60_000);
    });

    it('takes a pod failing readiness out of the rotation within its probe period', async () => {
      const [victim] = await pods('app=web');
      if (!victim) throw new Error('no web pod');
      await engine.podman('exec', containerId(victim), 'rm', '/www/ready');
      await until(async () => {
        const p = (await api('GET', `${ns}/pods/${victim.metadata.name}`)).json as KubeObject;
        return !ready(p);
      }, 20_000);
      // Its endpoint goes with the next sync; then no request reaches it.
      const others = (await pods('app=web')).map((p) => p.metadata.name).filter((n) => n !== victim.metadata.name);
      await until(async () => {
        const out = await Promise.all(Array.from({ length: 6 }, () => get('web')));
        return out.every((h) => others.includes(h));
      }, 20_000);
      // Every answer comes from another pod: none fails, none reaches the unready one.
      for (let i = 0; i < 12; i++) expect(others).toContain(await get('web'));
      await engine.podman('exec', containerId(victim), 'touch', '/www/ready');
    });

    it('lets three Deployments reach each other by Service name (microservices-demo in miniature)', async () => {
      // frontend dials web and api by name, as microservices-demo's frontend dials productcatalogservice:3550.
      const ask = (svc: string) =>
        `echo "${svc} says $( (printf 'GET / HTTP/1.0\\r\\n\\r\\n'; sleep 0.5) | nc -w 3 ${svc} 80 | tail -n 1)"`;
      await create(
        '/apis/apps/v1/namespaces/default/deployments',
        deployment(
          'frontend',
          1,
          { app: 'frontend' },
          container('frontend', `while true; do ${ask('web')}; ${ask('api')}; sleep 1; done`),
        ),
      );
      let log = '';
      await until(async () => {
        const [p] = await pods('app=frontend');
        if (!p) return false;
        log = (await api('GET', `${ns}/pods/${p.metadata.name}/log`)).text;
        return /web says web-/.test(log) && /api says api-/.test(log);
      }, 60_000);
      // And a web pod reaches api by name too.
      const [w] = await pods('app=web');
      if (!w) throw new Error('no web pod');
      const fromWeb = await inPod(containerId(w), ask('api'));
      expect(fromWeb.out).toMatch(/api says api-/);
    });

    it('routes Ingress hosts and paths to their Services, over HTTP and TLS, and answers 503 with an Event for a missing backend', async () => {
      // A certificate for shop.test, in a Secret of type kubernetes.io/tls.
      const dir = mkdtempSync(join(tmpdir(), 'kumo-tls-'));
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=shop.test',
          '-addext',
          'subjectAltName=DNS:shop.test',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const cert = readFileSync(join(dir, 'cert.pem'), 'utf8');
      const key = readFileSync(join(dir, 'key.pem'), 'utf8');
      rmSync(dir, { recursive: true, force: true });
      await create(`${ns}/secrets`, {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'shop-tls' },
        type: 'kubernetes.io/tls',
        data: { 'tls.crt': Buffer.from(cert).toString('base64'), 'tls.key': Buffer.from(key).toString('base64') },
      });
      const rule = (path: string, svc: string, pathType = 'Prefix') => ({
        path,
        pathType,
        backend: { service: { name: svc, port: { number: 80 } } },
      });
      await create('/apis/networking.k8s.io/v1/namespaces/default/ingresses', {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'shop' },
        spec: {
          tls: [{ hosts: ['shop.test'], secretName: 'shop-tls' }],
          rules: [
            { host: 'shop.test', http: { paths: [rule('/', 'web'), rule('/api', 'api'), rule('/missing', 'ghost')] } },
            { host: 'admin.test', http: { paths: [rule('/', 'api')] } },
          ],
        },
      });
      ingressProxy = new IngressProxy({ address: '127.0.0.1', httpPort: 0, httpsPort: 0, now: Date.now });
      await ingressProxy.start();
      const controller = new IngressController({
        api: s.api.service,
        events: storeEventRecorder(s.store, systemClock, 'ingress-controller', randomUUID),
        proxy: ingressProxy,
        address: '127.0.0.1',
      });
      await controller.ensureClass();
      await controller.sync();
      const { http: httpPort, https: httpsPort } = ingressProxy.ports;
      const get = (host: string, path: string, secure = false) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = (secure ? httpsRequest : httpRequest)(
            {
              host: '127.0.0.1',
              port: secure ? httpsPort : httpPort,
              path,
              headers: { host },
              ...(secure ? { servername: host, ca: cert } : {}),
            },
            (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: body.trim() }));
            },
          );
          req.on('error', reject);
          req.end();
        });
      const web = (await pods('app=web')).map((p) => p.metadata.name);
      const apiPods = (await pods('app=api')).map((p) => p.metadata.name);
      expect(web).toContain((await get('shop.test', '/')).body);
      expect(web).toContain((await get('shop.test', '/apiary')).body); // Prefix matches whole path elements
      expect(apiPods).toContain((await get('shop.test', '/api/v1/items')).body);
      expect(apiPods).toContain((await get('admin.test', '/')).body);
      expect((await get('other.test', '/')).status).toBe(404);
      const missing = await get('shop.test', '/missing');
      expect(missing.status).toBe(503);
      expect(missing.body).toContain('service "default/ghost" not found');
      // TLS from the Secret, verified against the certificate itself.
      expect(web).toContain((await get('shop.test', '/', true)).body);
      const ing = (await api('GET', '/apis/networking.k8s.io/v1/namespaces/default/ingresses/shop')).json;
      expect(ing.status.loadBalancer.ingress).toEqual([
        {
          ip: '127.0.0.1',
          ports: [
            { port: httpPort, protocol: 'TCP' },
            { port: httpsPort, protocol: 'TCP' },
          ],
        },
      ]);
      const evs = (await api('GET', `${ns}/events?fieldSelector=involvedObject.name=shop`)).json.items as {
        reason: string;
        message: string;
      }[];
      expect(evs.some((e) => e.reason === 'BackendNotFound' && e.message.includes('default/ghost'))).toBe(true);
      // Endpoints followed without a restart: scaled to zero, the rule answers 503; back, it answers again.
      await s.call(
        'PATCH',
        '/apis/apps/v1/namespaces/default/deployments/api/scale',
        { spec: { replicas: 0 } },
        'application/merge-patch+json',
      );
      await until(async () => (await controller.sync(), (await get('admin.test', '/')).status === 503), 120_000);
    }, 300_000);
  });
}
