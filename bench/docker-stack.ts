import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { handleApiRequest } from '../shared/apiserver/http/handler.js';
import { fromHttpApiEvent, toHttpApiResult } from '../shared/apiserver/http/api-gateway.js';
import { functionHandlers } from '../local/event-path.js';
import { serveLambda } from '../local/lambda-http.js';
import { ensureSystemNamespaces } from '../local/setup.js';
import { stopChild } from '../local/processes.js';
import { startPodman, type Podman } from '../local/podman.js';
import { benchApiDeps, benchEventPath, startBackends, useBackendsForHandlers } from './harness.js';

/**
 * What the benchmarks on podman share: the control plane (DynamoDB Local, the SQS emulator, the API as
 * a Lambda, the event path) and one agent as it ships (the bundle, its own process) on the docker
 * runtime, registered before this returns.
 */
export interface DockerBenchStack {
  engine: Podman;
  agent: ChildProcess;
  /** The agent's stdout so far. */
  agentLog: string[];
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json?: Record<string, any> }>;
  stop(): Promise<void>;
}

/** Started and not yet stopped: a failed run stops them too (stopBenchStacks), leaving nothing behind. */
const running = new Set<DockerBenchStack>();

export async function startDockerBenchStack(o: {
  name: string;
  nodeName: string;
  agentEnv?: Record<string, string>;
}): Promise<DockerBenchStack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    running.delete(stack);
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
  };
  const stack: DockerBenchStack = { stop } as DockerBenchStack;
  running.add(stack);
  const dataDir = mkdtempSync(join(tmpdir(), `kumo-bench-${o.name}-`));
  stops.push(async () => rmSync(dataDir, { recursive: true, force: true }));
  const b = await startBackends();
  stops.push(() => b.stop());
  const engine = await startPodman();
  stops.push(() => engine.stop());
  const prefix = `bench-${b.tableName.slice(-8)}`;
  useBackendsForHandlers(b, { KUMO_NODE_QUEUE_PREFIX: prefix });
  const deps = benchApiDeps(b, dataDir, prefix);
  await ensureSystemNamespaces(deps.service);
  const server = await serveLambda(async (event) =>
    toHttpApiResult(await handleApiRequest(fromHttpApiEvent(event), deps)),
  );
  stops.push(() => server.close());
  const path = await benchEventPath(b, await functionHandlers(), { sweepIntervalMs: 3_600_000 });
  stops.push(() => path.stop());
  const agent = spawn(process.execPath, [join(import.meta.dirname, '..', 'dist', 'kumo-agent.mjs')], {
    env: {
      PATH: process.env.PATH,
      KUMO_AGENT_SERVER: server.url,
      KUMO_AGENT_NODE_NAME: o.nodeName,
      KUMO_AGENT_RUNTIME: 'docker',
      KUMO_AGENT_DOCKER_SOCKET: engine.socket,
      KUMO_AGENT_SANDBOX_IMAGE: engine.sandboxImage,
      KUMO_AGENT_DATA_DIR: dataDir,
      KUMO_LOG_DIR: join(dataDir, 'logs'),
      KUMO_AGENT_INTERNAL_IP: '127.0.0.1',
      KUMO_SQS_ENDPOINT: b.sqsEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      ...o.agentEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  stops.push(() => stopChild(agent));
  const agentLog: string[] = [];
  agent.stdout?.on('data', (d: Buffer) => agentLog.push(d.toString()));
  Object.assign(stack, {
    engine,
    agent,
    agentLog,
    api: async (method: string, p: string, body?: unknown) => {
      const res = await fetch(`${server.url}${p}`, {
        method,
        headers: { 'content-type': 'application/json' },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
      return { status: res.status, json: (await res.json().catch(() => undefined)) as Record<string, any> | undefined };
    },
  });
  const deadline = Date.now() + 30_000;
  while (!agentLog.join('').includes('registered')) {
    if (Date.now() > deadline) throw new Error('the agent did not register in 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return stack;
}

export async function stopBenchStacks(): Promise<void> {
  for (const s of [...running]) await s.stop();
}
