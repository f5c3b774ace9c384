import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConfigMap } from '../support/fixtures.js';
import { startApi, type TestApi } from '../support/api-server.js';

/** The finite long-poll watch behind Lambda: changes after a resourceVersion, bookmarks, prompt single-object answers. */
let api: TestApi;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

const CM = '/api/v1/namespaces/default/configmaps';
async function watch(query: string) {
  const t = performance.now();
  const res = await fetch(`${api.url}${CM}?watch=true&${query}`);
  const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l));
  return { status: res.status, events: lines as { type: string; object: any }[], ms: performance.now() - t };
}

describe('watch', () => {
  it('from resourceVersion 0 replays what exists as ADDED, then a bookmark', async () => {
    await api.call('POST', CM, makeConfigMap('w1'));
    const { events } = await watch('resourceVersion=0');
    expect(events.filter((e) => e.object.metadata?.name === 'w1').map((e) => e.type)).toEqual(['ADDED']);
    expect(events.at(-1)?.type).toBe('BOOKMARK');
  });

  it('returns early with the change made after the list resourceVersion', async () => {
    const list = (await api.call('GET', CM)).body;
    const pending = watch(`resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=10`);
    await new Promise((r) => setTimeout(r, 300));
    await api.call('PATCH', `${CM}/w1`, { data: { v: '2' } }, 'application/merge-patch+json');
    const { events, ms } = await pending;
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['MODIFIED:w1']);
    expect(events[0]?.object.data).toEqual({ key: 'value', v: '2' });
    expect(ms).toBeLessThan(5000);
  });

  it('answers a quiet collection watch with a bookmark carrying a newer resourceVersion', async () => {
    const list = (await api.call('GET', CM)).body;
    const { events } = await watch(`resourceVersion=${list.metadata.resourceVersion}&timeoutSeconds=1`);
    expect(events).toHaveLength(1);
    expect(events[0]?.type).toBe('BOOKMARK');
    expect(Number(events[0]?.object.metadata.resourceVersion)).toBeGreaterThanOrEqual(Number(list.metadata.resourceVersion));
  });

  it('answers a steady single-object watch within about 300 ms, and reports its deletion', async () => {
    const list = (await api.call('GET', `${CM}?fieldSelector=metadata.name%3Dw1`)).body;
    const quiet = await watch(`fieldSelector=metadata.name%3Dw1&resourceVersion=${list.metadata.resourceVersion}`);
    expect(quiet.events.map((e) => e.type)).toEqual(['BOOKMARK']);
    await api.call('DELETE', `${CM}/w1`);
    const gone = await watch(`fieldSelector=metadata.name%3Dw1&resourceVersion=${list.metadata.resourceVersion}`);
    expect(gone.events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['DELETED:w1']);
  });
});
