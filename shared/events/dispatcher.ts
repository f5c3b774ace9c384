import type { QueueName, WorkQueue } from '../queue/work-queue.js';
import { noWakeups, type NodeWakeups } from '../nodes/wakeups.js';
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
export async function dispatchChanges(
  records: ChangeRecord[],
  queue: WorkQueue,
  wakeups: NodeWakeups = noWakeups,
  log: (msg: string) => void = () => {},
): Promise<string | undefined> {
  const byQueue = new Map<QueueName, { keys: Set<string>; firstRecord: number }>();
  const nodes = new Set<string>();
  records.forEach((r, i) => {
    for (const { queue: q, key } of keysForChange(r.change)) {
      if (q === 'node') {
        nodes.add(key);
        continue;
      }
      const entry = byQueue.get(q) ?? { keys: new Set<string>(), firstRecord: i };
      entry.keys.add(key);
      byQueue.set(q, entry);
    }
  });
  // A lost wake-up only delays an agent until its next resync: it never holds the stream back.
  const woken = nodes.size
    ? wakeups.wake([...nodes]).catch((e) => log(`waking ${nodes.size} node agent(s) failed: ${String(e)}`))
    : undefined;
  const results = await Promise.allSettled([...byQueue].map(async ([q, { keys }]) => queue.enqueue(q, [...keys])));
  await woken;
  const failedAt = [...byQueue.values()].filter((_, i) => results[i]?.status === 'rejected').map((e) => e.firstRecord);
  if (failedAt.length === 0) return undefined;
  return records[Math.min(...failedAt)]?.id;
}
