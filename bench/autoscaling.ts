/**
 * What resource metrics and a HorizontalPodAutoscaler cost (issue 20), counted at the DynamoDB client
 * the stores use, against DynamoDB Local:
 *   1. an agent's metrics report: one PutItem per heartbeat while metrics are wanted, its size by pods;
 *   2. one HPA evaluation (the controller's reconcile of its key, every 15 s): requests by kind, and the
 *      handler time here, in the steady state (load at target: nothing to write but its memory);
 * priced per node-month and per HPA-month with ARCHITECTURE.md §7's list prices.
 *
 *   npm run bench:autoscaling [-- --evaluations 100 --pods 10]
 */
import { randomUUID } from 'node:crypto';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { parseArgs } from 'node:util';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { AutoscalerController, type AutoscalerMemory } from '../shared/controllers/autoscaler/controller.js';
import { storeEventRecorder } from '../shared/events/recorder.js';
import { kindNamed } from '../shared/model/kinds.js';
import { DynamoMetricsStore } from '../shared/store/dynamo/dynamo-metrics-store.js';
import { DynamoSideItems } from '../shared/store/dynamo/side-items.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import type { NodeMetricsSample } from '../shared/store/metrics.js';
import type { StoredObject } from '../shared/model/types.js';
import { dynamoCensus, requireCounted } from './dynamo-census.js';
import { percentile, startBackends } from './harness.js';

const { values: args } = parseArgs({
  options: { evaluations: { type: 'string', default: '100' }, pods: { type: 'string', default: '10' } },
});
const EVALUATIONS = Number(args.evaluations);
const PODS = Number(args.pods);
const PRICE = { dynamoWrite: 0.625, dynamoRead: 0.125, lambdaRequest: 0.2, sqs: 0.4, lambdaGbSecond: 0.0000166667 };
const CONTROLLERS_GB = 0.5; // serverless.yml: controllers.memorySize 512
const MONTH_S = 30 * 24 * 3600;
const PER_MONTH_AT_15S = MONTH_S / 15;

const b = await startBackends();
try {
  let nowMs = Date.parse('2026-03-01T12:00:00Z');
  const clock = { now: () => new Date(nowMs) };
  const store = new DynamoStore(b.dynamo, b.tableName, clock);
  const { service } = apiDeps(store, clock, console.error);
  const metrics = new DynamoMetricsStore(b.dynamo, b.tableName);
  const memory = new DynamoSideItems<AutoscalerMemory>(b.dynamo, b.tableName, 'Autoscaler#', 3600);
  const ns = 'default';
  await service.create(kindNamed('Namespace'), undefined, { metadata: { name: ns } }).catch(() => undefined);
  await service.create(kindNamed('Deployment'), ns, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      replicas: PODS,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'x' }] } },
    },
  });
  const pods: StoredObject[] = [];
  for (let i = 0; i < PODS; i++) {
    const p = await service.create(kindNamed('Pod'), ns, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `web-${i}`, labels: { app: 'web' } },
      spec: { nodeName: 'n1', containers: [{ name: 'app', image: 'x', resources: { requests: { cpu: '100m' } } }] },
    });
    const since = new Date(nowMs - 600_000).toISOString();
    pods.push(
      await store.update(
        {
          ...p,
          status: {
            phase: 'Running',
            startTime: since,
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }],
          },
        },
        p,
      ),
    );
  }
  await service.create(kindNamed('HorizontalPodAutoscaler'), ns, {
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web' },
    spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: PODS * 2 },
  });
  const controller = new AutoscalerController(
    { store, service, clock, events: storeEventRecorder(store, clock, 'controller-manager', randomUUID) },
    { metrics, memory },
  );
  // Each pod at 80% of its request: the default target, so the steady state changes nothing.
  let cpuNow = 80e6;
  const report = (): NodeMetricsSample => ({
    nodeName: 'n1',
    atMs: nowMs,
    windowSeconds: 15,
    node: { cpu: 2e9, memory: 4 * 2 ** 30 },
    pods: pods.map((p) => ({
      uid: p.metadata.uid,
      containers: [{ name: 'app', cpu: cpuNow, memory: 24 * 2 ** 20 }],
    })),
  });
  const census = dynamoCensus();
  await metrics.put(report());
  const put = census.take();
  requireCounted(put, 'a metrics report');
  // What DynamoDB bills the item by: its attribute names and values.
  const item = (
    await b.dynamo.send(
      new GetItemCommand({ TableName: b.tableName, Key: { pk: { S: 'NodeMetrics#' }, sk: { S: 'n1' } } }),
    )
  ).Item;
  const reportBytes = Object.entries(item ?? {}).reduce(
    (n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v.S ?? v.N ?? ''),
    0,
  );
  // Warm-up: the first evaluations write the status and the memory's first recommendations.
  for (let i = 0; i < 3; i++) {
    nowMs += 15_000;
    await metrics.put(report());
    await controller.reconcile({ namespace: ns, name: 'web' });
  }
  census.take();

  /** Evaluations with each pod's CPU as `cpu(i)` says: requests per evaluation and handler times. */
  async function evaluations(cpu: (i: number) => number) {
    const times: number[] = [];
    let reads = 0;
    let writes = 0;
    let transactions = 0;
    const byTarget = new Map<string, number>();
    for (let i = 0; i < EVALUATIONS; i++) {
      nowMs += 15_000;
      cpuNow = cpu(i);
      await metrics.put(report());
      census.take();
      const t0 = performance.now();
      await controller.reconcile({ namespace: ns, name: 'web' });
      times.push(performance.now() - t0);
      const t = census.take();
      reads += t.readRequests;
      writes += t.itemWrites;
      for (const [k, v] of t.byTarget) {
        byTarget.set(k, (byTarget.get(k) ?? 0) + v);
        if (k.startsWith('TransactWriteItems')) transactions += v;
      }
    }
    requireCounted(
      { requests: reads + writes, readRequests: reads, writeRequests: writes, itemWrites: writes },
      'HPA evaluations',
    );
    times.sort((a, c) => a - c);
    const meanMs = times.reduce((a, c) => a + c, 0) / times.length;
    const per = (n: number) => n / EVALUATIONS;
    return { reads: per(reads), writes: per(writes), transactions: per(transactions), meanMs, times, byTarget };
  }
  // Steady: each pod at 80% of its request, the default target. Moving: 76% and 84% in turn (within the
  // tolerance, so no rescale, but the status's figures change at every evaluation and are written).
  const steady = await evaluations(() => 80e6);
  const moving = await evaluations((i) => (i % 2 ? 76e6 : 84e6));
  const hpa = await store.get({ kind: 'HorizontalPodAutoscaler', namespace: ns, name: 'web' });
  const usd = (n: number) => `$${n.toFixed(3)}`;
  const reportWru = Math.ceil(reportBytes / 1024);
  const nodeMonth = PER_MONTH_AT_15S * reportWru * (PRICE.dynamoWrite / 1e6);
  /** Per HPA-month, an item written in a transaction at two write units (DynamoDB's transactional price). */
  const monthOf = (e: Awaited<ReturnType<typeof evaluations>>) => ({
    dynamoReads: PER_MONTH_AT_15S * e.reads * (PRICE.dynamoRead / 1e6),
    dynamoWrites: PER_MONTH_AT_15S * (e.writes + e.transactions * 2) * (PRICE.dynamoWrite / 1e6),
    // The next evaluation is a delayed SQS message: sent, received, deleted.
    sqs: PER_MONTH_AT_15S * 3 * (PRICE.sqs / 1e6),
    lambdaRequests: PER_MONTH_AT_15S * (PRICE.lambdaRequest / 1e6),
    lambdaDuration: PER_MONTH_AT_15S * (Math.max(1, e.meanMs) / 1000) * CONTROLLERS_GB * PRICE.lambdaGbSecond,
  });
  const total = (m: Record<string, number>) => Object.values(m).reduce((a, c) => a + c, 0);
  console.log(
    `\n# resource metrics and the HorizontalPodAutoscaler (DynamoDB Local; ${PODS} pods on one node, n=${EVALUATIONS} each)`,
  );
  console.log(
    `metrics report             1 PutItem per heartbeat while wanted, ${reportBytes} bytes (${reportWru} WRU) for ${PODS} pods`,
  );
  console.log(
    `metrics per node-month     ${usd(nodeMonth)} at the 15 s default heartbeat (nothing while no HPA exists and nobody ran kubectl top for 10 min)`,
  );
  for (const [label, e] of [
    ['steady', steady],
    ['moving', moving],
  ] as const) {
    const month = monthOf(e);
    console.log(
      `HPA evaluation, ${label.padEnd(10)} ${e.reads.toFixed(1)} reads, ${e.writes.toFixed(1)} item writes (${e.transactions.toFixed(1)} transactions); mean ${e.meanMs.toFixed(1)} ms, p99 ${percentile(e.times, 99).toFixed(1)} ms here`,
    );
    console.log(
      `   by target               ${[...e.byTarget].map(([k, v]) => `${k} ${(v / EVALUATIONS).toFixed(1)}`).join(', ')}`,
    );
    const parts = Object.entries(month).map(([k, v]) => `${k} ${usd(v)}`);
    console.log(`   per HPA-month           ${usd(total(month))} (${parts.join(', ')})`);
  }
  console.log(
    '   (SQS counted as 3 requests per message, an upper bound: the Lambda poller batches receives and deletes)',
  );
  console.log(
    `final status               ${JSON.stringify((hpa?.status?.conditions as { reason: string }[] | undefined)?.map((c) => c.reason))}`,
  );
  census.stop();
} finally {
  await b.stop();
}
