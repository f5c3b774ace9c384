import middy from '@middy/core';
import { scheduleNodeChecks, sweepControllers } from '../shared/controllers/sweep.js';
import { newScheduler, storeAndQueue } from './deps.js';
import { systemClock } from '../shared/util/clock.js';

/** The level-triggered safety net, every minute: whatever is not converged is enqueued again, and node leases are checked through the minute. */
export const handler = middy().handler(async () => {
  const { store, queue, config } = storeAndQueue();
  const [pods, workloads] = await Promise.all([
    newScheduler().wakeUp(),
    sweepControllers(store, queue, systemClock),
    scheduleNodeChecks(queue, config.nodeLifecycle.periodSeconds),
  ]);
  return { requeuedPods: pods, requeuedWorkloads: workloads };
});
