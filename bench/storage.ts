/**
 * What persistent storage costs the control plane (issue 22), counted at the DynamoDB client the stores
 * use, against DynamoDB Local:
 *   1. one claim's life on the local class: provisioned on its selected node, bound, then released and
 *      deleted, as the binder's reconciles run it (each reconcile is what one change brings);
 *   2. a claim that stays Pending (a class whose provisioner kumo does not run): one recheck, and per
 *      claim-month at the 60 s recheck;
 *   3. the scheduler's extra reads for a pod with one claim (its PreFilter);
 * priced with ARCHITECTURE.md §7's list prices.
 *
 *   npm run bench:storage [-- --claims 20]
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { VolumeController, PENDING_RECHECK_MS } from '../shared/controllers/volume/controller.js';
import { storeEventRecorder } from '../shared/events/recorder.js';
import { kindNamed } from '../shared/model/kinds.js';
import type { StoredObject } from '../shared/model/types.js';
import { readClaimFacts } from '../shared/scheduling/pod-claims.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { dynamoCensus, requireCounted, type CensusTake } from './dynamo-census.js';
import { startBackends } from './harness.js';

const { values: args } = parseArgs({ options: { claims: { type: 'string', default: '20' } } });
const CLAIMS = Number(args.claims);
const PRICE = { dynamoWrite: 0.625, dynamoRead: 0.125, lambdaRequest: 0.2, sqs: 0.4 };
const MONTH_S = 30 * 24 * 3600;

const b = await startBackends();
try {
  const clock = { now: () => new Date() };
  const store = new DynamoStore(b.dynamo, b.tableName, clock);
  const { service } = apiDeps(store, clock, console.error);
  const binder = new VolumeController({
    store,
    service,
    clock,
    events: storeEventRecorder(store, clock, 'controller-manager', randomUUID),
  });
  const ns = 'default';
  await service.create(kindNamed('Namespace'), undefined, { metadata: { name: ns } }).catch(() => undefined);
  await service.create(kindNamed('Node'), undefined, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: 'n1',
      labels: { 'kubernetes.io/hostname': 'n1' },
      annotations: { 'kumo.dev/local-volumes-dir': '/var/lib/kumo-agent/volumes' },
    },
  });
  await service.create(kindNamed('StorageClass'), undefined, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local' },
    provisioner: 'kumo.dev/local',
    volumeBindingMode: 'WaitForFirstConsumer',
  });
  await service.create(kindNamed('StorageClass'), undefined, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'elsewhere' },
    provisioner: 'example.com/not-running',
  });
  const census = dynamoCensus();
  const claimOf = (name: string, storageClassName: string, annotations?: Record<string, string>) => ({
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, ...(annotations ? { annotations } : {}) },
    spec: { accessModes: ['ReadWriteOnce'], storageClassName, resources: { requests: { storage: '1Gi' } } },
  });
  const get = (kind: string, name: string) =>
    store.get({ kind, namespace: kind === 'PersistentVolume' ? '' : ns, name });

  const writes = dynamoCensus();
  /** Reconciles claim and volume until a round writes nothing: the reconciles the changes would bring. */
  async function settle(name: string, volume: () => string | undefined): Promise<number> {
    let rounds = 0;
    for (let quiet = false; !quiet && rounds < 20; rounds++) {
      writes.take();
      await binder.reconcileClaim({ namespace: ns, name });
      const v = volume();
      if (v) await binder.reconcileVolume({ namespace: '', name: v });
      quiet = writes.take().itemWrites === 0;
    }
    if (rounds === 20) throw new Error(`${name} never settled`);
    return rounds;
  }

  const add = (a: CensusTake[], f: (t: CensusTake) => number) => a.reduce((n, t) => n + f(t), 0) / a.length;
  const lifecycles: CensusTake[] = [];
  const releases: CensusTake[] = [];
  let reconciles = 0;
  for (let i = 0; i < CLAIMS; i++) {
    const name = `data-${i}`;
    // As the scheduler leaves it: the node chosen for the claim's first pod.
    await service.create(
      kindNamed('PersistentVolumeClaim'),
      ns,
      claimOf(name, 'local', { 'volume.kubernetes.io/selected-node': 'n1' }),
    );
    census.take();
    reconciles += await settle(name, () => undefined);
    const pv = (await get('PersistentVolumeClaim', name))?.spec?.volumeName as string | undefined;
    reconciles += await settle(name, () => pv);
    lifecycles.push(census.take());
    if ((await get('PersistentVolumeClaim', name))?.status?.phase !== 'Bound') throw new Error(`${name} did not bind`);
    // Released: the claim goes (its protection finalizer first), the volume is deleted with it.
    await service.delete(kindNamed('PersistentVolumeClaim'), ns, name);
    await binder.reconcileClaim({ namespace: ns, name });
    for (let r = 0; r < 4 && pv; r++) await binder.reconcileVolume({ namespace: '', name: pv });
    releases.push(census.take());
  }
  requireCounted(
    {
      requests: 1,
      readRequests: add(lifecycles, (t) => t.readRequests),
      writeRequests: 1,
      itemWrites: add(lifecycles, (t) => t.itemWrites),
    },
    'claim lifecycles',
  );
  // A claim that waits for a provisioner nobody runs.
  await service.create(kindNamed('PersistentVolumeClaim'), ns, claimOf('waiting', 'elsewhere'));
  await binder.reconcileClaim({ namespace: ns, name: 'waiting' });
  await binder.reconcileClaim({ namespace: ns, name: 'waiting' });
  census.take();
  const rechecks: CensusTake[] = [];
  for (let i = 0; i < CLAIMS; i++) {
    await binder.reconcileClaim({ namespace: ns, name: 'waiting' });
    rechecks.push(census.take());
  }
  // The scheduler's PreFilter for a pod with one bound claim.
  await service.create(
    kindNamed('PersistentVolumeClaim'),
    ns,
    claimOf('mounted', 'local', { 'volume.kubernetes.io/selected-node': 'n1' }),
  );
  await settle('mounted', () => undefined);
  const mountedPv = (await get('PersistentVolumeClaim', 'mounted'))?.spec?.volumeName as string;
  await settle('mounted', () => mountedPv);
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'user', namespace: ns, uid: 'u' },
    spec: {
      containers: [{ name: 'c', image: 'x' }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'mounted' } }],
    },
  } as unknown as StoredObject;
  census.take();
  const facts = await readClaimFacts(store, pod);
  const prefilter = census.take();
  if (!facts || 'problem' in facts || facts.bound.length !== 1) throw new Error('the pod’s claim is not bound');

  const usd = (n: number) => `$${n.toFixed(4)}`;
  const row = (label: string, t: { reads: number; writes: number }) =>
    `${label.padEnd(30)} ${t.reads.toFixed(1)} reads, ${t.writes.toFixed(1)} item writes: ${usd(
      (1000 * (t.reads * PRICE.dynamoRead + t.writes * PRICE.dynamoWrite)) / 1e6,
    )} per 1,000 in DynamoDB`;
  const life = { reads: add(lifecycles, (t) => t.readRequests), writes: add(lifecycles, (t) => t.itemWrites) };
  const rel = { reads: add(releases, (t) => t.readRequests), writes: add(releases, (t) => t.itemWrites) };
  const recheck = { reads: add(rechecks, (t) => t.readRequests), writes: add(rechecks, (t) => t.itemWrites) };
  const perMonth = MONTH_S / (PENDING_RECHECK_MS / 1000);
  const pendingMonth =
    perMonth * ((recheck.reads * PRICE.dynamoRead + recheck.writes * PRICE.dynamoWrite) / 1e6) +
    perMonth * ((3 * PRICE.sqs + PRICE.lambdaRequest) / 1e6);
  console.log(`\n# persistent storage (DynamoDB Local; n=${CLAIMS} claims)`);
  console.log(
    row('provision and bind a claim', life),
    `(${(reconciles / CLAIMS).toFixed(1)} binder reconciles until quiet)`,
  );
  console.log(row('release and delete it', rel));
  console.log(row('pending claim, one recheck', recheck));
  console.log(
    `pending claim per month        ${usd(pendingMonth)} at one recheck per ${PENDING_RECHECK_MS / 1000} s (DynamoDB, 3 SQS requests and a Lambda request each), besides the changes that wake it`,
  );
  console.log(
    `scheduler PreFilter, 1 claim   ${prefilter.readRequests} reads (${prefilter.byTarget.map(([k, v]) => `${k} ${v}`).join(', ')})`,
  );
} finally {
  await b.stop();
}
