import type { Status } from './errors.js';
import type { ResourceType } from './kinds.js';
import type { KubeObject, StoredObject } from './types.js';

/**
 * The API's object verbs as the domain sees them: controllers create, patch and delete through the
 * API server's own rules (defaulting, validation, admission, graceful deletion), not the bare store.
 * The API server's ObjectService implements it; the domain never imports the API server.
 */

export type PatchType = 'merge' | 'json' | 'strategic' | 'apply';

/** Which part of an object an update may change: everything but status, or status only (the subresource). */
export type UpdateMode = 'main' | 'status';

export interface ListOptions {
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
}

export interface ObjectList {
  apiVersion: string;
  kind: string;
  metadata: { resourceVersion: string; continue?: string };
  items: StoredObject[];
}

export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  resourceVersion?: string;
  timeoutSeconds?: number;
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK'; object: KubeObject }
  /** The watch cannot go on (410 Expired: list again), as the kube-apiserver ends a watch. */
  | { type: 'ERROR'; object: Status };

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
  /** `["All"]`: a dry run (the API answers through a store that writes nothing). */
  dryRun?: unknown;
}

export type DeleteResult = { deleted: true; status: Status } | { deleted: false; object: StoredObject };

export interface ObjectApi {
  get(type: ResourceType, namespace: string, name: string): Promise<StoredObject>;
  create(type: ResourceType, namespace: string | undefined, body: unknown): Promise<StoredObject>;
  /** Creates many objects of one kind in transactions; names already taken are reported, not thrown. */
  createAll(
    type: ResourceType,
    namespace: string,
    bodies: unknown[],
  ): Promise<{ created: StoredObject[]; taken: string[] }>;
  list(type: ResourceType, namespace: string | undefined, opts?: ListOptions): Promise<ObjectList>;
  replace(type: ResourceType, namespace: string, name: string, body: unknown, mode?: UpdateMode): Promise<StoredObject>;
  patch(
    type: ResourceType,
    namespace: string,
    name: string,
    patchType: PatchType,
    patch: unknown,
    mode?: UpdateMode,
  ): Promise<StoredObject>;
  delete(type: ResourceType, namespace: string, name: string, opts?: DeleteOptions): Promise<DeleteResult>;
}
