import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { kubeconfig } from '../../local/kubeconfig.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Agent } from '../../shared/agent/agent.js';
import type { KubeObject } from '../../shared/model/types.js';
import { PartitionableClient, startAgentStack, type AgentStack } from '../support/agents.js';
import { T, until } from '../support/wait.js';
import { freePort } from '../../local/ports.js';

/** The node agent with the process runtime against the whole offline control plane: real API, stream, scheduler, SQS wake-ups. */
let s: AgentStack;
let agent: Agent;
const partition: { client?: PartitionableClient } = {};

const podManifest = (
  name: string,
  container: Record<string, unknown>,
  spec: Record<string, unknown> = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec: {
    containers: [
      { name: 'main', image: 'busybox:1.36', resources: { requests: { cpu: '10m', memory: '8Mi' } }, ...container },
    ],
    ...spec,
  },
});

const api = (method: string, path: string, body?: unknown) => s.call(method, path, body);
const getPod = async (name: string) => (await api('GET', `/api/v1/namespaces/default/pods/${name}`)).json;
const status = async (name: string) => (await getPod(name))?.status ?? {};
const createPod = async (p: KubeObject) => {
  const r = await api('POST', '/api/v1/namespaces/default/pods', p);
  expect(r.status, r.text).toBe(201);
  return r.json;
};
const eventsFor = async (name: string) =>
  (
    (await api('GET', `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${name}`)).json
      .items as any[]
  ).map((e) => e.reason as string);

beforeAll(async () => {
  s = await startAgentStack();
  await s.api.service.create(T('ConfigMap'), 'default', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'greeting' },
    data: { GREETING: 'hello from a configmap' },
  });
  await s.api.service.create(T('Secret'), 'default', {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'token' },
    stringData: { TOKEN: 's3cret' },
  });
  agent = await s.startAgent('proc-node-1', { wrapClient: (c) => (partition.client = new PartitionableClient(c)) });
}, 120_000);
afterAll(async () => s?.close());

describe('node registration', () => {
  it('creates a Ready node with capacity, allocatable and the well-known labels', async () => {
    const node = await s.api.service.get(T('Node'), '', 'proc-node-1');
    expect(node.metadata.labels).toMatchObject({
      'kubernetes.io/hostname': 'proc-node-1',
      'kubernetes.io/os': 'linux',
    });
    expect(node.metadata.labels?.['kubernetes.io/arch']).toMatch(/^(amd64|arm64)$/);
    expect(node.status).toMatchObject({
      capacity: { cpu: '4000m', memory: '8192Mi', pods: '110' },
      allocatable: { cpu: '3900m', memory: '7936Mi' },
    });
    expect((node.status?.conditions as any[]).find((c) => c.type === 'Ready')).toMatchObject({
      status: 'True',
      reason: 'KubeletReady',
    });
    const lease = await s.leases.get('proc-node-1');
    expect(lease?.epoch).toBeGreaterThanOrEqual(1);
  });

  // Typed clients refuse a Node without them (the Python client's list_node() raised on boot_id).
  it('reports the ten nodeInfo fields the v1 schema requires, from the machine', async () => {
    const info = ((await s.api.service.get(T('Node'), '', 'proc-node-1')).status as any).nodeInfo;
    const required = ['machineID', 'systemUUID', 'bootID', 'kernelVersion', 'osImage', 'containerRuntimeVersion'];
    required.push('kubeletVersion', 'kubeProxyVersion', 'operatingSystem', 'architecture');
    for (const field of required) expect(typeof info[field], field).toBe('string');
    expect(info.bootID).toBe(readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim());
    expect(info.containerRuntimeVersion).toBe(`process://${process.versions.node}`);
    expect(info.osImage).toMatch(/\S/);
    expect(info.kernelVersion).toBe((await import('node:os')).release());
  });
});

describe('running pods with the process runtime', () => {
  it('runs a pod to Running with env from a ConfigMap, a Secret and the downward API, and serves its log', async () => {
    await createPod(
      podManifest('hello', {
        command: ['sh', '-c', 'echo "$GREETING / $TOKEN / $POD_NAME on $NODE"; exec sleep 600'],
        envFrom: [{ configMapRef: { name: 'greeting' } }],
        env: [
          { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'token', key: 'TOKEN' } } },
          { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
        ],
      }),
    );
    await until(async () => (await status('hello')).phase === 'Running', 20_000);
    const st = await status('hello');
    expect(st.hostIP).toBe('127.0.0.1');
    expect(st.containerStatuses[0]).toMatchObject({
      name: 'main',
      ready: true,
      restartCount: 0,
      state: { running: {} },
    });
    expect(st.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'True' });
    expect(st.conditions.find((c: any) => c.type === 'PodScheduled')).toMatchObject({ status: 'True' });
    await until(
      async () =>
        (await api('GET', '/api/v1/namespaces/default/pods/hello/log')).text.includes(
          'hello from a configmap / s3cret / hello on proc-node-1',
        ),
      10_000,
    );
    expect(await eventsFor('hello')).toEqual(expect.arrayContaining(['Scheduled', 'Started']));
    // The process runtime mounts nothing: the ServiceAccount token volume admission added is left out, and said so.
    const events = (
      await api(
        'GET',
        '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=hello,reason=TokenNotMounted',
      )
    ).json.items;
    expect(events).toHaveLength(1);
    expect(events[0].type).toBe('Warning');
    expect(events[0].message).toMatch(
      /^spec\.volumes\[0\] \(kube-api-access-[a-z0-9]{5}\): the process runtime cannot mount volumes, so the containers run without their ServiceAccount token at \/var\/run\/secrets\/kubernetes\.io\/serviceaccount/,
    );
  });

  it('backs off a crashing container (CrashLoopBackOff, BackOff events, lastState) and keeps its previous log', async () => {
    await createPod(podManifest('crasher', { command: ['sh', '-c', 'echo "run at $(date +%s%N)"; exit 3'] }));
    await until(async () => ((await status('crasher')).containerStatuses?.[0]?.restartCount ?? 0) >= 3, 30_000);
    const st = await status('crasher');
    const c = st.containerStatuses[0];
    expect(st.phase).toBe('Running');
    expect(c.lastState.terminated).toMatchObject({ exitCode: 3, reason: 'Error' });
    expect(c.ready).toBe(false);
    await until(
      async () => (await status('crasher')).containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff',
      10_000,
    );
    expect(await eventsFor('crasher')).toContain('BackOff');
    const prev = await api('GET', '/api/v1/namespaces/default/pods/crasher/log?previous=true');
    expect(prev.status).toBe(200);
    expect(prev.text).toMatch(/^run at \d+/);
  });

  it('restarts a container whose liveness probe fails, and records why', async () => {
    await createPod(
      podManifest('unhealthy', {
        command: ['sleep', '600'],
        livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 2 },
      }),
    );
    await until(async () => ((await status('unhealthy')).containerStatuses?.[0]?.restartCount ?? 0) >= 1, 30_000);
    const reasons = await eventsFor('unhealthy');
    expect(reasons).toEqual(expect.arrayContaining(['Unhealthy', 'Killing']));
    expect((await status('unhealthy')).containerStatuses[0].lastState.terminated.exitCode).toBe(143); // SIGTERM
  });

  it('gates Ready on the readiness probe', async () => {
    const port = 20_000 + Math.floor(Math.random() * 20_000);
    const server = `setTimeout(() => require('http').createServer((q, r) => r.end('ok')).listen(${port}), 2500)`;
    await createPod(
      podManifest('slow-ready', {
        command: [process.execPath, '-e', server],
        readinessProbe: { httpGet: { path: '/', port }, periodSeconds: 1, failureThreshold: 1 },
      }),
    );
    await until(async () => (await status('slow-ready')).phase === 'Running', 20_000);
    const early = await status('slow-ready');
    expect(early.containerStatuses[0].ready).toBe(false);
    expect(early.conditions.find((c: any) => c.type === 'Ready').status).toBe('False');
    await until(async () => (await status('slow-ready')).containerStatuses[0].ready === true, 20_000);
    expect((await status('slow-ready')).conditions.find((c: any) => c.type === 'Ready').status).toBe('True');
  });

  it('gRPC probes (grpc.health.v1) gate Ready and restart an unhealthy service, and kubectl describe prints them', async () => {
    const server = new URL('../support/grpc-health-server.mjs', import.meta.url).pathname;
    const [okPort, sickPort] = [await freePort(), await freePort()];
    await createPod(
      podManifest('grpc-ok', {
        command: [process.execPath, server, String(okPort)],
        readinessProbe: { grpc: { port: okPort }, periodSeconds: 1 },
        livenessProbe: { grpc: { port: okPort, service: 'app' }, periodSeconds: 1 },
      }),
    );
    await createPod(
      podManifest(
        'grpc-sick',
        {
          command: [process.execPath, server, String(sickPort)],
          livenessProbe: {
            grpc: { port: sickPort, service: 'sick' },
            initialDelaySeconds: 2,
            periodSeconds: 1,
            failureThreshold: 2,
          },
        },
        { terminationGracePeriodSeconds: 1 },
      ),
    );
    await until(async () => (await status('grpc-ok')).containerStatuses?.[0]?.ready === true, 30_000);
    await until(async () => ((await status('grpc-sick')).containerStatuses?.[0]?.restartCount ?? 0) >= 1, 30_000);
    const unhealthy = (
      (
        await api(
          'GET',
          '/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=grpc-sick,reason=Unhealthy',
        )
      ).json.items as any[]
    ).map((e) => e.message);
    expect(unhealthy).toContainEqual(expect.stringContaining('service unhealthy (responded with "NOT_SERVING")'));
    expect((await status('grpc-ok')).containerStatuses[0].restartCount).toBe(0);
    // kubectl describe read grpc.service without a nil check: it is defaulted to "" as in Kubernetes.
    expect((await getPod('grpc-ok')).spec.containers[0].readinessProbe.grpc).toEqual({ port: okPort, service: '' });
    const dir = mkdtempSync(join(tmpdir(), 'kumo-describe-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfig({ server: s.url }));
    // Asynchronously: the API answering kubectl runs in this process.
    const described = await promisify(execFile)('kubectl', [
      '--kubeconfig',
      join(dir, 'kubeconfig'),
      'describe',
      'pod',
      'grpc-ok',
    ]).catch((e: { code?: string; stderr?: string }) => {
      if (e.code === 'ENOENT') return undefined; // no kubectl on this machine (CI has it)
      throw new Error(`kubectl describe failed: ${e.stderr}`);
    });
    rmSync(dir, { recursive: true, force: true });
    if (described) expect(described.stdout).toMatch(/Readiness:\s+grpc <pod>:\d+ \s*delay=0s timeout=1s period=1s/);
    for (const name of ['grpc-ok', 'grpc-sick'])
      await api('DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
  });

  it('counts the restarts of a container that cannot start (StartError) while it backs off', async () => {
    await createPod(podManifest('no-binary', { command: ['/nonexistent/kumo-binary'] }));
    await until(async () => ((await status('no-binary')).containerStatuses?.[0]?.restartCount ?? 0) >= 2, 30_000);
    const c = (await status('no-binary')).containerStatuses[0];
    expect(c.lastState.terminated).toMatchObject({ exitCode: 128, reason: 'StartError' });
    expect(['CrashLoopBackOff', undefined]).toContain(c.state.waiting?.reason);
    await api('DELETE', '/api/v1/namespaces/default/pods/no-binary?gracePeriodSeconds=0');
  });

  // As root the process runtime gives each container a mount namespace with the pod's own resolv.conf
  // and /etc/hosts (process-sandbox.ts); otherwise a pod asking for them waits, naming the field.
  it('gives a pod its own resolv.conf, /etc/hosts and hostname (dnsConfig, hostAliases, hostname) when the agent is root', async () => {
    const root = process.getuid?.() === 0;
    await createPod(
      podManifest(
        'own-etc',
        {
          command: [
            'sh',
            '-c',
            'cat /etc/resolv.conf /etc/hosts; echo "name=$(cat /proc/sys/kernel/hostname)"; sleep 600',
          ],
          // The probe runs through the same namespace: exec sees what the container sees.
          readinessProbe: { exec: { command: ['grep', '-q', 'aliased.example', '/etc/hosts'] }, periodSeconds: 1 },
        },
        {
          dnsPolicy: 'None',
          dnsConfig: { nameservers: ['127.0.0.53'], searches: ['kumo.test'], options: [{ name: 'ndots', value: '2' }] },
          hostAliases: [{ ip: '127.1.2.3', hostnames: ['aliased.example', 'other.example'] }],
          // A StatefulSet pod's identity: its own hostname, and its FQDN under the Service in /etc/hosts.
          hostname: 'db-0',
          subdomain: 'db',
        },
      ),
    );
    if (!root) {
      await until(
        async () =>
          (await status('own-etc')).containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
        20_000,
      );
      return;
    }
    await until(
      async () => (await status('own-etc')).conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'),
      30_000,
    );
    const log = (await api('GET', '/api/v1/namespaces/default/pods/own-etc/log')).text;
    expect(log).toContain('nameserver 127.0.0.53\nsearch kumo.test\noptions ndots:2\n');
    expect(log).toContain('# Entries added by HostAliases.\n127.1.2.3\taliased.example\tother.example');
    expect(log).toMatch(/\n127\.0\.0\.1\tdb-0\.db\.default\.svc\.\S+\tdb-0\n/);
    expect(log).toContain('name=db-0\n');
    expect(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()).not.toBe('db-0');
    // The host's own files are untouched.
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('aliased.example');
    expect(readFileSync('/etc/resolv.conf', 'utf8')).not.toContain('kumo.test');
    await api('DELETE', '/api/v1/namespaces/default/pods/own-etc?gracePeriodSeconds=0');
  });

  it('runs restartPolicy Never pods to Succeeded or Failed with their exit codes', async () => {
    await createPod(podManifest('ok-once', { command: ['sh', '-c', 'echo done'] }, { restartPolicy: 'Never' }));
    await createPod(podManifest('fail-once', { command: ['sh', '-c', 'exit 7'] }, { restartPolicy: 'Never' }));
    await until(
      async () => (await status('ok-once')).phase === 'Succeeded' && (await status('fail-once')).phase === 'Failed',
      20_000,
    );
    expect((await status('ok-once')).containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect((await status('fail-once')).containerStatuses[0].state.terminated).toMatchObject({
      exitCode: 7,
      reason: 'Error',
    });
  });

  it('runs init containers first, in order', async () => {
    await createPod({
      ...podManifest('with-init', {
        command: ['sh', '-c', 'cat ../order 2>/dev/null; echo main started; exec sleep 600'],
      }),
      spec: {
        initContainers: [
          { name: 'first', image: 'busybox:1.36', command: ['sh', '-c', 'echo first'] },
          { name: 'second', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 1; echo second'] },
        ],
        containers: [
          { name: 'main', image: 'busybox:1.36', command: ['sh', '-c', 'echo main started; exec sleep 600'] },
        ],
      },
    } as KubeObject);
    await until(async () => (await status('with-init')).phase === 'Running', 20_000);
    const st = await status('with-init');
    expect(st.initContainerStatuses.map((c: any) => c.state.terminated?.exitCode)).toEqual([0, 0]);
    const secondDone = Date.parse(st.initContainerStatuses[1].state.terminated.finishedAt);
    expect(Date.parse(st.containerStatuses[0].state.running.startedAt)).toBeGreaterThanOrEqual(secondDone - 1000);
    expect(st.conditions.find((c: any) => c.type === 'Initialized').status).toBe('True');
  });

  it('waits with CreateContainerConfigError when a referenced ConfigMap is missing, then starts once it exists', async () => {
    await createPod(
      podManifest('needs-config', { command: ['sleep', '600'], envFrom: [{ configMapRef: { name: 'later' } }] }),
    );
    await until(
      async () =>
        (await status('needs-config')).containerStatuses?.[0]?.state?.waiting?.reason === 'CreateContainerConfigError',
      20_000,
    );
    await s.api.service.create(T('ConfigMap'), 'default', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'later' },
      data: { A: 'b' },
    });
    await until(async () => (await status('needs-config')).phase === 'Running', 20_000);
  });

  it('stops a deleted pod gracefully (SIGTERM, then removal) and kills one that ignores SIGTERM after its grace period', async () => {
    await createPod(
      podManifest('polite', {
        command: ['sh', '-c', 'trap "echo got TERM; exit 0" TERM; while true; do sleep 0.1; done'],
      }),
    );
    await createPod(
      podManifest(
        'stubborn',
        { command: ['sh', '-c', 'trap "" TERM; while true; do sleep 0.1; done'] },
        { terminationGracePeriodSeconds: 2 },
      ),
    );
    await until(
      async () => (await status('polite')).phase === 'Running' && (await status('stubborn')).phase === 'Running',
      20_000,
    );
    const uid = (await getPod('polite')).metadata.uid;
    const t0 = Date.now();
    expect((await api('DELETE', '/api/v1/namespaces/default/pods/polite')).status).toBe(200);
    expect((await api('DELETE', '/api/v1/namespaces/default/pods/stubborn')).status).toBe(200);
    // Terminating first: the agent owns the stop.
    expect((await getPod('stubborn'))?.metadata?.deletionTimestamp).toBeTruthy();
    await until(async () => (await api('GET', '/api/v1/namespaces/default/pods/polite')).status === 404, 15_000);
    const politeGone = Date.now() - t0;
    await until(async () => (await api('GET', '/api/v1/namespaces/default/pods/stubborn')).status === 404, 15_000);
    const stubbornGone = Date.now() - t0;
    expect(politeGone).toBeLessThan(stubbornGone);
    expect(stubbornGone).toBeGreaterThanOrEqual(2000);
    expect(readFileSync(join(s.logDir, `default_polite_${uid}`, 'main.log'), 'utf8')).toContain('got TERM');
  });
});

describe('lease renewals', () => {
  it('renews once per heartbeat however many syncs a burst makes; the syncs between only check the epoch', async () => {
    const client = partition.client as PartitionableClient;
    const from = client.syncs.length;
    await Promise.all(
      ['burst-1', 'burst-2', 'burst-3'].map((name) => createPod(podManifest(name, { command: ['sleep', '600'] }))),
    );
    await until(
      async () =>
        (await Promise.all(['burst-1', 'burst-2', 'burst-3'].map(status))).every((st) => st.phase === 'Running'),
      20_000,
    );
    const burst = client.syncs.slice(from);
    // This stack's heartbeat is 1 s: a sync renews once 0.8 s have passed since the last renewal.
    expect(burst.filter((x) => !x.renew).length).toBeGreaterThan(0);
    const renewals = burst.filter((x) => x.renew).map((x) => x.atMs);
    // (recorded when the answer came back, so two renewals' spacing can shrink by one round trip)
    for (let i = 1; i < renewals.length; i++)
      expect((renewals[i] as number) - (renewals[i - 1] as number)).toBeGreaterThanOrEqual(600);
    const lease = await s.leases.get('proc-node-1');
    expect(Date.now() - (lease?.renewedAtMs ?? 0)).toBeLessThan(2_000);
  });
});

describe('wake-ups', () => {
  it('a wake-up that arrives while a fetch is in flight brings another fetch (the answer may predate the bind)', async () => {
    const client = partition.client as PartitionableClient;
    let release = () => {};
    client.holdFetch = new Promise<void>((r) => (release = r));
    // The next fetch (this stack resyncs every 5 s) is answered, then held back.
    await until(async () => client.holding, 10_000);
    const heldFrom = client.syncs.length;
    const wakeupsBefore = agent.stats.wakeups;
    await createPod(podManifest('late', { command: ['sleep', '600'] }));
    await until(async () => agent.stats.wakeups > wakeupsBefore, 20_000);
    client.holdFetch = undefined;
    release();
    await until(async () => client.syncs.length > heldFrom + 1, 10_000);
    // The held fetch, then another one at once, not at the next resync.
    expect(client.syncs.slice(heldFrom, heldFrom + 2).map((x) => x.fetch)).toEqual([true, true]);
    await until(async () => (await status('late')).phase === 'Running', 20_000);
  });
});

describe('fencing', () => {
  it('answers a sync with a stale epoch with 409 NodeFenced and rejects malformed agent requests with 400', async () => {
    const lease = await s.leases.get('proc-node-1');
    const stale = await api('POST', '/kumo/v1/nodes/proc-node-1/sync', { epoch: (lease?.epoch ?? 1) + 100 });
    expect(stale.status).toBe(409);
    expect(stale.json).toMatchObject({ kind: 'Status', reason: 'NodeFenced', code: 409 });
    const bad = await api('POST', '/kumo/v1/nodes/proc-node-1/sync', { epoch: 'one' });
    expect(bad.status).toBe(400);
    expect(bad.json.details.causes[0].field).toBe('epoch');
    expect((await api('POST', '/kumo/v1/nodes/Not_A_Name/sync', { epoch: 1 })).status).toBe(400);
  });

  it('an agent that returns from a partition after its node was declared dead stops the pods that moved away, then registers afresh', async () => {
    await createPod(podManifest('partitioned', { command: ['sh', '-c', 'while true; do echo tick; sleep 0.1; done'] }));
    await until(async () => (await status('partitioned')).phase === 'Running', 20_000);
    const uid = (await getPod('partitioned')).metadata.uid;
    const before = await s.leases.get('proc-node-1');
    const client = partition.client as PartitionableClient;
    client.cut = true;
    // What the node lifecycle controller does to a node whose lease ran out: fence it, evict its pods.
    await until(async () => {
      const l = await s.leases.get('proc-node-1');
      return !!l && (await s.leases.expire('proc-node-1', l.epoch, l.renewedAtMs));
    }, 10_000);
    expect((await api('DELETE', '/api/v1/namespaces/default/pods/partitioned?gracePeriodSeconds=0')).status).toBe(200);
    const fencedBefore = agent.stats.fenced;
    client.cut = false;
    await until(() => agent.stats.fenced > fencedBefore, 15_000);
    // Fenced once (epoch + 1 by the control plane), registered again (+ 1 by the agent).
    await until(async () => ((await s.leases.get('proc-node-1'))?.epoch ?? 0) > (before?.epoch ?? 0) + 1, 15_000);
    const after = await s.leases.get('proc-node-1');
    expect(after?.epoch).toBeGreaterThan((before?.epoch ?? 0) + 1);
    expect(after?.expired).toBe(false);
    // Its process is gone: the log stops growing.
    const log = join(s.logDir, `default_partitioned_${uid}`, 'main.log');
    await new Promise((r) => setTimeout(r, 500));
    const size = readFileSync(log, 'utf8').length;
    await new Promise((r) => setTimeout(r, 1000));
    expect(readFileSync(log, 'utf8').length).toBe(size);
    // The other pods came back under the new epoch (they were not moved).
    await until(async () => (await status('hello')).phase === 'Running', 20_000);
  });
});

describe('kubectl with a real agent', () => {
  const run = promisify(execFile);
  const kubectlPath = spawnSync('sh', ['-c', 'command -v kubectl']).stdout.toString().trim();
  const kubectl = async (...args: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-kubectl-agent-'));
    writeFileSync(join(dir, 'kubeconfig'), kubeconfig({ server: s.url }));
    return (
      await run(kubectlPath, ['--kubeconfig', join(dir, 'kubeconfig'), '--cache-dir', join(dir, 'cache'), ...args], {
        timeout: 60_000,
      })
    ).stdout;
  };

  it.skipIf(!kubectlPath)('logs (current, --tail, --previous) and get pods -o wide', async () => {
    expect(await kubectl('logs', 'hello')).toContain('hello from a configmap / s3cret / hello on proc-node-1');
    expect(await kubectl('logs', 'crasher', '--tail=1')).toMatch(/^run at \d+\n$/);
    expect(await kubectl('logs', 'crasher', '--previous')).toMatch(/^run at \d+/);
    const wide = await kubectl('get', 'pods', '-o', 'wide');
    expect(wide).toMatch(/hello\s+1\/1\s+Running\s+0\s+\S+\s+127\.0\.0\.1\s+proc-node-1/);
    expect(await kubectl('get', 'nodes')).toMatch(/proc-node-1\s+Ready/);
  });
});
