import { describe, expect, it } from 'vitest';
import { ServiceAccountTokenCache } from '../../../shared/agent/service-account-token-cache.js';
import type { PodTokenRequest } from '../../../shared/agent/volumes/projection.js';

/** kubelet's token manager rules: reuse until 80 % of the life or a day, keep a valid one when asking fails. */
describe('the node token cache', () => {
  const req = (uid = 'u1', extra: Partial<PodTokenRequest> = {}): PodTokenRequest => ({
    namespace: 'ns',
    serviceAccount: 'sa',
    pod: { name: 'p', uid },
    expirationSeconds: 3600,
    ...extra,
  });
  const setup = () => {
    let now = 1_000_000;
    let issued = 0;
    let failing = false;
    const cache = new ServiceAccountTokenCache(
      async (r) => {
        if (failing) throw new Error('control plane unreachable');
        issued++;
        return { token: `t${issued}`, expiresAt: new Date(now + r.expirationSeconds * 1000) };
      },
      () => now,
    );
    return {
      cache,
      advance: (ms: number) => (now += ms),
      fail: (f: boolean) => (failing = f),
      issued: () => issued,
    };
  };

  it('asks once, then serves the same token until 80 % of its life', async () => {
    const c = setup();
    const [a, b] = await Promise.all([c.cache.get(req()), c.cache.get(req())]);
    expect([a, b, c.issued()]).toEqual(['t1', 't1', 1]);
    c.advance(0.8 * 3600_000 - 1000);
    expect(await c.cache.get(req())).toBe('t1');
    c.advance(2000);
    expect(await c.cache.get(req())).toBe('t2');
    expect(c.issued()).toBe(2);
  });

  it('keys by pod, audience and lifetime', async () => {
    const c = setup();
    await c.cache.get(req('u1'));
    await c.cache.get(req('u2'));
    await c.cache.get(req('u1', { audience: 'vault' }));
    await c.cache.get(req('u1', { expirationSeconds: 7200 }));
    expect(c.issued()).toBe(4);
    // A pod's tokens go with it.
    c.cache.forgetPod('u1');
    expect(c.cache.size).toBe(1);
  });

  it('refreshes a long-lived token after a day', async () => {
    const c = setup();
    await c.cache.get(req('u1', { expirationSeconds: 7 * 86_400 }));
    c.advance(86_400_000 + 1000);
    expect(await c.cache.get(req('u1', { expirationSeconds: 7 * 86_400 }))).toBe('t2');
  });

  it('keeps serving a still-valid token when a refresh fails, and fails once it has expired', async () => {
    const c = setup();
    await c.cache.get(req());
    c.advance(0.9 * 3600_000);
    c.fail(true);
    expect(await c.cache.get(req())).toBe('t1');
    c.advance(0.2 * 3600_000);
    await expect(c.cache.get(req())).rejects.toThrow('control plane unreachable');
    expect(c.cache.size).toBe(0);
  });
});
