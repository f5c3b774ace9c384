import type { SelectableState } from '../model/selectors.js';
import type { StoredObject } from '../model/types.js';
import { CLOCK_SKEW_MARGIN_MS } from './resource-version.js';

/**
 * The change log (etcd's watch history): every write of an object also writes a record of it, in the
 * same transaction, so a change is visible to watches exactly when it is visible to reads. Records are
 * kept per collection (kind and namespace, the objects' own partitioning, so no key is hotter than
 * the objects' own) and ordered by resourceVersion; a watch reads the records after its
 * resourceVersion instead of re-listing the collection, so its cost follows the changes.
 *
 * resourceVersions come from each writer's clock (resource-version.ts), so there is no total order
 * at the moment of a write: a record stamped at t may land after one stamped later. A watch therefore
 * delivers only records stamped at least WATCH_HORIZON_MS ago, and a writer whose write took longer
 * than half of that to land records the change again later in the log (see `LATE_WRITE_MS`), for the
 * watches that had already passed it. Everything at or below a horizon a watch has passed is then in
 * the log, so a client resuming from any resourceVersion it was given misses nothing (a late change
 * may come to it twice, with the same resourceVersion, which informers ignore). (A list
 * answers with the horizon as its resourceVersion: objects changed within it are listed and then
 * sent once more by a watch from the list, with the same resourceVersion, which informers ignore.)
 */

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  /** The object at this version; for DELETED its last state, with the deletion's resourceVersion. */
  object: StoredObject;
  /** For MODIFIED: what selectors saw of the version this one replaced. */
  previous?: SelectableState;
  /** Where the record sits in the log: the object's resourceVersion, or later for a late one. */
  place: number;
  /**
   * Recorded again, later in the log, because its write landed late: sent only to a watch already
   * past the object's version (which may have missed it), and never after a newer change of it.
   */
  late?: true;
}

/** How long records are kept: a watch from an older resourceVersion answers 410 Gone (Kubernetes keeps ~5 minutes of history). */
export const CHANGE_RETENTION_MS = 5 * 60_000;

/**
 * How old a record must be before a watch delivers it: the margin lists' resourceVersions keep too.
 * It covers the time a write takes to land (longer ones are recorded again) and clock differences
 * between writers, and is most of a watch event's latency.
 */
export const WATCH_HORIZON_MS = CLOCK_SKEW_MARGIN_MS;

/** A write that took longer than this from stamping its resourceVersion to landing is recorded again. */
export const LATE_WRITE_MS = WATCH_HORIZON_MS / 2;

/** The resourceVersion (µs) at and below which every record is in the log, by this clock. */
export const horizonVersion = (nowMs: number) => (nowMs - WATCH_HORIZON_MS) * 1000;

/** The oldest resourceVersion a watch may start from: older history may be gone. */
export const oldestRetainedVersion = (nowMs: number) => (nowMs - CHANGE_RETENTION_MS) * 1000;

export interface ChangePage {
  changes: Change[];
  more: boolean;
}

/** Reading the log of one collection. */
export interface ChangeLog {
  /**
   * Changes of a collection (every namespace when `namespace` is undefined) with
   * `after` < resourceVersion ≤ `upTo`, in resourceVersion order: about `limit` of them, always
   * every change of the last version given; `more` when later ones up to `upTo` were left out.
   */
  changes(kind: string, namespace: string | undefined, after: number, upTo: number, limit: number): Promise<ChangePage>;
}
