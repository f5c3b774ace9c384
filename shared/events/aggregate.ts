import type { KubeObject } from '../model/types.js';

/** Similar events recorded one by one before the rest are combined (client-go's EventAggregator: maxEvents 10). */
export const AGGREGATE_AFTER = 10;
export const COMBINED_PREFIX = '(combined from similar events): ';

interface EventFields {
  involvedObject?: { uid?: string; kind?: string; namespace?: string; name?: string; fieldPath?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  firstTimestamp?: string;
  lastTimestamp?: string;
  source?: { component?: string };
}

/** What makes events "similar": everything but the message (client-go's aggregator key). */
const similarityKey = (e: EventFields) => {
  const o = e.involvedObject ?? {};
  return JSON.stringify([e.source?.component, o.uid, o.kind, o.namespace, o.name, o.fieldPath, e.type, e.reason]);
};

/**
 * Keeps a burst of similar events readable and cheap, as Kubernetes does: the first ten about an
 * object with one reason are kept as they are; the rest become one event saying how many there were
 * (`count`) and the last message. A ReplicaSet creating 500 pods writes 11 events, not 500.
 * Order is kept; the combined event takes the place of the last one it stands for.
 */
export function aggregateSimilarEvents(events: KubeObject[]): KubeObject[] {
  const groups = new Map<string, KubeObject[]>();
  for (const e of events) {
    const k = similarityKey(e as EventFields);
    groups.set(k, [...(groups.get(k) ?? []), e]);
  }
  const replaced = new Map<KubeObject, KubeObject | undefined>();
  for (const group of groups.values()) {
    if (group.length <= AGGREGATE_AFTER) continue;
    const rest = group.slice(AGGREGATE_AFTER);
    const first = rest[0] as KubeObject & EventFields;
    const last = rest[rest.length - 1] as KubeObject & EventFields;
    const count = rest.reduce((n, e) => n + ((e as EventFields).count ?? 1), 0);
    for (const e of rest) replaced.set(e, undefined);
    replaced.set(last, {
      ...last,
      message: `${COMBINED_PREFIX}${last.message ?? ''}`,
      count,
      firstTimestamp: first.firstTimestamp,
      lastTimestamp: last.lastTimestamp,
    });
  }
  if (replaced.size === 0) return events;
  return events.flatMap((e) => (replaced.has(e) ? (replaced.get(e) ? [replaced.get(e) as KubeObject] : []) : [e]));
}
