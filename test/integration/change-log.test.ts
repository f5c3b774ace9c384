import { CoreV1Api, makeInformer, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dynamoClient } from '../../shared/aws/clients.js';
import { horizonVersion } from '../../shared/store/change-log.js';
import { DynamoStore } from '../../shared/store/dynamo/dynamo-store.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { clientNodeConfig } from '../support/client-node.js';
import { makeConfigMap, makePod } from '../support/fixtures.js';

/**
 * The change log behind watches (shared/store/change-log.ts): every write recorded with it, watches
 * that report deletions and selector transitions, 410 for history no longer kept, and the official
 * JavaScript client's informer seeing exactly what happened.
 */
let api: TestApi;
let kc: KubeConfig;
beforeAll(async () => {
  api = await startApi();
  kc = clientNodeConfig(api.url);
});
afterAll(() => api.close());

type Event = { type: string; object: any };
async function watchOnce(path: string, query: string): Promise<Event[]> {
  const res = await fetch(`${api.url}${path}?watch=true&${query}`);
  expect(res.status).toBe(200);
  return (await res.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Event);
}

/** Watches from `rv` again and again (as a client does) until a bookmark passes `until`; every event, in order. */
async function watchUntil(path: string, rv: string, until: number, selector = ''): Promise<Event[]> {
  const out: Event[] = [];
  for (let i = 0; i < 200; i++) {
    const events = await watchOnce(path, `resourceVersion=${rv}&allowWatchBookmarks=true&timeoutSeconds=1${selector}`);
    for (const e of events) {
      expect(e.type, JSON.stringify(e.object)).not.toBe('ERROR');
      if (e.type !== 'BOOKMARK') out.push(e);
      rv = e.object.metadata.resourceVersion;
    }
    if (events.at(-1)?.type === 'BOOKMARK' && Number(rv) >= until) return out;
  }
  throw new Error(`the watch never passed ${until}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const settle = () => sleep(1_000);

async function until<T>(what: string, f: () => T | undefined, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

describe('the change log', () => {
  it('a collection watch reports creates as ADDED, updates as MODIFIED and deletions as DELETED, in order', async () => {
    const CM = '/api/v1/namespaces/default/configmaps';
    const rv = (await api.call('GET', CM)).body.metadata.resourceVersion;
    await api.call('POST', CM, makeConfigMap('cl-a'));
    await api.call('PATCH', `${CM}/cl-a`, { data: { v: '2' } }, 'application/merge-patch+json');
    await api.call('DELETE', `${CM}/cl-a`);
    await settle();
    const end = Number((await api.call('GET', CM)).body.metadata.resourceVersion);
    const events = (await watchUntil(CM, rv, end)).filter((e) => e.object.metadata.name === 'cl-a');
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    const versions = events.map((e) => Number(e.object.metadata.resourceVersion));
    expect([...versions].sort((a, b) => a - b)).toEqual(versions);
    expect(new Set(versions).size).toBe(3);
    // The deletion carries the last state, with a version of its own.
    expect(events[2]?.object.data).toEqual({ key: 'value', v: '2' });
  });

  it('sends what stops matching a selector as DELETED and what starts matching as ADDED', async () => {
    const CM = '/api/v1/namespaces/default/configmaps';
    const labelled = (name: string, tier: string) => {
      const o = makeConfigMap(name);
      return { ...o, metadata: { ...o.metadata, labels: { tier } } };
    };
    await api.call('POST', CM, labelled('sel-out', 'front'));
    await api.call('POST', CM, labelled('sel-in', 'back'));
    await settle();
    const rv = (await api.call('GET', `${CM}?labelSelector=tier%3Dfront`)).body.metadata.resourceVersion;
    const relabel = (name: string, tier: string) =>
      api.call('PATCH', `${CM}/${name}`, { metadata: { labels: { tier } } }, 'application/merge-patch+json');
    await relabel('sel-out', 'back');
    await relabel('sel-in', 'front');
    await api.call('PATCH', `${CM}/sel-out`, { data: { other: 'x' } }, 'application/merge-patch+json');
    await settle();
    const end = Number((await api.call('GET', CM)).body.metadata.resourceVersion);
    const events = await watchUntil(CM, rv, end, '&labelSelector=tier%3Dfront');
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['DELETED:sel-out', 'ADDED:sel-in']);
  });

  it('answers a watch from a resourceVersion older than the kept history with 410 Expired', async () => {
    const tooOld = (Date.now() - 10 * 60_000) * 1000;
    const events = await watchOnce('/api/v1/namespaces/default/configmaps', `resourceVersion=${tooOld}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      type: 'ERROR',
      object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 },
    });
    expect(events[0]?.object.message).toMatch(new RegExp(`^too old resource version: ${tooOld} \\(\\d+\\)$`));
  });

  it("the JavaScript client's informer sees exactly the adds, the update and the deletes, also after a 410 relist", async () => {
    const ns = 'informer';
    await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const core = kc.makeApiClient(CoreV1Api);
    const path = `/api/v1/namespaces/${ns}/pods`;
    const informer = makeInformer(kc, path, () => core.listNamespacedPod({ namespace: ns }));
    const seen: string[] = [];
    informer.on('add', (p: V1Pod) => seen.push(`add:${p.metadata?.name}`));
    informer.on('update', (p: V1Pod) => seen.push(`update:${p.metadata?.name}:${p.metadata?.labels?.v ?? ''}`));
    informer.on('delete', (p: V1Pod) => seen.push(`delete:${p.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e: unknown) => errors.push(e));
    await informer.start();
    try {
      const pod = (name: string) => makePod().named(name).inNamespace(ns).build();
      for (const name of ['i1', 'i2', 'i3']) await api.call('POST', path, pod(name));
      await until('3 adds', () => (seen.length >= 3 ? true : undefined));
      await api.call('PATCH', `${path}/i1`, { metadata: { labels: { v: '2' } } }, 'application/merge-patch+json');
      await until('the update', () => (seen.length >= 4 ? true : undefined));
      await api.call('DELETE', `${path}/i2`);
      await api.call('DELETE', `${path}/i3`);
      await until('2 deletes', () => (seen.length >= 6 ? true : undefined));
      await sleep(2_000); // nothing more may follow
      expect(seen).toEqual(['add:i1', 'add:i2', 'add:i3', 'update:i1:2', 'delete:i2', 'delete:i3']);
      const listed = (await core.listNamespacedPod({ namespace: ns })).items;
      const cached = informer.list(ns);
      expect(cached.map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort()).toEqual(
        listed.map((p) => `${p.metadata?.name}@${p.metadata?.resourceVersion}`).sort(),
      );

      // Its next watch starts from history no longer kept: 410, it lists again and catches up.
      (informer as unknown as { resourceVersion: string }).resourceVersion = String((Date.now() - 10 * 60_000) * 1000);
      await api.call('DELETE', `${path}/i1`);
      await api.call('POST', path, pod('i4'));
      await until('the relist', () => (seen.length >= 8 ? true : undefined), 20_000);
      await sleep(2_000);
      expect(seen.slice(6).sort()).toEqual(['add:i4', 'delete:i1']);
      expect(informer.list(ns).map((p) => p.metadata?.name)).toEqual(['i4']);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });

  it('property: any watch from any listed resourceVersion, applied to that list, gives the final list', async () => {
    const ns = 'prop';
    await api.call('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    const CM = `/api/v1/namespaces/${ns}/configmaps`;
    let seed = Number(process.env.CHANGE_LOG_SEED ?? Date.now() % 100_000);
    const random = () => ((seed = (seed * 16807) % 2147483647) - 1) / 2147483646;
    const initialSeed = seed;
    const names = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)] as T;
    const selectors = ['', '&labelSelector=group%3Da', '&fieldSelector=metadata.name%3Dp1'];
    const snapshots: { selector: string; items: any[]; rv: string }[] = [];
    const op = async () => {
      const name = pick(names);
      const r = random();
      if (r < 0.35)
        return api.call('POST', CM, {
          ...makeConfigMap(name),
          metadata: { name, namespace: ns, labels: { group: pick(['a', 'b']) } },
        });
      if (r < 0.7)
        return api.call(
          'PATCH',
          `${CM}/${name}`,
          { metadata: { labels: { group: pick(['a', 'b']) } }, data: { n: String(random()) } },
          'application/merge-patch+json',
        );
      return api.call('DELETE', `${CM}/${name}`);
    };
    for (let round = 0; round < 12; round++) {
      // Concurrent writes interleave; lists are taken between and during them.
      const selector = pick(selectors);
      const listing = api
        .call('GET', `${CM}?${selector.slice(1)}`)
        .then((res) => snapshots.push({ selector, items: res.body.items, rv: res.body.metadata.resourceVersion }));
      await Promise.all([op(), op(), op(), listing]);
    }
    await settle();
    for (const s of snapshots) {
      const final = (await api.call('GET', `${CM}?${s.selector.slice(1)}`)).body;
      const state = new Map(s.items.map((o) => [o.metadata.name as string, o.metadata.resourceVersion as string]));
      for (const e of await watchUntil(CM, s.rv, Number(final.metadata.resourceVersion), s.selector)) {
        if (e.type === 'DELETED') state.delete(e.object.metadata.name);
        else state.set(e.object.metadata.name, e.object.metadata.resourceVersion);
      }
      const expected = new Map(final.items.map((o: any) => [o.metadata.name, o.metadata.resourceVersion]));
      expect(Object.fromEntries(state), `seed ${initialSeed}, selector "${s.selector}" from ${s.rv}`).toEqual(
        Object.fromEntries(expected),
      );
    }
  });

  it('a write that lands late is recorded again later in the log, for watches already past it', async () => {
    // A clock 200 ms further on at every reading: each write seems to take far longer than LATE_WRITE_MS.
    let t = Date.now();
    const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
    const store = new DynamoStore(client, api.stack.tableName, { now: () => new Date((t += 200)) });
    const before = t * 1000;
    const o = makeConfigMap('late');
    const stored = await store.create({ ...o, metadata: { ...o.metadata, namespace: 'late' } });
    expect(store.lateWrites).toBe(1);
    const { changes } = await store.changes('ConfigMap', 'late', before, horizonVersion(t + 60_000), 100);
    // The change twice, unchanged, the second later in the log; the object keeps its version.
    expect(changes.map((c) => [c.type, c.object.metadata.resourceVersion, c.late ?? false])).toEqual([
      ['ADDED', stored.metadata.resourceVersion, false],
      ['ADDED', stored.metadata.resourceVersion, true],
    ]);
    expect(changes[1]?.place).toBeGreaterThan(Number(stored.metadata.resourceVersion));
    expect(await store.get({ kind: 'ConfigMap', namespace: 'late', name: 'late' })).toEqual(stored);

    // A watch that had passed the change's version gets the late copy once; one from before it gets the original only.
    const CM = '/api/v1/namespaces/late/configmaps';
    const upTo = Number(changes[1]?.place) + 1;
    const past = await watchUntil(CM, String(Number(stored.metadata.resourceVersion) + 1), upTo);
    expect(past.map((e) => `${e.type}:${e.object.metadata.resourceVersion}`)).toEqual([
      `ADDED:${stored.metadata.resourceVersion}`,
    ]);
    const from = await watchUntil(CM, String(before), upTo);
    expect(from.map((e) => `${e.type}:${e.object.metadata.resourceVersion}`)).toEqual([
      `ADDED:${stored.metadata.resourceVersion}`,
    ]);
  });
});
