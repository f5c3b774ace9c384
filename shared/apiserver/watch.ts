import type { ListOptions, ObjectList, WatchEvent, WatchOptions } from '../model/object-api.js';
import { apiVersionOf, type ResourceType } from '../model/kinds.js';
import { parseFieldSelector, supportedFieldsOf } from '../model/selectors.js';
import type { Clock } from '../util/clock.js';

/** The longest a watch request holds before answering with a bookmark (API Gateway allows 29 s). */
export const WATCH_HOLD_MS = 5000;
const WATCH_POLL_MS = 400;
/** A single-object watch with nothing to report answers this fast, so `rollout status` and `delete --wait` return promptly. */
const SINGLE_OBJECT_QUIET_MS = 300;

export interface WatchDeps {
  /** The collection (or the one object) as a list answers it. */
  list(opts: Pick<ListOptions, 'labelSelector' | 'fieldSelector'>): Promise<ObjectList>;
  clock: Clock;
  sleep(ms: number): Promise<void>;
  currentResourceVersion(): string;
}

/**
 * A finite watch (long poll): the changes after `resourceVersion` as soon as there are any, or a
 * BOOKMARK when the hold ends quietly; clients re-watch from the last version they saw. Deletions
 * are reported for single-object watches (the object is gone); a collection watch sees only what exists.
 */
export async function finiteWatch(
  deps: WatchDeps,
  type: ResourceType,
  namespace: string | undefined,
  opts: WatchOptions,
): Promise<WatchEvent[]> {
  const sleep = deps.sleep;
  let from = Number(opts.resourceVersion ?? 0) || 0;
  const fromStart = from === 0;
  const fields = parseFieldSelector(opts.fieldSelector, supportedFieldsOf(type.kind));
  const single = fields.find((f) => f.field === 'metadata.name' && f.op === '=')?.value;
  const start = deps.clock.now().getTime();
  const hold = Math.min(opts.timeoutSeconds ? opts.timeoutSeconds * 1000 : WATCH_HOLD_MS, WATCH_HOLD_MS);
  const bookmark = (): WatchEvent => ({
    type: 'BOOKMARK',
    object: {
      apiVersion: apiVersionOf(type),
      kind: type.kind,
      metadata: { resourceVersion: deps.currentResourceVersion() },
    },
  });
  for (let round = 0; ; round++) {
    const { items } = await deps.list({ labelSelector: opts.labelSelector, fieldSelector: opts.fieldSelector });
    // From the start: what exists, as ADDED. Nothing yet holds like a quiet watch from what this list saw
    // (a client without bookmarks would otherwise come straight back from 0, a list each time).
    if (from === 0 && items.length)
      return [...items.map((object): WatchEvent => ({ type: 'ADDED', object })), bookmark()];
    if (from === 0 && round === 0) from = Number(deps.currentResourceVersion()) || 1;
    const events = items
      .filter((o) => Number(o.metadata.resourceVersion) > from)
      .map((object): WatchEvent => ({
        // Creation times have second precision: only an object created in a later second than `from` is surely new.
        // Within the same second MODIFIED is the safe answer (informers and kubectl treat it as an upsert).
        type: Date.parse(object.metadata.creationTimestamp) > Math.floor(from / 1e6) * 1000 ? 'ADDED' : 'MODIFIED',
        object,
      }));
    // Gone since `from`; a watch from the start never saw it, so it reports nothing.
    if (single && items.length === 0 && !fromStart) {
      const gone = {
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        metadata: { name: single, namespace, resourceVersion: deps.currentResourceVersion() },
      };
      return [{ type: 'DELETED', object: gone }];
    }
    if (events.length) return events;
    const elapsed = deps.clock.now().getTime() - start;
    if ((single && elapsed >= SINGLE_OBJECT_QUIET_MS) || elapsed >= hold) return [bookmark()];
    await sleep(single ? SINGLE_OBJECT_QUIET_MS : WATCH_POLL_MS);
  }
}
