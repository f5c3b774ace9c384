/**
 * Scheduling benchmark with hollow nodes (Node objects only, no agents): 2,000 pods onto 200 nodes
 * through the whole event path (API create → stream → dispatch → SQS → concurrent schedulers → bind).
 * Prints pods bound per second, create→bound latency, DynamoDB writes per pod, and the raw PutItem
 * rate of the same DynamoDB Local measured in the same run.
 *
 *   npm run bench:scheduling -- [--pods 2000] [--nodes 200] [--schedulers 8]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { changesFromStream } from '../shared/aws/stream.js';
import { systemClock } from '../shared/util/clock.js';
import { dispatchChanges } from '../shared/events/dispatcher.js';
import { storeEventRecorder } from '../shared/events/recorder.js';
import { SqsWorkQueue } from '../shared/queue/sqs/sqs-work-queue.js';
import { Scheduler } from '../shared/scheduling/scheduler.js';
import { SnapshotCache } from '../shared/scheduling/snapshot.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { ensureSystemNamespaces } from '../local/setup.js';
import { addNode, createPod, pod } from '../test/support/cluster.js';
import { benchEventPath, inParallel, percentile, rawPutItemRate, startBackends } from './harness.js';
import { dynamoCensus, requireCounted } from './dynamo-census.js';
import { toBatchItemFailures } from '../shared/queue/sqs/batch-failures.js';

const { values } = parseArgs({
  options: {
    pods: { type: 'string', default: '2000' },
    nodes: { type: 'string', default: '200' },
    schedulers: { type: 'string', default: '8' },
  },
});
const PODS = Number(values.pods);
const NODES = Number(values.nodes);

const b = await startBackends();
try {
  const raw = await rawPutItemRate(b.dynamo, b.tableName, 1000, 16);
  const census = dynamoCensus();
  const store = new DynamoStore(b.dynamo, b.tableName, systemClock);
  const { service } = apiDeps(store, systemClock, console.error);
  await ensureSystemNamespaces(service);
  await inParallel(
    Array.from({ length: NODES }, (_, i) => `hollow-${String(i).padStart(3, '0')}`),
    16,
    // A node's capacity ledger is created when its agent registers; hollow nodes get theirs here, so the
    // schedulers' first snapshots do not create them (and the figures count scheduling alone).
    async (name) => {
      await addNode(service, name, { cpu: '16', memory: '64Gi', pods: 110 });
      await store.ensureNodeAllocation(name);
    },
  );

  const queue = new SqsWorkQueue(b.sqsLite, b.queueUrls);
  const containers: SnapshotCache[] = [];
  const created = new Map<string, number>();
  const bound = new Map<string, number>();
  const events = await benchEventPath(
    b,
    {
      dispatch: async (e: DynamoDBStreamEvent) => {
        const changes = changesFromStream(e.Records);
        const now = performance.now();
        for (const { change } of changes) {
          const name = change.new?.metadata.name ?? '';
          if (
            change.new?.kind === 'Pod' &&
            change.new.spec?.nodeName &&
            !change.old?.spec?.nodeName &&
            !bound.has(name)
          )
            bound.set(name, now);
        }
        const failedAt = await dispatchChanges(changes, queue);
        return { batchItemFailures: failedAt ? [{ itemIdentifier: failedAt }] : [] };
      },
      scheduler: async (e) => {
        // Like Lambda: each concurrent invocation runs in its own warm container, with that container's snapshot cache.
        const snapshots = containers.pop() ?? new SnapshotCache(store, systemClock);
        try {
          const scheduler = new Scheduler({
            store,
            ledger: store,
            queue,
            clock: systemClock,
            events: storeEventRecorder(store, systemClock, 'default-scheduler', randomUUID),
            strategy: 'LeastAllocated',
            snapshots,
          });
          return toBatchItemFailures(e.Records, await scheduler.process(e.Records.map((r) => r.body)));
        } finally {
          containers.push(snapshots);
        }
      },
      // Hollow pods have no owners: the controller keys (nodes) are acknowledged and dropped.
      controllers: async () => ({ batchItemFailures: [] }),
      sweep: async () => undefined,
    },
    { schedulerConcurrency: Number(values.schedulers), startAt: 'LATEST' },
  );

  census.take();
  const start = performance.now();
  await inParallel(
    Array.from({ length: PODS }, (_, i) => `bench-${i}`),
    16,
    async (name) => {
      created.set(name, performance.now());
      await createPod(service, pod(name, '500m'));
    },
  );
  const createdAll = performance.now();
  while (bound.size < PODS) {
    if (performance.now() - start > 600_000) throw new Error(`only ${bound.size}/${PODS} pods bound after 10 minutes`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const end = Math.max(...bound.values());
  await events.stop();
  const counted = census.take();
  requireCounted(counted, `scheduling ${PODS} pods`);

  const latencies = [...bound].map(([name, t]) => t - (created.get(name) ?? t)).sort((x, y) => x - y);
  const podsPerSecond = PODS / ((end - start) / 1000);
  const fmt = (n: number, d = 0) => n.toFixed(d);
  console.log(
    `scheduling benchmark: ${PODS} pods onto ${NODES} hollow nodes, ${values.schedulers} concurrent schedulers (DynamoDB Local, in memory)`,
  );
  console.log(
    `  raw PutItem rate           ${fmt(raw.sequential)}/s sequential, ${fmt(raw.parallel)}/s with 16 in flight`,
  );
  console.log(
    `  pods bound end to end      ${fmt(podsPerSecond, 1)}/s   (create of the first → bind of the last: ${fmt((end - start) / 1000, 2)} s; creates alone took ${fmt((createdAll - start) / 1000, 2)} s)`,
  );
  console.log(
    `  create → bound latency     p50 ${fmt(percentile(latencies, 50))} ms, p99 ${fmt(percentile(latencies, 99))} ms`,
  );
  console.log(
    `  DynamoDB per pod           ${fmt(counted.requests / PODS, 2)} requests (${fmt(counted.readRequests / PODS, 2)} reads, ${fmt(counted.writeRequests / PODS, 2)} writes), ${fmt(counted.itemWrites / PODS, 2)} item writes   (create, bind transaction of pod + node allocation, Scheduled event batched; failed bind attempts included)`,
  );
  console.log(
    `    largest                  ${counted.byTarget
      .slice(0, 6)
      .map(([k, c]) => `${k} ${c}`)
      .join(', ')}`,
  );
  console.log(
    `  ratio to raw PutItem       ${fmt(podsPerSecond / raw.parallel, 2)} × parallel, ${fmt(podsPerSecond / raw.sequential, 2)} × sequential   (target ≥ 0.30)`,
  );
} finally {
  await b.stop();
}
