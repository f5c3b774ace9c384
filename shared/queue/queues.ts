/**
 * The SQS work queues (informers + workqueue's role). Each has a dead-letter queue so that a poison
 * message ends there after `maxReceiveCount` attempts instead of blocking its queue.
 */
import type { QueueName } from './work-queue.js';

export interface WorkQueueSpec {
  name: QueueName;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
}

export const WORK_QUEUES: readonly WorkQueueSpec[] = [
  { name: 'scheduler', maxReceiveCount: 5, visibilityTimeoutSeconds: 60 },
  { name: 'controllers', maxReceiveCount: 5, visibilityTimeoutSeconds: 60 },
];

export const queueName = (prefix: string, q: Pick<WorkQueueSpec, 'name'>) => `${prefix}-${q.name}`;
export const deadLetterQueueName = (prefix: string, q: Pick<WorkQueueSpec, 'name'>) => `${prefix}-${q.name}-dlq`;
