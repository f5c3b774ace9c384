import type { StoredObject } from '../model/types.js';
import type { Clock } from '../util/clock.js';
import type { WorkQueue } from '../queue/work-queue.js';
import { listAll } from '../store/list-all.js';
import type { ObjectStore } from '../store/store.js';
import { converged, SWEPT_KINDS } from './convergence.js';
import { encodeKey, workKeys } from '../queue/work-key.js';

/** Enqueues the controller key of every workload that has not converged; returns how many. */
export async function sweepControllers(store: ObjectStore, queue: WorkQueue, clock: Clock): Promise<number> {
  const now = clock.now().getTime();
  const keys: string[] = [];
  for (const kind of SWEPT_KINDS)
    keys.push(
      ...(await listAll(store, { kind }))
        .filter((o: StoredObject) => !converged(o, now))
        .map((o) => encodeKey(workKeys.of(o))),
    );
  if (keys.length) await queue.enqueue('controllers', keys);
  return keys.length;
}

/**
 * The node lifecycle check, spread over the sweep's minute: one key now and one every `periodSeconds`
 * (delayed messages), so a dead node is noticed within grace + period without a timer of its own.
 */
export async function scheduleNodeChecks(queue: WorkQueue, periodSeconds: number, sweepSeconds = 60): Promise<void> {
  const delays: number[] = [];
  for (let d = 0; d < sweepSeconds; d += Math.max(1, periodSeconds)) delays.push(d);
  await Promise.all(
    delays.map((d) => queue.enqueue('controllers', [encodeKey(workKeys.nodeLifecycle)], d || undefined)),
  );
}
