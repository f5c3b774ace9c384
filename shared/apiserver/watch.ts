import { ExpiredError } from '../model/errors.js';
import type { ListOptions, ObjectList, WatchEvent, WatchOptions } from '../model/object-api.js';
import { apiVersionOf, type ResourceType } from '../model/kinds.js';
import {
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
  stateMatches,
  supportedFieldsOf,
  type FieldRequirement,
  type LabelSelector,
} from '../model/selectors.js';
import type { KubeObject } from '../model/types.js';
import {
  horizonVersion,
  oldestRetainedVersion,
  WATCH_HORIZON_MS,
  type Change,
  type ChangePage,
} from '../store/change-log.js';
import type { Clock } from '../util/clock.js';

/** The longest a watch request holds before answering with a bookmark (API Gateway allows 29 s). */
export const WATCH_HOLD_MS = 5000;
/** Between reads of the change log while nothing is there to send. */
const WATCH_POLL_MS = 200;
/**
 * A single-object watch with nothing to report answers this fast, so `rollout status` and `delete
 * --wait` return promptly: once the horizon has passed what was written up to 300 ms after it began.
 */
const SINGLE_OBJECT_QUIET_MS = WATCH_HORIZON_MS + 300;
/** Changes one answer reads at most; the client's next watch goes on from the last one sent. */
const CHANGES_PER_ANSWER = 500;

export interface WatchDeps {
  /** The collection (or the one object) as a list answers it; its resourceVersion is where a watch goes on. */
  list(opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): Promise<ObjectList>;
  /** The collection's change log (change-log.ts): after < resourceVersion ≤ upTo, oldest first. */
  changes(after: number, upTo: number, limit: number): Promise<ChangePage>;
  clock: Clock;
  sleep(ms: number): Promise<void>;
}

/**
 * A finite watch (long poll) over the change log: the changes after `resourceVersion` as soon as
 * there are any, in resourceVersion order, or a BOOKMARK when the hold ends quietly; clients watch
 * again from the last version they were sent. From "" or "0" it first sends what exists as ADDED,
 * as the kube-apiserver does. A version older than the kept history is answered with an ERROR event
 * carrying 410 Expired, as the kube-apiserver's watch cache answers it, and informers list again.
 */
export async function finiteWatch(deps: WatchDeps, type: ResourceType, opts: WatchOptions): Promise<WatchEvent[]> {
  const labels = parseLabelSelector(opts.labelSelector);
  const fields = parseFieldSelector(opts.fieldSelector, supportedFieldsOf(type.kind));
  const single = fields.some((f) => f.field === 'metadata.name' && f.op === '=');
  const nowMs = () => deps.clock.now().getTime();
  const start = nowMs();
  const hold = Math.min(opts.timeoutSeconds ? opts.timeoutSeconds * 1000 : WATCH_HOLD_MS, WATCH_HOLD_MS);
  const bookmark = (rv: number): WatchEvent => ({
    type: 'BOOKMARK',
    object: { apiVersion: apiVersionOf(type), kind: type.kind, metadata: { resourceVersion: String(rv) } },
  });
  let cursor = Number(opts.resourceVersion ?? 0) || 0;
  if (cursor === 0) {
    const list = await deps.list({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    cursor = Number(list.metadata.resourceVersion);
    // What exists, as ADDED, then (for clients that take bookmarks) where the history goes on.
    if (list.items.length)
      return [...list.items.map((object): WatchEvent => ({ type: 'ADDED', object })), bookmark(cursor)];
  } else if (cursor < oldestRetainedVersion(start)) {
    const oldest = oldestRetainedVersion(start);
    return [{ type: 'ERROR', object: new ExpiredError(`too old resource version: ${cursor} (${oldest})`).toStatus() }];
  }
  for (;;) {
    const upTo = horizonVersion(nowMs());
    const { changes, more } =
      upTo > cursor ? await deps.changes(cursor, upTo, CHANGES_PER_ANSWER) : { changes: [], more: false };
    const events = current(changes, cursor).flatMap((c) => seenBy(c, labels, fields));
    // Everything up to the horizon has been read, or up to the last record read when more follow.
    cursor = more ? (changes.at(-1)?.place ?? cursor) : Math.max(cursor, upTo);
    if (events.length) return events;
    const elapsed = nowMs() - start;
    if ((single && elapsed >= SINGLE_OBJECT_QUIET_MS) || elapsed >= hold) return [bookmark(cursor)];
    await deps.sleep(single ? Math.min(WATCH_POLL_MS, SINGLE_OBJECT_QUIET_MS) : WATCH_POLL_MS);
  }
}

/**
 * The changes to send from a read after `from`: a change recorded again because its write landed
 * late (change-log.ts) only to a watch already past its version, which may have missed it (one that
 * is not will read the original), and never after a newer change of the same object.
 */
function current(changes: Change[], from: number): Change[] {
  const version = (c: Change) => Number(c.object.metadata.resourceVersion);
  const key = (c: Change) => `${c.object.metadata.namespace ?? ''}/${c.object.metadata.name}`;
  const newest = new Map<string, number>();
  for (const c of changes) newest.set(key(c), Math.max(newest.get(key(c)) ?? 0, version(c)));
  // Strictly past: a client that goes on from the late change's own version was sent it already.
  return changes.filter((c) => !c.late || (version(c) < from && version(c) >= (newest.get(key(c)) ?? 0)));
}

/**
 * A change as a watch with these selectors sees it, as the kube-apiserver's cacheWatcher decides:
 * an object that starts matching is ADDED, one that stops matching is DELETED (here with its new
 * content; Kubernetes sends the previous content), one that never matched is not sent.
 */
function seenBy(change: Change, labels: LabelSelector, fields: FieldRequirement[]): WatchEvent[] {
  const matches = (o: KubeObject) => matchesLabels(labels, o.metadata.labels) && matchesFields(fields, o);
  const now = matches(change.object);
  if (change.type !== 'MODIFIED') return now ? [{ type: change.type, object: change.object }] : [];
  const before = change.previous ? stateMatches(labels, fields, change.previous) : now;
  if (before && now) return [{ type: 'MODIFIED', object: change.object }];
  if (now) return [{ type: 'ADDED', object: change.object }];
  if (before) return [{ type: 'DELETED', object: change.object }];
  return [];
}
