/** Where reconcile keys go. A key is only a name (`Pod/default/web-1`); the consumer reads current state. */
export type QueueName = 'scheduler' | 'controllers';

export interface WorkQueue {
  /** At-least-once delivery; duplicates are harmless because every consumer is idempotent. */
  enqueue(queue: QueueName, keys: string[], delaySeconds?: number): Promise<void>;
}
