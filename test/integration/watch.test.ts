import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigMap } from '../support/fixtures.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { CLOCK_SKEW_MARGIN_MS } from '../../shared/store/resource-version.js';

/** The finite long-poll watch behind Lambda: changes after a resourceVersion, bookmarks, prompt single-object answers. */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const CM = '/api/v1/namespaces/default/configmaps';
/** A list's resourceVersion sits CLOCK_SKEW_MARGIN_MS back: what changed within it is sent again, so quiet tests wait it out. */
const settle = () => new Promise((r) => setTimeout(r, CLOCK_SKEW_MARGIN_MS + 100));
async function watch(query: string, flag = 'true') {
  const t = performance.now();
  const res = await fetch(`${api.url}${CM}?watch=${flag}&${query}`);
  const lines = (await res.text())
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));
  return { status: res.status, events: lines as { type: string; object: any }[], ms: performance.now() - t };
}

describe('watch', () => {
  it('from resourceVersion 0 replays what exists as ADDED, then a bookmark', async () => {
    await api.call('POST', CM, makeConfigMap('w1'));
    const { events } = await watch('resourceVersion=0&allowWatchBookmarks=true');
    expect(events.filter((e) => e.object.metadata?.name === 'w1').map((e) => e.type)).toEqual(['ADDED']);
    expect(events.at(-1)?.type).toBe('BOOKMARK');
  });

  it('reads `watch` as the kube-apiserver does: True (the Python client), yes or empty watch; 0 and False list', async () => {
    await api.call('POST', CM, makeConfigMap('wflag'));
    for (const flag of ['True', 'TRUE', 'yes', '']) {
      const { events } = await watch('resourceVersion=0&allowWatchBookmarks=true', flag);
      expect(events.at(-1)?.type, `watch=${flag}`).toBe('BOOKMARK');
    }
    for (const flag of ['0', 'False', 'false']) {
      const res = await api.call('GET', `${CM}?watch=${flag}`);
      expect(res.body.kind, `watch=${flag}`).toBe('ConfigMapList');
    }
  });

  it('returns early with the change made after the list resourceVersion', async () => {
    await settle();
    const list = (await api.call('GET', CM)).body;
    const pending = watch(`resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=10`);
    await new Promise((r) => setTimeout(r, 300));
    await api.call('PATCH', `${CM}/w1`, { data: { v: '2' } }, 'application/merge-patch+json');
    const { events, ms } = await pending;
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['MODIFIED:w1']);
    expect(events[0]?.object.data).toEqual({ key: 'value', v: '2' });
    expect(ms).toBeLessThan(5000);
  });

  it('sees a write made in the same millisecond as the list, or by a writer whose clock is behind (a kubectl wait hung)', async () => {
    const { DynamoStore } = await import('../../shared/store/dynamo/dynamo-store.js');
    const { dynamoClient } = await import('../../shared/aws/clients.js');
    const { inject } = await import('vitest');
    const at = (ms: number) => ({ now: () => new Date(ms) });
    const client = dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') });
    const t = Date.now();
    const reader = new DynamoStore(client, api.stack.tableName, at(t));
    const listed = Number(reader.currentResourceVersion());
    // Another process writes at the same instant, and one whose clock is behind by half the margin.
    for (const [name, ms] of [
      ['same-ms', t],
      ['behind', t - CLOCK_SKEW_MARGIN_MS / 2],
    ] as const) {
      // In a namespace of its own, so the other tests' watches of default do not see them.
      const written = await new DynamoStore(client, api.stack.tableName, at(ms)).create({
        ...makeConfigMap(name),
        metadata: { ...makeConfigMap(name).metadata, namespace: 'clock-skew', uid: name },
      });
      expect(Number(written.metadata.resourceVersion), name).toBeGreaterThan(listed);
    }
  });

  it('answers a quiet collection watch with a bookmark carrying a newer resourceVersion', async () => {
    await settle();
    const list = (await api.call('GET', CM)).body;
    const { events } = await watch(
      `resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1&allowWatchBookmarks=true`,
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('BOOKMARK');
    expect(Number(events[0]?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(
      Number(list.metadata.resourceVersion),
    );
  });

  it('sends BOOKMARKs only to a client that asks (kubectl get -w does not, and printed an empty row)', async () => {
    await settle();
    const list = (await api.call('GET', CM)).body;
    const quiet = await watch(`resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`);
    expect(quiet.status).toBe(200);
    expect(quiet.events).toEqual([]);
    const initial = await watch('resourceVersion=0');
    expect(initial.events.length).toBeGreaterThan(0);
    expect(initial.events.every((e) => e.type === 'ADDED')).toBe(true);
  });

  it('holds a watch from 0 that finds nothing, instead of sending the client straight back', async () => {
    const { events, ms } = await watch('resourceVersion=0&labelSelector=none%3Dhere&timeoutSeconds=1');
    expect(events).toEqual([]);
    expect(ms).toBeGreaterThan(800);
    // A single-object watch from 0 of something that does not exist reports nothing (no DELETED).
    const single = await watch('resourceVersion=0&fieldSelector=metadata.name%3Dnot-there');
    expect(single.events).toEqual([]);
  });

  it('answers a steady single-object watch within about a second, and reports its deletion', async () => {
    await settle();
    const list = (await api.call('GET', `${CM}?fieldSelector=metadata.name%3Dw1`)).body;
    const quiet = await watch(
      `fieldSelector=metadata.name%3Dw1&resourceVersion=${list.metadata.resourceVersion}&allowWatchBookmarks=true`,
    );
    expect(quiet.events.map((e) => e.type)).toEqual(['BOOKMARK']);
    await api.call('DELETE', `${CM}/w1`);
    const gone = await watch(`fieldSelector=metadata.name%3Dw1&resourceVersion=${list.metadata.resourceVersion}`);
    expect(gone.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['DELETED:w1']);
  });
  it('refuses a watch-list (sendInitialEvents) as Kubernetes 1.32 does by default, so clients fall back to list and watch', async () => {
    const res = await api.call(
      'GET',
      `${CM}?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true`,
    );
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({
      reason: 'Invalid',
      message:
        'ListOptions.meta.k8s.io "" is invalid: sendInitialEvents: Forbidden: sendInitialEvents is forbidden for watch unless the WatchList feature gate is enabled',
      details: { group: 'meta.k8s.io', kind: 'ListOptions', causes: [{ field: 'sendInitialEvents' }] },
    });
    const match = await api.call('GET', `${CM}?watch=1&resourceVersionMatch=Exact`);
    expect(match.status).toBe(422);
    expect(match.body.message).toBe(
      'ListOptions.meta.k8s.io "" is invalid: [resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided, resourceVersionMatch: Unsupported value: "Exact": supported values: "NotOlderThan"]',
    );
    // Lists: the present is "not older than" any version; an exact older one is history no longer kept.
    const listed = await api.call('GET', `${CM}?resourceVersion=1&resourceVersionMatch=NotOlderThan`);
    expect(listed.status).toBe(200);
    expect((await api.call('GET', `${CM}?resourceVersion=1&resourceVersionMatch=Exact`)).status).toBe(410);
    expect((await api.call('GET', `${CM}?resourceVersionMatch=Exact`)).status).toBe(422);
  });
});
