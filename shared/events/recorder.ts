import { rfc3339, type Clock } from '../clock.js';
import type { KubeObject } from '../api/types.js';
import type { Store } from '../store/store.js';

/** Records a Kubernetes Event about an object (what `kubectl describe` shows under Events). */
export interface EventRecorder {
  record(about: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void>;
}

export function storeEventRecorder(store: Store, clock: Clock, component: string, newUid: () => string): EventRecorder {
  return {
    async record(about, type, reason, message) {
      const now = clock.now();
      const uid = newUid();
      const ns = about.metadata.namespace || 'default';
      await store.create({
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${about.metadata.name ?? 'object'}.${now.getTime().toString(16)}${uid.slice(0, 6)}`, namespace: ns, uid, creationTimestamp: rfc3339(now) },
        involvedObject: { apiVersion: about.apiVersion, kind: about.kind, namespace: about.metadata.namespace, name: about.metadata.name, uid: about.metadata.uid },
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
  };
}
