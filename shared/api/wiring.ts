import { randomBytes, randomUUID } from 'node:crypto';
import { BulkApplier } from './bulk-apply.js';
import type { ApiDeps } from './http/handler.js';
import { ObjectService } from './object-service.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';

const ALPHANUM = 'bcdfghjklmnpqrstvwxz2456789'; // Kubernetes' generateName alphabet (no vowels, no confusables)

export function randomNameSuffix(): string {
  return [...randomBytes(5)].map((b) => ALPHANUM[b % ALPHANUM.length]).join('');
}

/** Builds the API's object graph over a store: used by the Lambda handler and by local tools alike. */
export function apiDeps(store: Store, clock: Clock, logError: ApiDeps['logError']): ApiDeps {
  const serviceDeps = { store, clock, newUid: randomUUID, nameSuffix: randomNameSuffix };
  const service = new ObjectService(serviceDeps);
  return { service, clock, bulk: new BulkApplier(service, serviceDeps), logError };
}
