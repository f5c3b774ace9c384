import { rfc3339, type Clock } from '../util/clock.js';
import type { KubeObject } from '../model/types.js';
import type { ObjectStore } from '../store/store.js';
import { aggregateSimilarEvents } from './aggregate.js';

/**
 * Records Kubernetes Events about objects (what `kubectl describe` shows under Events). Events are
 * buffered and written in batches by `flush()`: they are history, not state, and one batched write
 * per reconcile batch costs far less than one request per event. A burst of similar events in one
 * batch is combined (see aggregate.ts).
 */
export interface EventRecorder {
  /** `fieldPath` names the part of the object concerned, e.g. one container (`spec.containers{web}`). */
  record(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string, fieldPath?: string): void;
  flush(): Promise<void>;
  /** Hands over the Events recorded since the last flush, unwritten: for a caller that writes them in its own transaction. */
  take(): KubeObject[];
  /** A recorder like this one with its own buffer (for events that must land with one transaction, and only with it). */
  fork(): EventRecorder;
}

export function storeEventRecorder(
  store: ObjectStore,
  clock: Clock,
  component: string,
  newUid: () => string,
): EventRecorder {
  let pending: KubeObject[] = [];
  const take = () => {
    const batch = aggregateSimilarEvents(pending);
    pending = [];
    return batch;
  };
  return {
    record(about, type, reason, message, fieldPath) {
      const now = clock.now();
      const uid = newUid();
      pending.push({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${about.metadata.name ?? 'object'}.${now.getTime().toString(16)}${uid.slice(0, 6)}`,
          namespace: about.metadata.namespace || 'default',
          uid,
          creationTimestamp: rfc3339(now),
        },
        involvedObject: {
          apiVersion: about.apiVersion,
          kind: about.kind,
          namespace: about.metadata.namespace,
          name: about.metadata.name,
          uid: about.metadata.uid,
          ...(fieldPath ? { fieldPath } : {}),
        },
        reason,
        message,
        type,
        count: 1,
        firstTimestamp: rfc3339(now),
        lastTimestamp: rfc3339(now),
        source: { component },
        reportingComponent: component,
      });
    },
    take,
    fork: () => storeEventRecorder(store, clock, component, newUid),
    async flush() {
      const batch = take();
      if (batch.length) await store.createMany(batch);
    },
  };
}
