import type { ObjectApi } from '../model/object-api.js';
import type { Clock } from '../util/clock.js';
import type { EventRecorder } from '../events/recorder.js';
import type { ObjectStore } from '../store/store.js';

/** What every controller is given. */
export interface ControllerDeps {
  store: ObjectStore;
  /** Pods are created and deleted through the API's own rules (defaulting, validation, graceful deletion). */
  service: ObjectApi;
  clock: Clock;
  events: EventRecorder;
}

export interface ReconcileResult {
  /** Reconcile this key again after this long (something becomes due then), besides any change that brings it back sooner. */
  requeueAfterMs?: number;
}

/**
 * Every controller's contract (controller-runtime's Reconciler): given the key of what changed, read
 * the current state and act to make it match the desired one. Idempotent; a thrown error retries the
 * key with the queue's back-off, a TerminalError drops it.
 */
export interface Reconciler<K> {
  reconcile(key: K): Promise<ReconcileResult>;
}

/** The namespaced name most controllers are keyed by. */
export interface ObjectRef {
  namespace: string;
  name: string;
}
