/**
 * Services on a node (issue 18), measured side by side in one run against podman:
 *   1. HTTP requests per second and latency to one backend pod (busybox httpd, a connection per
 *      request as it closes them): straight to the pod IP, through the Service's cluster IP, through
 *      its node port on 127.0.0.1; in alternating rounds so each path sees the same machine;
 *   2. DNS queries per second the node's cluster DNS answers (A for a Service, 32 in flight);
 *   3. the agent's CPU at idle with `--services` Services (each with a listener on its cluster IP).
 *
 *   npm run bench:services [-- --seconds 5 --rounds 3 --concurrency 8 --services 50 --idle-seconds 30]
 *
 * Needs podman and root (the agent routes the service range to this host). Traffic goes to loopback,
 * to the service range (routed local: it cannot leave the machine) and to podman's pod network only.
 * Every load loop is bounded in time and in count.
 */
import dgram from 'node:dgram';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import dnsPacket from 'dns-packet';
import { serviceRangeRoute } from '../shared/agent/network/service-routes.js';
import { startDockerBenchStack, stopBenchStacks } from './docker-stack.js';
import { percentile } from './harness.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '5' },
    rounds: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '8' },
    services: { type: 'string', default: '50' },
    'idle-seconds': { type: 'string', default: '30' },
  },
});
const SECONDS = Number(args.seconds);
const ROUNDS = Number(args.rounds);
const CONCURRENCY = Number(args.concurrency);
const SERVICES = Number(args.services);
const IDLE_S = Number(args['idle-seconds']);
/** At most this many requests per measured window, whatever the machine does. */
const MAX_REQUESTS = 100_000;
const CIDR = '10.96.0.0/16';
const CLOCK_TICKS = 100;

const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]);
};

/** One GET on a new connection; its latency in ms, or undefined when it failed. */
function get(host: string, port: number): Promise<number | undefined> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = http.get({ host, port, path: '/', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - started : undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}

async function load(host: string, port: number) {
  const latencies: number[] = [];
  let failed = 0;
  const until = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until && latencies.length + failed < MAX_REQUESTS) {
        const ms = await get(host, port);
        if (ms === undefined) failed++;
        else latencies.push(ms);
      }
    }),
  );
  return { latencies, failed, seconds: (performance.now() - started) / 1000 };
}

async function dnsRate(server: string, name: string) {
  const socket = dgram.createSocket('udp4');
  let answered = 0;
  let sent = 0;
  const until = performance.now() + SECONDS * 1000;
  const maxQueries = 500_000;
  const query = (id: number) =>
    dnsPacket.encode({ type: 'query', id, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name }] });
  await new Promise<void>((resolve) => {
    const send = () => {
      if (performance.now() >= until || sent >= maxQueries) return;
      sent++;
      socket.send(query(sent % 65536), 53, server);
    };
    socket.on('message', (msg) => {
      if (dnsPacket.decode(msg).answers?.length) answered++;
      send();
    });
    socket.bind(0, '0.0.0.0', () => {
      for (let i = 0; i < 32; i++) send();
    });
    setTimeout(resolve, SECONDS * 1000 + 500);
  });
  socket.close();
  return { answered, sent, perSecond: answered / SECONDS };
}

async function main() {
  const stack = await startDockerBenchStack({
    name: 'services',
    nodeName: 'bench-services-node',
    agentEnv: { KUMO_AGENT_UPSTREAM_DNS: 'none' },
  });
  const { engine, agent, agentLog, api } = stack;
  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, ms = 60_000) => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
      await new Promise((r) => setTimeout(r, 200));
    }
  };
  await waitFor('the service range is routed to this host', async () => (await serviceRangeRoute(CIDR)) !== undefined);

  const r = await api('POST', '/api/v1/namespaces/default/pods', {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'backend', labels: { app: 'backend' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'httpd',
          image: engine.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www'],
          ports: [{ name: 'http', containerPort: 8080 }],
          readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          resources: { requests: { cpu: '10m', memory: '8Mi' } },
        },
      ],
    },
  });
  if (r.status !== 201) throw new Error(`create the backend pod: ${r.status}`);
  const svc = await api('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'backend' },
    spec: { type: 'NodePort', selector: { app: 'backend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  });
  const clusterIP = svc.json?.spec?.clusterIP as string;
  // ClientIP affinity is the user-space proxy's (nftables rules do not keep it): the same backend through the other data path.
  const sticky = await api('POST', '/api/v1/namespaces/default/services', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'backend-sticky' },
    spec: {
      selector: { app: 'backend' },
      sessionAffinity: 'ClientIP',
      ports: [{ name: 'http', port: 80, targetPort: 'http' }],
    },
  });
  const stickyIP = sticky.json?.spec?.clusterIP as string;
  const nodePort = svc.json?.spec?.ports?.[0]?.nodePort as number;
  let podIP = '';
  await waitFor('the backend is ready', async () => {
    const p = (await api('GET', '/api/v1/namespaces/default/pods/backend')).json;
    podIP = p?.status?.podIP ?? '';
    return !!(p?.status?.conditions ?? []).find((c: any) => c.type === 'Ready' && c.status === 'True');
  });
  await waitFor('the cluster IP answers', async () => (await get(clusterIP, 80)) !== undefined);
  await waitFor('the node port answers', async () => (await get('127.0.0.1', nodePort)) !== undefined);
  await waitFor('the sticky cluster IP answers', async () => (await get(stickyIP, 80)) !== undefined);
  const dataPath = /cluster IPs are served by ([^\n]+)/.exec(agentLog.join(''))?.[1] ?? 'unknown';

  // 1: HTTP through each path, alternating.
  const paths = {
    direct: [podIP, 8080],
    'cluster IP': [clusterIP, 80],
    'cluster IP, user space': [stickyIP, 80],
    'node port': ['127.0.0.1', nodePort],
  } as const;
  const results = new Map<string, { latencies: number[]; failed: number; seconds: number }>();
  await load(podIP, 8080); // warm-up
  for (let round = 0; round < ROUNDS; round++)
    for (const [name, [host, port]] of Object.entries(paths)) {
      const out = await load(host, port);
      const acc = results.get(name) ?? { latencies: [], failed: 0, seconds: 0 };
      acc.latencies.push(...out.latencies);
      acc.failed += out.failed;
      acc.seconds += out.seconds;
      results.set(name, acc);
    }
  console.log(
    `\n# HTTP GET, a new connection each (busybox httpd closes them), ${CONCURRENCY} in flight, ${ROUNDS} × ${SECONDS} s per path`,
  );
  console.log(
    `cluster IPs: ${dataPath}; "user space": a ClientIP-affinity Service (the proxy's); node ports: the proxy`,
  );
  const row = (name: string) => {
    const x = results.get(name) ?? { latencies: [], failed: 0, seconds: 1 };
    const s = [...x.latencies].sort((p, q) => p - q);
    return { rps: x.latencies.length / x.seconds, p50: percentile(s, 50), p99: percentile(s, 99), failed: x.failed };
  };
  const direct = row('direct');
  for (const name of Object.keys(paths)) {
    const x = row(name);
    console.log(
      `${name.padEnd(24)} ${x.rps.toFixed(0).padStart(6)} req/s  p50 ${x.p50.toFixed(2)} ms  p99 ${x.p99.toFixed(2)} ms  failed ${x.failed}` +
        (name === 'direct'
          ? ''
          : `   ×${(x.rps / direct.rps).toFixed(2)} of direct, p99 +${(x.p99 - direct.p99).toFixed(2)} ms`),
    );
  }
  console.log('targets: cluster IP ≥ 0.7 × direct, p99 added ≤ 1 ms');

  // 2: DNS.
  const dns = await dnsRate('10.96.0.10', 'backend.default.svc.cluster.local');
  console.log(`\n# cluster DNS, A queries, 32 in flight, ${SECONDS} s`);
  console.log(`${dns.perSecond.toFixed(0)} answers/s (${dns.answered} of ${dns.sent} sent)   target ≥ 5,000/s`);

  // 3: idle CPU with many Services.
  for (let i = 0; i < SERVICES; i++) {
    const res = await api('POST', '/api/v1/namespaces/default/services', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: `idle-${i}` },
      spec: { selector: { app: 'backend' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    });
    if (res.status !== 201) throw new Error(`create idle-${i}: ${res.status}`);
  }
  const last = (await api('GET', `/api/v1/namespaces/default/services/idle-${SERVICES - 1}`)).json?.spec?.clusterIP;
  await waitFor(`the ${SERVICES} Services answer`, async () => (await get(last, 80)) !== undefined);
  await new Promise((r2) => setTimeout(r2, 5000)); // settle
  const pid = agent.pid as number;
  const t0 = { ticks: cpuTicks(pid), at: performance.now() };
  await new Promise((r2) => setTimeout(r2, IDLE_S * 1000));
  const seconds = (performance.now() - t0.at) / 1000;
  const pct = ((cpuTicks(pid) - t0.ticks) / CLOCK_TICKS / seconds) * 100;
  const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  console.log(`\n# the agent at idle with ${SERVICES + 1} Services (a listener each), ${seconds.toFixed(0)} s window`);
  console.log(`CPU ${pct.toFixed(2)} % of one core (target ≤ 1 %), RSS ${rss.toFixed(1)} MiB`);

  await stack.stop();
}

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    console.error(e);
    // Stopped on failure too, so a crashed run leaves no DynamoDB Local, SQS emulator, engine or agent behind.
    await stopBenchStacks();
    process.exit(1);
  },
);
