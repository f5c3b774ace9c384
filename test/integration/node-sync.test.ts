import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { StatusError } from '../../shared/model/errors.js';
import type { StoredObject } from '../../shared/model/types.js';
import { apiDeps } from '../../shared/apiserver/wiring.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import { systemClock } from '../../shared/util/clock.js';
import type { NodeService } from '../../shared/apiserver/node-service.js';
import { DynamoLeaseStore } from '../../shared/store/dynamo/dynamo-lease-store.js';
import { DynamoServicesDigestStore } from '../../shared/store/dynamo/dynamo-services-digest.js';
import type { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { FencedWriteError, type Store } from '../../shared/store/store.js';
import { makeConfigMap, makePod } from '../support/fixtures.js';
import { freshStack } from '../support/stack.js';

/**
 * The node agents' sync against DynamoDB Local: statuses and events land with the lease renewal in
 * one transaction, so a fenced agent writes nothing and a live one pays one round trip.
 */
let store: DynamoStore;
let leases: DynamoLeaseStore;
let tableName: string;
beforeAll(async () => {
  ({ store, tableName } = await freshStack());
  leases = new DynamoLeaseStore(
    dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }),
    tableName,
  );
});

const nodeService = (s: Store = store) => apiDeps(s, systemClock, () => {}, { leases }).nodes as NodeService;
const registration = {
  holder: 'test',
  capacity: { cpu: '4', memory: '8Gi', pods: '110' },
  allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
};
const running = { phase: 'Running' as const, conditions: [{ type: 'Ready', status: 'True' }] };
const refOf = (p: StoredObject) => ({
  namespace: p.metadata.namespace ?? '',
  name: p.metadata.name,
  uid: p.metadata.uid,
});
/** A pod bound to `node`, with the uid the API would have given it. */
const boundPod = (name: string, node: string) => {
  const p = makePod().named(name).onNode(node).build();
  return store.create({ ...p, metadata: { ...p.metadata, uid: randomUUID() } });
};
const pod = (name: string) => store.get({ kind: 'Pod', namespace: 'default', name });
const eventsAbout = async (name: string) =>
  (await store.list({ kind: 'Event', namespace: 'default', limit: 1000 })).items.filter(
    (e) => (e as { involvedObject?: { name?: string } }).involvedObject?.name === name,
  );

describe('fenced transactions in the store', () => {
  it('land and renew the lease while the epoch is current; write nothing once it moved on', async () => {
    const lease = await leases.acquire('fence-node', 'test', 1_000);
    await store.transact([{ op: 'create', object: makeConfigMap('fenced-ok') }], {
      nodeName: 'fence-node',
      epoch: lease.epoch,
      renewAtMs: 5_000,
    });
    expect(await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'fenced-ok' })).toBeDefined();
    expect((await leases.get('fence-node'))?.renewedAtMs).toBe(5_000);

    await expect(
      store.transact([{ op: 'create', object: makeConfigMap('fenced-no') }], {
        nodeName: 'fence-node',
        epoch: lease.epoch - 1,
        renewAtMs: 9_000,
      }),
    ).rejects.toBeInstanceOf(FencedWriteError);
    expect(await store.get({ kind: 'ConfigMap', namespace: 'default', name: 'fenced-no' })).toBeUndefined();
    expect((await leases.get('fence-node'))?.renewedAtMs).toBe(5_000);
  });
});

describe('NodeService.sync', () => {
  it('writes statuses and events with the renewal; a stale epoch gets 409 NodeFenced and changes nothing', async () => {
    const nodes = nodeService();
    const { epoch } = await nodes.register('sync-node', registration);
    const p = await boundPod('synced', 'sync-node');
    const renewedBefore = (await leases.get('sync-node'))?.renewedAtMs ?? 0;
    await new Promise((r) => setTimeout(r, 5));
    const stale = nodes.sync('sync-node', {
      epoch: epoch + 7,
      statuses: [{ pod: refOf(p), status: running }],
      events: [{ pod: refOf(p), type: 'Normal', reason: 'Started', message: 'stale' }],
    });
    await expect(stale).rejects.toSatisfy(
      (e) => e instanceof StatusError && e.code === 409 && e.reason === 'NodeFenced',
    );
    expect((await pod('synced'))?.status?.phase).toBeUndefined();
    expect(await eventsAbout('synced')).toHaveLength(0);
    expect((await leases.get('sync-node'))?.renewedAtMs).toBe(renewedBefore);

    const res = await nodes.sync('sync-node', {
      epoch,
      statuses: [{ pod: refOf(p), status: running }],
      events: [
        {
          pod: refOf(p),
          type: 'Normal',
          reason: 'Started',
          message: 'Started container c',
          fieldPath: 'spec.containers{c}',
        },
      ],
    });
    expect(res.epoch).toBe(epoch);
    expect((await pod('synced'))?.status?.phase).toBe('Running');
    const events = await eventsAbout('synced');
    expect(
      events.map((e) => [
        (e as { reason?: string }).reason,
        (e as { source?: { component?: string } }).source?.component,
      ]),
    ).toEqual([['Started', 'kubelet/sync-node']]);
    expect((await leases.get('sync-node'))?.renewedAtMs).toBeGreaterThan(renewedBefore);
  });

  it('between heartbeats (renew: false) writes without touching the lease, and still fences a stale epoch', async () => {
    const nodes = nodeService();
    const { epoch } = await nodes.register('quiet-node', registration);
    const p = await boundPod('quiet', 'quiet-node');
    const renewedAt = (await leases.get('quiet-node'))?.renewedAtMs;
    await new Promise((r) => setTimeout(r, 5));
    await nodes.sync('quiet-node', {
      epoch,
      renew: false,
      statuses: [{ pod: refOf(p), status: running }],
      events: [{ pod: refOf(p), type: 'Normal', reason: 'Started', message: 'quiet' }],
    });
    const fetched = await nodes.sync('quiet-node', { epoch, renew: false, fetch: true });
    expect(fetched.pods?.map((x) => x.metadata.name)).toEqual(['quiet']);
    expect((await pod('quiet'))?.status?.phase).toBe('Running');
    expect((await leases.get('quiet-node'))?.renewedAtMs).toBe(renewedAt);

    // Writes are fenced whether or not they renew; a renewal too. (A fetch between heartbeats reads no lease.)
    const failed = { statuses: [{ pod: refOf(p), status: { phase: 'Failed' as const } }] };
    for (const body of [
      { renew: false, ...failed },
      { renew: false, events: [{ pod: refOf(p), type: 'Warning' as const, reason: 'Stale', message: 'x' }] },
      { renew: true, fetch: true },
    ]) {
      await expect(nodes.sync('quiet-node', { epoch: epoch + 1, ...body })).rejects.toSatisfy(
        (e) => e instanceof StatusError && e.reason === 'NodeFenced',
      );
    }
    expect((await pod('quiet'))?.status?.phase).toBe('Running');
    expect((await eventsAbout('quiet')).map((e) => (e as { reason?: string }).reason)).toEqual(['Started']);
  });

  it('works the statuses out again when a pod changes between its read and the transaction, keeping the other change', async () => {
    let interfered = false;
    // A real concurrent writer, slipped in just before the agent's first transaction.
    const interfering: Store = Object.create(store, {
      transact: {
        value: async (...args: Parameters<Store['transact']>) => {
          if (!interfered) {
            interfered = true;
            const current = (await pod('contended')) as StoredObject;
            await store.update(
              { ...current, metadata: { ...current.metadata, labels: { ...current.metadata.labels, touched: 'yes' } } },
              current,
            );
          }
          return store.transact(...args);
        },
      },
    });
    const nodes = nodeService(interfering);
    const { epoch } = await nodes.register('contended-node', registration);
    const p = await boundPod('contended', 'contended-node');
    await nodes.sync('contended-node', {
      epoch,
      statuses: [{ pod: refOf(p), status: running }],
      events: [{ pod: refOf(p), type: 'Normal', reason: 'Started', message: 'once' }],
    });
    expect(interfered).toBe(true);
    const after = await pod('contended');
    expect(after?.status?.phase).toBe('Running');
    expect(after?.metadata.labels?.touched).toBe('yes');
    expect(await eventsAbout('contended')).toHaveLength(1);
  });

  it('splits a large report over several transactions, each fenced, and writes every status and event once', async () => {
    const nodes = nodeService();
    const { epoch } = await nodes.register('busy-node', registration);
    const pods = await Promise.all(Array.from({ length: 80 }, (_, i) => boundPod(`busy-${i}`, 'busy-node')));
    const events = pods.slice(0, 60).map((p) => ({
      pod: refOf(p),
      type: 'Normal' as const,
      reason: 'Started',
      message: `started ${p.metadata.name}`,
    }));
    await nodes.sync('busy-node', { epoch, statuses: pods.map((p) => ({ pod: refOf(p), status: running })), events });
    const stored = await Promise.all(pods.map((p) => pod(p.metadata.name)));
    expect(stored.filter((p) => p?.status?.phase === 'Running')).toHaveLength(80);
    const written = (await store.list({ kind: 'Event', namespace: 'default', limit: 1000 })).items.filter((e) =>
      String((e as { message?: string }).message).startsWith('started busy-'),
    );
    expect(written).toHaveLength(60);
  });
});

describe('the services digest', () => {
  it('answers an unchanged view from the recorded digest, lists again once the generation moved, and never records a digest a change overtook', async () => {
    const dynamo = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
    const digests = new DynamoServicesDigestStore(dynamo, tableName);
    const nodes = apiDeps(store, systemClock, () => {}, { leases, servicesDigest: digests }).nodes as NodeService;
    const { epoch } = await nodes.register('digest-node', registration);
    const sync = (digest?: string) =>
      nodes.sync('digest-node', { epoch, renew: false, services: digest === undefined ? {} : { digest } });
    const service = (name: string) =>
      store.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: 'default', uid: randomUUID() },
        spec: { clusterIP: '10.96.0.50', ports: [{ port: 80, protocol: 'TCP' }] },
      });
    await service('digest-a');
    // First view: listed, and its digest recorded at generation 0.
    const first = await sync();
    expect(first.services?.views?.some((v) => v.name === 'digest-a')).toBe(true);
    const d1 = first.services?.digest as string;
    expect(await digests.read()).toMatchObject({ generation: 0, digest: d1, digestGeneration: 0 });
    // Unchanged: answered from the digest, without the views.
    expect((await sync(d1)).services).toEqual({ digest: d1 });
    // A Service the change path has not bumped for yet is not seen (the wakeNodes key bumps, then wakes).
    await service('digest-b');
    expect((await sync(d1)).services).toEqual({ digest: d1 });
    await digests.bump();
    const second = await sync(d1);
    expect(second.services?.views?.some((v) => v.name === 'digest-b')).toBe(true);
    const d2 = second.services?.digest as string;
    expect(d2).not.toBe(d1);
    expect(await digests.read()).toMatchObject({ generation: 1, digest: d2, digestGeneration: 1 });
    // A listing overtaken by a change records nothing: the generation it began at is gone.
    const before = await digests.read();
    await digests.bump();
    await digests.record(before.generation, 'stale');
    expect(await digests.read()).toMatchObject({ generation: 2, digest: d2, digestGeneration: 1 });
    // ...so the next fetch lists again, even with the old digest in hand.
    expect((await sync(d2)).services).toEqual({ digest: d2 });
    expect(await digests.read()).toMatchObject({ generation: 2, digest: d2, digestGeneration: 2 });
  });
});
