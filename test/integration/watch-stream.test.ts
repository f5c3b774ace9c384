import { spawn } from 'node:child_process';
import { createServer } from 'node:http';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApiFront, type ApiFront } from '../../local/api-front.js';
import { startApi, type TestApi } from '../support/api-server.js';
import { makeConfigMap } from '../support/fixtures.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';

/**
 * The offline stack's API front (local/api-front.ts): watches as one long stream made of finite
 * watches through the API handler, everything else passed through. Here it stands in front of the
 * real handler served as serverless-offline serves it (offline-stack.test runs it in `npm start`).
 */
let api: TestApi;
let front: ApiFront;
let url: string;
let k: Kubectl;
beforeAll(async () => {
  api = await startApi();
  front = await startApiFront({ port: 0, upstream: api.url, log: () => {} });
  const addr = front.server.address();
  url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  k = kubectlFor(url);
});
afterAll(async () => {
  await front.close();
  await api.close();
});

const CM = '/api/v1/namespaces/default/configmaps';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the API front', () => {
  it('passes a watch on decoded when the upstream compressed it, as serverless-offline does for kubectl', async () => {
    // serverless-offline (hapi) gzips an answer whose client accepts it; the front's fetch decodes it,
    // so it must not tell its own client the stream is still gzip (kubectl: "gzip: invalid header").
    const event = JSON.stringify({
      type: 'ADDED',
      object: {
        kind: 'ConfigMap',
        metadata: { name: 'zipped', resourceVersion: '7' },
        data: { big: 'x'.repeat(4096) },
      },
    });
    const asked: (string | undefined)[] = [];
    const upstream = createServer((req, res) => {
      asked.push(req.headers['accept-encoding']);
      const body = asked.length === 1 ? `${event}\n` : '';
      const gzip = /gzip/.test(req.headers['accept-encoding'] ?? '');
      // Held as a finite watch holds when nothing happens (the front asks again after each answer).
      setTimeout(
        () => {
          res.writeHead(200, { 'content-type': 'application/json', ...(gzip ? { 'content-encoding': 'gzip' } : {}) });
          res.end(gzip ? gzipSync(body) : body);
        },
        asked.length === 1 ? 0 : 500,
      );
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
    const port = (upstream.address() as { port: number }).port;
    const zfront = await startApiFront({ port: 0, upstream: `http://127.0.0.1:${port}`, log: () => {} });
    try {
      const res = await fetch(
        `http://127.0.0.1:${(zfront.server.address() as { port: number }).port}${CM}?watch=true&timeoutSeconds=2`,
        {
          headers: { 'accept-encoding': 'gzip' },
        },
      );
      expect(res.headers.get('content-encoding')).toBeNull();
      expect((await res.text()).trim()).toBe(event);
      expect(asked.every((a) => a === 'identity')).toBe(true);
    } finally {
      await zfront.close();
      await new Promise((r) => upstream.close(r));
    }
  });

  it('passes other requests through unchanged, and a refused watch as it was answered', async () => {
    const created = await fetch(`${url}${CM}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(makeConfigMap('front-cm')),
    });
    expect(created.status).toBe(201);
    expect(((await created.json()) as { metadata: { name: string } }).metadata.name).toBe('front-cm');
    const refused = await fetch(`${url}${CM}?watch=true`, { headers: { authorization: 'Bearer not-a-token' } });
    expect(refused.status).toBe(401);
    expect(((await refused.json()) as { kind: string; code: number }).code).toBe(401);
  });

  it('keeps a watch open past one finite watch, with its bookmarks only when asked, until timeoutSeconds', async () => {
    await api.call('POST', CM, makeConfigMap('front-stream'));
    await sleep(1_000); // its creation is then older than the list's horizon: not sent again
    const rv = ((await (await fetch(`${url}${CM}`)).json()) as { metadata: { resourceVersion: string } }).metadata
      .resourceVersion;
    const started = Date.now();
    const res = await fetch(`${url}${CM}?watch=true&resourceVersion=${rv}&timeoutSeconds=8`);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(3_000); // the head comes at once, not after a finite watch's hold
    const body = res.text();
    await sleep(6_000); // past the 5 s a finite watch holds
    await fetch(`${url}${CM}/front-stream`, { method: 'DELETE' });
    const events = (await body)
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name?: string } } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(7_500);
    expect(events.map((e) => `${e.type}:${e.object.metadata.name}`)).toEqual(['DELETED:front-stream']);
  });

  it.skipIf(!kubectlPath)(
    '`kubectl get -w` stays open across 60 s and shows a deletion',
    async () => {
      await k.ok('create', 'configmap', 'long-watch', '--from-literal=a=1');
      const watch = spawn(
        kubectlPath,
        ['--kubeconfig', join(k.dir, 'kubeconfig'), 'get', 'configmaps', '-w', '--output-watch-events'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let out = '';
      let exited: number | null = null;
      watch.stdout.on('data', (d: Buffer) => (out += d.toString()));
      watch.stderr.on('data', (d: Buffer) => (out += d.toString()));
      watch.on('exit', (code) => (exited = code ?? -1));
      try {
        await sleep(61_000);
        expect(exited, out).toBeNull();
        await k.ok('delete', 'configmap', 'long-watch');
        for (let i = 0; i < 50 && !/DELETED\s+long-watch/.test(out); i++) await sleep(200);
        expect(out).toMatch(/DELETED\s+long-watch/);
        expect(exited, out).toBeNull();
      } finally {
        watch.kill();
      }
    },
    90_000,
  );
});
