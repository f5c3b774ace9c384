import type { ObjectApi } from '../model/object-api.js';
import type { Clock } from '../util/clock.js';
import type { EventRecorder } from '../events/recorder.js';
import type { Store } from '../store/store.js';

/** What every controller is given. */
export interface ControllerDeps {
  store: Store;
  /** Pods are created and deleted through the API's own rules (defaulting, validation, graceful deletion). */
  service: ObjectApi;
  clock: Clock;
  events: EventRecorder;
}

export interface ReconcileResult {
  requeueAfterMs?: number;
}
