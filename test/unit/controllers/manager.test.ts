import { describe, expect, it } from 'vitest';
import { ControllerManager } from '../../../shared/controllers/manager.js';
import type { ControllerDeps } from '../../../shared/controllers/types.js';
import { TerminalError } from '../../../shared/model/errors.js';
import { systemClock } from '../../../shared/util/clock.js';

/**
 * The manager's routing alone: keys that need no read. Every dependency that would be touched throws,
 * so a key that reached a controller (or the store) fails the test.
 */
const untouchable = new Proxy(
  {},
  { get: (_t, p) => (p === 'then' ? undefined : () => Promise.reject(new Error(`touched ${String(p)}`))) },
);
function manager() {
  const logged: [string, unknown][] = [];
  const deps = {
    store: untouchable,
    service: untouchable,
    clock: systemClock,
    events: { record() {}, flush: async () => {}, take: () => [], fork: () => deps.events },
  } as unknown as ControllerDeps;
  const m = new ControllerManager({
    ...deps,
    queue: { enqueue: async () => {} },
    logError: (message, error) => logged.push([message, error]),
  });
  return { m, logged };
}

describe('the controller manager', () => {
  it('drops and counts a key no retry could make work, instead of retrying it', async () => {
    const { m, logged } = manager();
    expect(await m.process(['not a key', 'gc/Pod/ns/name'])).toEqual([]);
    expect(m.droppedKeys).toBe(2);
    expect(logged.map(([message]) => message)).toEqual([
      'reconcile of not a key cannot succeed; the key is dropped (1 so far)',
      'reconcile of gc/Pod/ns/name cannot succeed; the key is dropped (2 so far)',
    ]);
    expect(logged.every(([, e]) => e instanceof TerminalError)).toBe(true);
  });

  it('acknowledges keys of kinds no controller owns, and retries a reconcile that failed', async () => {
    const { m, logged } = manager();
    expect(await m.process(['ConfigMap/default/settings', 'Deployment/default/web'])).toEqual([
      'Deployment/default/web',
    ]);
    expect(m.droppedKeys).toBe(0);
    expect(logged).toHaveLength(1);
    expect(logged[0]?.[0]).toBe('reconcile of Deployment/default/web failed; it will be retried');
  });
});
