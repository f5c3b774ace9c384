import type { StoredObject } from '../model/types.js';
import type { ListQuery, ObjectStore } from './store.js';

/** Every object a query matches, page by page (for controllers that must see all of them). */
export async function listAll(
  store: ObjectStore,
  query: Omit<ListQuery, 'limit' | 'after'>,
  pageSize = 500,
): Promise<StoredObject[]> {
  const out: StoredObject[] = [];
  let after: ListQuery['after'];
  for (;;) {
    const page = await store.list({ ...query, limit: pageSize, after });
    out.push(...page.items);
    const last = page.items.at(-1);
    if (!page.more || !last) return out;
    after = { namespace: last.metadata.namespace ?? '', name: last.metadata.name };
  }
}
