import middy from '@middy/core';
import { newScheduler } from './deps.js';

/** The level-triggered safety net, every minute: whatever is not converged is enqueued again. */
export const handler = middy().handler(async () => {
  const pending = await newScheduler().wakeUp();
  return { requeuedPods: pending };
});
