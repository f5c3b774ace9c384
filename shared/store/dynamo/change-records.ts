import { selectableState, type SelectableState } from '../../model/selectors.js';
import type { ObjectKey, StoredObject } from '../../model/types.js';
import type { Clock } from '../../util/clock.js';
import { CHANGE_RETENTION_MS, type Change, type ChangeType } from '../change-log.js';
import { DYNAMODB_ITEM_LIMIT, itemSize } from '../item-size.js';
import { assertItemFits } from '../object-keys.js';
import { nextResourceVersion } from '../resource-version.js';
import type { Item, ObjectItems } from './object-items.js';

/**
 * How change records are kept in the objects table (change-log.ts): partition `ChangeLog#kind#namespace`
 * beside the collection's own `kind#namespace`, sorted by resourceVersion (zero-padded, then the name:
 * two objects may share a version). A record holds the object's JSON at that version in `c` (not `o`,
 * so the stream's reader does not take records for objects), a Secret's sealed values as its item
 * does, the change type, what selectors saw of the version it replaced, and a TTL past the retention.
 */
export interface RecordItem {
  pk: string;
  sk: string;
  rv: number;
  /** ADDED, MODIFIED or DELETED. */
  t: ChangeType;
  c: string;
  /** JSON of the replaced version's SelectableState (MODIFIED). */
  p?: string;
  /** A record made again because its write landed late: the version of the change it repeats (`rv` is then its place). */
  late?: number;
  ttl: number;
  [attr: string]: string | number | undefined;
}

export const changeLogPartition = (kind: string, namespace: string) => `ChangeLog#${kind}#${namespace}`;
/** Wide enough for microseconds since 1970 for millennia; equal widths sort as numbers. */
export const versionSortKey = (rv: number) => String(rv).padStart(20, '0');
/** DynamoDB's TTL removes records some time after this; readers never ask for them (410 first). */
const TTL_SLACK_SECONDS = 60;

export class ChangeRecords {
  constructor(
    private readonly items: ObjectItems,
    private readonly clock: Clock,
  ) {}

  /** The record of a create or update whose object item is `item`. */
  ofWrite(key: ObjectKey, item: Item, type: 'ADDED' | 'MODIFIED', previous?: StoredObject): RecordItem {
    const { pk: _pk, sk: _sk, rv, o, ...rest } = item;
    return this.fits(key, {
      ...sealedOf(rest),
      pk: changeLogPartition(key.kind, key.namespace),
      sk: `${versionSortKey(rv)}#${key.name}`,
      rv,
      t: type,
      c: o,
      ...(previous ? { p: JSON.stringify(selectableState(previous)) } : {}),
      ttl: this.ttl(),
    });
  }

  /**
   * The record of deleting the stored `item`: its last state with a version of its own, as the
   * kube-apiserver's DELETED event carries the deletion's resourceVersion.
   */
  ofDelete(key: ObjectKey, item: Item): RecordItem {
    const rv = nextResourceVersion(item.rv, this.clock.now().getTime());
    const last = JSON.parse(item.o) as StoredObject;
    let c = JSON.stringify({ ...last, metadata: { ...last.metadata, resourceVersion: String(rv) } });
    let sealed = sealedOf(item);
    // An object stored near the item limit must still be deletable: its record then carries what
    // identifies it (informers delete by name), without managedFields and annotations.
    if (Buffer.byteLength(c, 'utf8') + 1024 > DYNAMODB_ITEM_LIMIT) {
      const { managedFields: _m, annotations: _a, ...metadata } = last.metadata;
      c = JSON.stringify({ ...last, metadata: { ...metadata, resourceVersion: String(rv) } });
      if (Buffer.byteLength(c, 'utf8') + itemSize(sealed) + 1024 > DYNAMODB_ITEM_LIMIT) {
        c = JSON.stringify({
          apiVersion: last.apiVersion,
          kind: last.kind,
          metadata: { ...metadata, resourceVersion: String(rv) },
        });
        sealed = {};
      }
    }
    return {
      ...sealed,
      pk: changeLogPartition(key.kind, key.namespace),
      sk: `${versionSortKey(rv)}#${key.name}`,
      rv,
      t: 'DELETED',
      c,
      ttl: this.ttl(),
    };
  }

  /**
   * A change recorded again at a fresh place in the log, unchanged (its object keeps its version): the
   * write landed late, perhaps below the horizon of a watch that had passed it (change-log.ts).
   */
  late(record: RecordItem): RecordItem {
    const at = nextResourceVersion(record.rv, this.clock.now().getTime());
    const name = record.sk.slice(record.sk.indexOf('#') + 1);
    return { ...record, sk: `${versionSortKey(at)}#${name}`, rv: at, late: record.rv, ttl: this.ttl() };
  }

  async decode(record: RecordItem): Promise<Change> {
    const { c, t, p, late, ...rest } = record;
    const object = await this.items.decode({ ...rest, o: c });
    return {
      type: t,
      object,
      place: record.rv,
      ...(p ? { previous: JSON.parse(p) as SelectableState } : {}),
      ...(late !== undefined ? { late: true } : {}),
    };
  }

  private ttl(): number {
    return Math.floor((this.clock.now().getTime() + CHANGE_RETENTION_MS) / 1000) + TTL_SLACK_SECONDS;
  }

  /** A record is its object's item and a little more: refused as the object would be when over the limit. */
  private fits(key: ObjectKey, record: RecordItem): RecordItem {
    assertItemFits(key, itemSize(record));
    return record;
  }
}

/** A Secret's sealed values travel with its records, so a watch sees its data as a get does. */
function sealedOf(item: Record<string, string | number | undefined>): Record<string, string | number> {
  return {
    ...(item.sec !== undefined ? { sec: item.sec } : {}),
    ...(item.secv !== undefined ? { secv: item.secv } : {}),
  };
}
