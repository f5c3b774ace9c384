/**
 * The node agent's footprint and what it costs the control plane (issue 4's targets):
 *   1. idle agent RSS and CPU over a window (the bundled agent as its own process);
 *   2. control-plane requests per node-hour at idle with the default timings, priced with
 *      ARCHITECTURE.md §7 (us-east-1 list prices) per node-month;
 *   3. pod start latency, create → Running, on an idle stack with the process runtime.
 *
 *   npm run bench:agent [-- --idle-seconds 60 --pods 50]
 */
import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { TokenService } from '../shared/auth/token-service.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { handleApiRequest } from '../shared/apiserver/http/handler.js';
import { fromHttpApiEvent, toHttpApiResult } from '../shared/apiserver/http/api-gateway.js';
import { systemClock } from '../shared/util/clock.js';
import { DEFAULT_NODE_TIMINGS } from '../shared/apiserver/node-service.js';
import { functionHandlers } from '../local/event-path.js';
import { serveLambda } from '../local/lambda-http.js';
import { ensureSystemNamespaces } from '../local/setup.js';
import { stopChild } from '../local/processes.js';
import { dynamoCensus, requireCounted } from './dynamo-census.js';
import { benchApiDeps, benchEventPath, percentile, startBackends, useBackendsForHandlers } from './harness.js';

/** Extra node flags for the agent (none on nodes: heap caps did not lower RSS here, the code's footprint dominates). */
const AGENT_NODE_FLAGS = '';
const { values: args } = parseArgs({
  options: {
    'idle-seconds': { type: 'string', default: '60' },
    pods: { type: 'string', default: '50' },
    'node-flags': { type: 'string', default: AGENT_NODE_FLAGS },
  },
});
const IDLE_S = Number(args['idle-seconds']);
console.log(`agent node flags: ${args['node-flags'] || '(none)'}`);
const PODS = Number(args.pods);

/** §7 list prices (USD per million) and Lambda's GB-second price. */
const PRICE = {
  lambdaRequest: 0.2,
  dynamoWrite: 0.625,
  dynamoRead: 0.125,
  httpApi: 1.0,
  sqs: 0.4,
  lambdaGbSecond: 0.0000166667,
};
const NODE_FUNCTION_GB = 0.25; // serverless.yml: nodes.memorySize 256
const MONTH_S = 30 * 24 * 3600;

const procStat = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return { cpuTicks: Number(fields[11]) + Number(fields[12]) }; // utime + stime
};
const rssBytes = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const CLOCK_TICKS = 100;

async function main() {
  const b = await startBackends();
  backends = b;
  const dataDir = mkdtempSync(join(tmpdir(), 'kumo-bench-agent-'));
  const prefix = `bench-${b.tableName.slice(-8)}`;
  useBackendsForHandlers(b, { KUMO_NODE_QUEUE_PREFIX: prefix });
  const sqsEndpoint = b.sqsEndpoint;

  // The API the agents talk to, with its DynamoDB requests counted (the same handler code as on AWS).
  const census = dynamoCensus();
  const tokens = new DynamoTokenStore(b.dynamo, b.tableName);
  // As on AWS, the agent presents its own node credential, checked (and cached) by the API.
  const deps = benchApiDeps(b, dataDir, prefix, tokens);
  const nodeToken = (await new TokenService(tokens, systemClock).issueNodeCredential('bench-node')).token;
  await ensureSystemNamespaces(deps.service);
  const calls = { register: 0, sync: 0, other: 0 };
  const handlerMs: number[] = [];
  const server = await serveLambda(async (event) => {
    const t = performance.now();
    const path = event.rawPath;
    if (path.endsWith('/sync')) calls.sync++;
    else if (path.endsWith('/register')) calls.register++;
    else calls.other++;
    const res = toHttpApiResult(await handleApiRequest(fromHttpApiEvent(event), deps));
    if (path.endsWith('/sync')) handlerMs.push(performance.now() - t);
    return res;
  });
  const path = await benchEventPath(b, await functionHandlers(), { sweepIntervalMs: 3_600_000 });

  // The agent as it ships: the bundle, plain node, its own process.
  const agent = spawn(
    process.execPath,
    [
      ...(args['node-flags'] ?? '').split(' ').filter(Boolean),
      join(import.meta.dirname, '..', 'dist', 'kumo-agent.mjs'),
    ],
    {
      env: {
        PATH: process.env.PATH,
        KUMO_AGENT_SERVER: server.url,
        KUMO_AGENT_NODE_NAME: 'bench-node',
        KUMO_AGENT_TOKEN: nodeToken,
        KUMO_AGENT_DATA_DIR: dataDir,
        KUMO_LOG_DIR: join(dataDir, 'logs'),
        KUMO_AGENT_INTERNAL_IP: '127.0.0.1',
        KUMO_SQS_ENDPOINT: sqsEndpoint,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'local',
        AWS_SECRET_ACCESS_KEY: 'local',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const agentLog: string[] = [];
  agent.stdout?.on('data', (d: Buffer) => agentLog.push(d.toString()));
  const pid = agent.pid as number;
  while (!agentLog.join('').includes('registered')) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 3000)); // settle: first fetch done, long-poll started

  // 1 + 2: idle footprint and request pattern.
  census.take();
  const before = { ...calls, cpu: procStat(pid).cpuTicks };
  const rss: number[] = [];
  const t0 = Date.now();
  while (Date.now() - t0 < IDLE_S * 1000) {
    rss.push(rssBytes(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const windowS = (Date.now() - t0) / 1000;
  const cpuS = (procStat(pid).cpuTicks - before.cpu) / CLOCK_TICKS;
  const syncs = calls.sync - before.sync;
  const counted = census.take();
  // Heartbeats write the node's status: an idle hour that wrote nothing was not counted, not free.
  requireCounted(counted, `${windowS.toFixed(0)} s of an idle agent's heartbeats`);
  const writes = counted.itemWrites;
  const reads = counted.readRequests;
  // The agent's long-polls: one ReceiveMessage per 20 s wait while nothing happens (counted from its timing, SQS is external).
  const receives = windowS / 20;
  const perHour = (n: number) => (n / windowS) * 3600;
  const sorted = [...handlerMs].sort((x, y) => x - y);
  const meanMs = sorted.reduce((a, x) => a + x, 0) / Math.max(1, sorted.length);
  const perMonth = (n: number) => (n / windowS) * MONTH_S;
  const cost = {
    lambdaRequests: (perMonth(syncs) * PRICE.lambdaRequest) / 1e6,
    lambdaDuration:
      ((perMonth(syncs) * NODE_FUNCTION_GB * Math.max(1, Math.ceil(meanMs))) / 1000) * PRICE.lambdaGbSecond,
    dynamoWrites: (perMonth(writes) * PRICE.dynamoWrite) / 1e6,
    // Idle fetches read an empty index page: 0.5 read unit each (eventually consistent, under 4 KB).
    dynamoReads: (perMonth(reads) * 0.5 * PRICE.dynamoRead) / 1e6,
    sqsLongPolls: (perMonth(receives) * PRICE.sqs) / 1e6,
  };
  const total = Object.values(cost).reduce((a, x) => a + x, 0);
  const viaHttpApi = total + (perMonth(syncs) * PRICE.httpApi) / 1e6;

  console.log(
    `\n# node agent benchmark (process runtime, default timings: heartbeat ${DEFAULT_NODE_TIMINGS.heartbeatSeconds}s, resync ${DEFAULT_NODE_TIMINGS.resyncSeconds}s, long-poll 20s)`,
  );
  console.log(`idle window                 ${windowS.toFixed(0)} s`);
  console.log(
    `idle RSS                    max ${(Math.max(...rss) / 2 ** 20).toFixed(1)} MiB, median ${(
      percentile(
        [...rss].sort((x, y) => x - y),
        50,
      ) /
      2 ** 20
    ).toFixed(1)} MiB   (target ≤ 50 MB)`,
  );
  console.log(`idle CPU                    ${((cpuS / windowS) * 100).toFixed(3)} % of one core   (target ≤ 0.5 %)`);
  console.log(
    `requests per node-hour      ${perHour(syncs).toFixed(0)} sync calls (Lambda), ${perHour(writes).toFixed(0)} DynamoDB writes, ${perHour(reads).toFixed(0)} DynamoDB reads, ${perHour(receives).toFixed(0)} SQS long-polls`,
  );
  console.log(
    `   by target                ${counted.byTarget.map(([k, n]) => `${k} ${perHour(n).toFixed(0)}`).join(', ')}`,
  );
  console.log(
    `sync handler time           mean ${meanMs.toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms (here; billed at ≥ 1 ms, 256 MB)`,
  );
  console.log(
    `cost per node-month         $${total.toFixed(3)} via the function URL  (target ≤ $0.25; EKS fee at 100 nodes: $0.73)`,
  );
  for (const [k, v] of Object.entries(cost)) console.log(`   ${k.padEnd(24)} $${v.toFixed(4)}`);
  console.log(`   (through API Gateway HTTP API instead: $${viaHttpApi.toFixed(3)})`);

  // 3: pod start latency on the idle stack.
  const latencies: number[] = [];
  for (let i = 0; i < PODS; i++) {
    const name = `lat-${i}`;
    const t = performance.now();
    const res = await fetch(`${server.url}/api/v1/namespaces/default/pods`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name },
        spec: {
          containers: [
            {
              name: 'c',
              image: 'busybox',
              command: ['sleep', '600'],
              resources: { requests: { cpu: '1m', memory: '1Mi' } },
            },
          ],
        },
      }),
    });
    if (res.status !== 201) throw new Error(`create failed: ${res.status} ${await res.text()}`);
    for (;;) {
      const p = (await (await fetch(`${server.url}/api/v1/namespaces/default/pods/${name}`)).json()) as {
        status?: { phase?: string };
      };
      if (p.status?.phase === 'Running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    latencies.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 200)); // idle between pods: each start is measured from rest
  }
  const lat = [...latencies].sort((x, y) => x - y);
  console.log(
    `pod start, create → Running  n=${PODS}: p50 ${percentile(lat, 50).toFixed(0)} ms, p90 ${percentile(lat, 90).toFixed(0)} ms, p99 ${percentile(lat, 99).toFixed(0)} ms, max ${lat.at(-1)?.toFixed(0)} ms   (target p99 ≤ 1 s)`,
  );

  await stopChild(agent);
  await path.stop();
  // Backends first: a keep-alive socket can hold server.close() open past the end of the event loop.
  await b.stop();
  backends = undefined;
  await server.close();
  rmSync(dataDir, { recursive: true, force: true });
}

/** Stopped on failure too, so a crashed run leaves no DynamoDB Local or SQS emulator behind. */
let backends: { stop(): Promise<void> } | undefined;

main().then(
  () => process.exit(0),
  async (e: unknown) => {
    console.error(e);
    await backends?.stop().catch(() => undefined);
    process.exit(1);
  },
);
