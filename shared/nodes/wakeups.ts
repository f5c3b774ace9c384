/**
 * Push wake-ups for node agents: instead of polling tightly for new assignments, an agent long-polls
 * its own queue and the dispatcher nudges it when one of its pods is bound, changed or deleted.
 */
export interface NodeWakeups {
  /** Creates the node's queue if needed; its URL for the agent, or undefined when there are none. */
  ensureQueue(nodeName: string): Promise<string | undefined>;
  wake(nodeNames: string[]): Promise<void>;

  removeQueue(nodeName: string): Promise<void>;
}

/** Without wake-ups agents still learn of changes at their next resync. */
export const noWakeups: NodeWakeups = {
  ensureQueue: async () => undefined,
  wake: async () => {},
  removeQueue: async () => {},
};

/** SQS queue names allow 80 characters of [A-Za-z0-9_-]; node names are DNS subdomains (dots allowed). */
export function nodeQueueName(prefix: string, nodeName: string): string {
  const safe = nodeName.replace(/[^A-Za-z0-9_-]/g, '_');
  const name = `${prefix}-node-${safe}`;
  return name.length <= 80 ? name : `${name.slice(0, 71)}-${hash8(nodeName)}`;
}

function hash8(s: string): string {
  let h = 2166136261;
  for (const c of s) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  return h.toString(16).padStart(8, '0');
}
