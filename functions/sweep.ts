import middy from '@middy/core';
import { sweepControllers } from '../shared/controllers/sweep.js';
import { newScheduler, storeAndQueue } from './deps.js';

/** The level-triggered safety net, every minute: whatever is not converged is enqueued again. */
export const handler = middy().handler(async () => {
  const { store, queue } = storeAndQueue();
  const [pods, workloads] = await Promise.all([newScheduler().wakeUp(), sweepControllers(store, queue)]);
  return { requeuedPods: pods, requeuedWorkloads: workloads };
});
