/**
 * Watches over the change log (shared/store/change-log.ts): W watchers of one namespace's pods, over
 * the real API handler on HTTP, while C pods are created and then deleted in it; the same with a
 * namespace of 100 and of 1,000 pods side by side, so the cost per event can be seen not to follow
 * the collection's size. Prints delivery latency (write acknowledged → event received) p50/p99,
 * DynamoDB reads per delivered event, an idle watcher's reads per second, and the cost of a
 * watcher-hour on AWS from those figures.
 *
 *   npm run bench:watch -- [--watchers 20] [--sizes 100,1000] [--churn 100] [--idle-seconds 10]
 */
import { parseArgs } from 'node:util';
import { serveLambda } from '../local/lambda-http.js';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { typeByKindName } from '../shared/model/kinds.js';
import type { ResourceType } from '../shared/model/kinds.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { systemClock } from '../shared/util/clock.js';
import { dynamoCensus, requireCounted } from './dynamo-census.js';
import { percentile, startBackends, useBackendsForHandlers } from './harness.js';

const { values } = parseArgs({
  options: {
    watchers: { type: 'string', default: '20' },
    sizes: { type: 'string', default: '100,1000' },
    churn: { type: 'string', default: '100' },
    'idle-seconds': { type: 'string', default: '10' },
  },
});
const WATCHERS = Number(values.watchers);
const SIZES = values.sizes.split(',').map(Number);
const CHURN = Number(values.churn);
const IDLE_SECONDS = Number(values['idle-seconds']);
/** Every wait below ends by this, whatever happens. */
const DELIVERY_TIMEOUT_MS = 60_000;

const census = dynamoCensus();
const b = await startBackends();
useBackendsForHandlers(b);
const store = new DynamoStore(b.dynamo, b.tableName, systemClock);
const service = apiDeps(store, systemClock, console.error).service;
const { handler } = await import('../functions/api.js');
const server = await serveLambda(handler);
const POD = typeByKindName('Pod') as ResourceType;
const NAMESPACE = typeByKindName('Namespace') as ResourceType;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

const pod = (ns: string, name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels: { app: 'bench' } },
  spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
});

/** A client watching as informers do: list, then watch from the list's version, again from the last one sent. */
function watcher(ns: string, arrivals: Map<string, number>) {
  let stopped = false;
  let requests = 0;
  const done = (async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    let rv = (await api('GET', `${path}?limit=1`)).metadata.resourceVersion as string;
    while (!stopped) {
      requests++;
      const res = await fetch(`${server.url}${path}?watch=true&allowWatchBookmarks=true&resourceVersion=${rv}`);
      for (const line of (await res.text()).split('\n')) {
        if (!line.trim()) continue;
        const e = JSON.parse(line) as { type: string; object: { metadata: { name: string; resourceVersion: string } } };
        if (e.type === 'ERROR') throw new Error(`watch error: ${line}`);
        rv = e.object.metadata.resourceVersion;
        if (e.type !== 'BOOKMARK') arrivals.set(`${e.type}:${e.object.metadata.name}`, performance.now());
      }
    }
  })();
  return {
    requests: () => requests,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

const watchReads = (t: ReturnType<typeof census.take>) =>
  t.byTarget.filter(([target]) => target.startsWith('Query ChangeLog')).reduce((n, [, c]) => n + c, 0);

interface Figures {
  size: number;
  p50: number;
  p99: number;
  delivered: number;
  expected: number;
  readsPerEvent: number;
  idleReadsPerWatcherSecond: number;
  idleRequestsPerWatcherSecond: number;
  lateWrites: number;
}

async function run(size: number): Promise<Figures> {
  const ns = `watch-${size}`;
  await service.create(NAMESPACE, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
  for (let i = 0; i < size; i += 25)
    await service.createAll(
      POD,
      ns,
      Array.from({ length: Math.min(25, size - i) }, (_, j) => pod(ns, `base-${i + j}`)),
    );
  await sleep(1_000);
  const arrivals = Array.from({ length: WATCHERS }, () => new Map<string, number>());
  const watchers = arrivals.map((a) => watcher(ns, a));
  await sleep(1_500); // every watcher has listed and is watching

  // Idle: nothing changes; what a quiet watcher costs.
  census.take();
  const idleStart = watchers.reduce((n, w) => n + w.requests(), 0);
  await sleep(IDLE_SECONDS * 1000);
  const idle = census.take();
  const idleRequests = watchers.reduce((n, w) => n + w.requests(), 0) - idleStart;

  // Churn: C creates, then C deletes, one after another (each acknowledged before the next).
  const acked = new Map<string, number>();
  const lateBefore = store.lateWrites;
  for (let i = 0; i < CHURN; i++) {
    await api('POST', `/api/v1/namespaces/${ns}/pods`, pod(ns, `churn-${i}`));
    acked.set(`ADDED:churn-${i}`, performance.now());
  }
  for (let i = 0; i < CHURN; i++) {
    await api('DELETE', `/api/v1/namespaces/${ns}/pods/churn-${i}`);
    acked.set(`DELETED:churn-${i}`, performance.now());
  }
  const deadline = performance.now() + DELIVERY_TIMEOUT_MS;
  const complete = () => arrivals.every((a) => [...acked.keys()].every((k) => a.has(k)));
  while (!complete() && performance.now() < deadline) await sleep(100);
  await Promise.all(watchers.map((w) => w.stop()));
  const churn = census.take();
  requireCounted(churn, 'creating and deleting pods');
  const latencies: number[] = [];
  for (const a of arrivals)
    for (const [key, at] of acked) {
      const got = a.get(key);
      if (got !== undefined) latencies.push(Math.max(0, got - at));
    }
  latencies.sort((x, y) => x - y);
  const reads = watchReads(churn);
  if (reads === 0)
    throw new Error('no change-log reads were counted during the churn: the census is not where watches read');
  return {
    size,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    delivered: latencies.length,
    expected: acked.size * WATCHERS,
    readsPerEvent: reads / Math.max(1, latencies.length),
    idleReadsPerWatcherSecond: watchReads(idle) / WATCHERS / IDLE_SECONDS,
    idleRequestsPerWatcherSecond: idleRequests / WATCHERS / IDLE_SECONDS,
    lateWrites: store.lateWrites - lateBefore,
  };
}

try {
  const results: Figures[] = [];
  for (const size of SIZES) results.push(await run(size));
  console.log(`\n${WATCHERS} watchers of one namespace's pods; ${CHURN} pods created then deleted in it`);
  console.log(
    'pods in namespace | delivered/expected | latency p50 | p99     | reads per delivered event | idle reads/watcher/s',
  );
  for (const r of results)
    console.log(
      `${String(r.size).padStart(17)} | ${`${r.delivered}/${r.expected}`.padStart(18)} | ${r.p50.toFixed(0).padStart(8)} ms | ${r.p99.toFixed(0).padStart(4)} ms | ${r.readsPerEvent.toFixed(3).padStart(25)} | ${r.idleReadsPerWatcherSecond.toFixed(2)}`,
    );
  const [small, large] = [results[0], results.at(-1)] as [Figures, Figures];
  console.log(
    `reads per event, ${large.size} pods against ${small.size}: ×${(large.readsPerEvent / small.readsPerEvent).toFixed(2)} (a re-listing watch would read ×${(large.size / small.size).toFixed(0)})`,
  );
  console.log(`writes recorded again because they landed late: ${results.map((r) => r.lateWrites).join(', ')}`);
  // AWS list prices (us-east-1): Lambda $0.0000166667 per GB-s and $0.20 per million requests, HTTP API
  // $1.00 per million, DynamoDB $0.125 per million read units (a strongly consistent query of ≤ 4 KB is one).
  const memoryGb = 0.5; // serverless.yml: the API function's memorySize
  const idle = results.at(-1) as Figures;
  const requestsPerHour = idle.idleRequestsPerWatcherSecond * 3600;
  const readsPerHour = idle.idleReadsPerWatcherSecond * 3600;
  const lambda = memoryGb * 3600 * 0.0000166667; // a held watch keeps one invocation running all the time
  const perRequest = (requestsPerHour * (0.2 + 1.0)) / 1e6;
  const dynamo = (readsPerHour * 0.125) / 1e6;
  console.log(
    `an idle watcher-hour on AWS: $${(lambda + perRequest + dynamo).toFixed(4)} = Lambda duration $${lambda.toFixed(4)} (${memoryGb} GB held) + requests $${perRequest.toFixed(5)} (${requestsPerHour.toFixed(0)}/h) + DynamoDB reads $${dynamo.toFixed(5)} (${readsPerHour.toFixed(0)}/h); 20 watchers for a month: $${((lambda + perRequest + dynamo) * 20 * 720).toFixed(0)}`,
  );
} finally {
  census.stop();
  await server.close();
  await b.stop();
}
