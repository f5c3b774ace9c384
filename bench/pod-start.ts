/**
 * Pod start on the docker runtime with pod sandboxes (issue 17), measured side by side in one run:
 *   1. create → Running for pods with two volumes (an emptyDir and a configMap) and for the same pods
 *      without volumes, alternated so both see the same machine; the engine's own floor (a bare
 *      container created and started through the Docker API) is measured in the same rounds;
 *   2. with `--idle-pods` running pods (each with an exec readiness probe every 10 s, the kubelet
 *      default period), the CPU of the agent and of the engine (podman's service and its conmon
 *      processes) over an idle window.
 *
 *   npm run bench:pod-start [-- --pods 50 --idle-pods 20 --idle-seconds 60]
 *
 * Needs podman (ARCHITECTURE.md §8). Everything runs on loopback and in podman's own network.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DockerApi } from '../shared/agent/runtime/docker-api.js';
import { startDockerBenchStack, stopBenchStacks } from './docker-stack.js';
import { percentile } from './harness.js';

const { values: args } = parseArgs({
  options: {
    pods: { type: 'string', default: '50' },
    'idle-pods': { type: 'string', default: '20' },
    'idle-seconds': { type: 'string', default: '60' },
  },
});
const PODS = Number(args.pods);
const IDLE_PODS = Number(args['idle-pods']);
const IDLE_S = Number(args['idle-seconds']);
const CLOCK_TICKS = 100;
/** Every wait is bounded: a pod that does not start within this fails the run. */
const START_TIMEOUT_MS = 60_000;

const cpuTicks = (pid: number) => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return Number(f[11]) + Number(f[12]);
  } catch {
    return 0; // gone since it was listed
  }
};
/** Processes whose command line contains `needle` (the engine's service, its conmons). */
const pidsOf = (needle: (cmd: string) => boolean) =>
  readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map(Number)
    .filter((pid) => {
      try {
        return needle(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        return false;
      }
    });
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s.at(-1) ?? 0 };
};
const fmt = (x: { p50: number; p99: number; max: number }) =>
  `p50 ${x.p50.toFixed(0)} ms, p99 ${x.p99.toFixed(0)} ms, max ${x.max.toFixed(0)} ms`;

async function main() {
  const stack = await startDockerBenchStack({ name: 'podstart', nodeName: 'bench-docker-node' });
  const { engine, agent, api } = stack;
  await api('POST', '/api/v1/namespaces/default/configmaps', {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'bench-config' },
    data: { 'app.conf': 'answer=42\n' },
  });
  // Warm the engine: the first sandbox and container pay image lookups once.
  const pod = (name: string, volumes: boolean, probe = false) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels: { bench: 'pod-start' } },
    spec: {
      terminationGracePeriodSeconds: 0,
      containers: [
        {
          name: 'c',
          image: engine?.image,
          imagePullPolicy: 'IfNotPresent',
          command: ['sleep', '3600'],
          resources: { requests: { cpu: '1m', memory: '1Mi' } },
          ...(probe ? { readinessProbe: { exec: { command: ['true'] }, periodSeconds: 10 } } : {}),
          ...(volumes
            ? {
                volumeMounts: [
                  { name: 'scratch', mountPath: '/scratch' },
                  { name: 'config', mountPath: '/etc/app' },
                ],
              }
            : {}),
        },
      ],
      ...(volumes
        ? {
            volumes: [
              { name: 'scratch', emptyDir: {} },
              { name: 'config', configMap: { name: 'bench-config' } },
            ],
          }
        : {}),
    },
  });
  const startOne = async (name: string, volumes: boolean): Promise<number> => {
    const t = performance.now();
    const r = await api('POST', '/api/v1/namespaces/default/pods', pod(name, volumes));
    if (r.status !== 201) throw new Error(`create ${name}: ${r.status} ${JSON.stringify(r.json)}`);
    for (;;) {
      const p = await api('GET', `/api/v1/namespaces/default/pods/${name}`);
      if (p.json?.status?.phase === 'Running') return performance.now() - t;
      if (performance.now() - t > START_TIMEOUT_MS) throw new Error(`${name} did not start in 60 s`);
      await new Promise((res) => setTimeout(res, 10));
    }
  };
  const docker = new DockerApi(engine.socket);
  const bareContainer = async (i: number): Promise<number> => {
    const t = performance.now();
    const c = await docker.call<{ Id: string }>('POST', `/containers/create?name=bench-bare-${i}`, {
      Image: engine?.image,
      Entrypoint: ['sleep', '3600'],
      Cmd: [],
      Labels: { 'io.kumo.node': 'bench-bare' },
    });
    await docker.call('POST', `/containers/${c.Id}/start`);
    const ms = performance.now() - t;
    await docker.call('DELETE', `/containers/${c.Id}?force=true`);
    return ms;
  };
  /** The sandbox's own cost at the engine: a pause container, then a container joining its namespaces. */
  const barePair = async (i: number): Promise<number> => {
    const t = performance.now();
    const sandbox = await docker.call<{ Id: string }>('POST', `/containers/create?name=bench-pause-${i}`, {
      Image: engine?.sandboxImage,
      Labels: { 'io.kumo.node': 'bench-bare' },
      HostConfig: { IpcMode: 'shareable' },
    });
    await docker.call('POST', `/containers/${sandbox.Id}/start`);
    await docker.call('GET', `/containers/${sandbox.Id}/json`);
    const join = `container:${sandbox.Id}`;
    const c = await docker.call<{ Id: string }>('POST', `/containers/create?name=bench-member-${i}`, {
      Image: engine?.image,
      Entrypoint: ['sleep', '3600'],
      Cmd: [],
      Labels: { 'io.kumo.node': 'bench-bare' },
      HostConfig: { NetworkMode: join, IpcMode: join, UTSMode: join },
    });
    await docker.call('POST', `/containers/${c.Id}/start`);
    const ms = performance.now() - t;
    await docker.call('DELETE', `/containers/${c.Id}?force=true`);
    await docker.call('DELETE', `/containers/${sandbox.Id}?force=true`);
    return ms;
  };
  await startOne('warm-up', true);
  await api('DELETE', '/api/v1/namespaces/default/pods/warm-up?gracePeriodSeconds=0');

  const withVolumes: number[] = [];
  const without: number[] = [];
  const bare: number[] = [];
  const pair: number[] = [];
  for (let i = 0; i < PODS; i++) {
    // Alternate which goes first, so neither always meets the other's tail.
    const order = i % 2 === 0 ? [true, false] : [false, true];
    for (const v of order) {
      (v ? withVolumes : without).push(await startOne(`${v ? 'vol' : 'plain'}-${i}`, v));
      await new Promise((r) => setTimeout(r, 200));
    }
    bare.push(await bareContainer(i));
    pair.push(await barePair(i));
  }
  const w = stats(withVolumes);
  const n = stats(without);
  console.log(
    `\n# pod start on the docker runtime (podman ${engine.socket ? 'service' : ''}, runc), n=${PODS} each, one run`,
  );
  console.log(`bare container (Docker API create+start, no pod)  ${fmt(stats(bare))}`);
  console.log(`bare sandbox + joined container (Docker API)      ${fmt(stats(pair))}`);
  console.log(`pod with sandbox, no volumes                      ${fmt(n)}`);
  console.log(`pod with sandbox + emptyDir + configMap           ${fmt(w)}`);
  console.log(
    `volumes add at p99: ${(((w.p99 - n.p99) / n.p99) * 100).toFixed(1)} %, at p50: ${(((w.p50 - n.p50) / n.p50) * 100).toFixed(1)} %   (target: sandbox + volumes ≤ 30 % at p99)`,
  );
  const clear = async (names: string[]) => {
    for (const name of names) await api('DELETE', `/api/v1/namespaces/default/pods/${name}?gracePeriodSeconds=0`);
    const deadline = Date.now() + 120_000;
    const filter = encodeURIComponent(JSON.stringify({ label: ['io.kumo.node=bench-docker-node'] }));
    while ((await docker.call<unknown[]>('GET', `/containers/json?all=true&filters=${filter}`)).length) {
      if (Date.now() > deadline) throw new Error('the pods were not removed in 120 s');
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  await clear([...withVolumes.keys()].flatMap((i) => [`vol-${i}`, `plain-${i}`]));

  // 2: idle CPU with running pods, first without probes, then each with an exec readiness probe.
  const idle = async (probe: boolean) => {
    const names = Array.from({ length: IDLE_PODS }, (_, i) => `idle-${probe ? 'probed' : 'plain'}-${i}`);
    for (const name of names) {
      const r = await api('POST', '/api/v1/namespaces/default/pods', pod(name, true, probe));
      if (r.status !== 201) throw new Error(`create ${name}: ${r.status}`);
    }
    const readyDeadline = Date.now() + 120_000;
    for (;;) {
      const items = ((await api('GET', '/api/v1/namespaces/default/pods?labelSelector=bench%3Dpod-start')).json
        ?.items ?? []) as { status?: { containerStatuses?: { ready?: boolean }[] } }[];
      if (items.filter((p) => p.status?.containerStatuses?.[0]?.ready).length >= IDLE_PODS) break;
      if (Date.now() > readyDeadline) throw new Error(`${IDLE_PODS} pods were not ready in 120 s`);
      await new Promise((r) => setTimeout(r, 500));
    }
    await new Promise((r) => setTimeout(r, 5000)); // settle
    const agentPid = agent?.pid as number;
    const servicePids = pidsOf((c) => c.includes('system service') && c.includes(engine?.socket ?? '\0'));
    const conmons = pidsOf((c) => /(^|\/)conmon /.test(c));
    const sample = () => ({
      agent: cpuTicks(agentPid),
      service: servicePids.reduce((a, p) => a + cpuTicks(p), 0),
      conmon: conmons.reduce((a, p) => a + cpuTicks(p), 0),
      at: performance.now(),
    });
    const s0 = sample();
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const s1 = sample();
    const seconds = (s1.at - s0.at) / 1000;
    const pct = (ticks: number) => ((ticks / CLOCK_TICKS / seconds) * 100).toFixed(2);
    console.log(
      `\n# idle CPU with ${IDLE_PODS} running pods ${probe ? '(an exec readiness probe every 10 s each)' : '(no probes)'}, ${seconds.toFixed(0)} s window`,
    );
    console.log(`agent                     ${pct(s1.agent - s0.agent)} % of one core   (target ≤ 1 %)`);
    console.log(`engine: podman service    ${pct(s1.service - s0.service)} % of one core`);
    console.log(
      `engine: ${String(conmons.length).padStart(3)} conmon       ${pct(s1.conmon - s0.conmon)} % of one core`,
    );
    if (probe) console.log(`exec probes in the window ~${Math.round((IDLE_PODS * seconds) / 10)}`);
    await clear(names);
  };
  await idle(false);
  await idle(true);

  docker.close();
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
