import type { QueueName, WorkQueue } from '../queue/work-queue.js';
import { keysForChange, type Change } from './dispatch.js';

export interface ChangeRecord {
  /** The stream sequence number: what a partial batch failure reports. */
  id: string;
  change: Change;
}

/**
 * Sends the keys of a batch of stream records to their queues, deduplicated per batch. Returns the
 * id of the first record whose keys could not be sent (the stream resumes from there), if any.
 */
export async function dispatchChanges(records: ChangeRecord[], queue: WorkQueue): Promise<string | undefined> {
  const byQueue = new Map<QueueName, { keys: Set<string>; firstRecord: number }>();
  records.forEach((r, i) => {
    for (const { queue: q, key } of keysForChange(r.change)) {
      const entry = byQueue.get(q) ?? { keys: new Set<string>(), firstRecord: i };
      entry.keys.add(key);
      byQueue.set(q, entry);
    }
  });
  const results = await Promise.allSettled([...byQueue].map(async ([q, { keys }]) => queue.enqueue(q, [...keys])));
  const failedAt = [...byQueue.values()].filter((_, i) => results[i]?.status === 'rejected').map((e) => e.firstRecord);
  if (failedAt.length === 0) return undefined;
  return records[Math.min(...failedAt)]?.id;
}
