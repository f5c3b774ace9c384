import { AlreadyExistsError, ConflictError, NotFoundError, type StatusError } from '../../model/errors.js';
import type { KubeObject, ObjectKey, StoredObject } from '../../model/types.js';
import type { SecretSealer } from '../../secrets/sealer.js';
import type { Clock } from '../../util/clock.js';
import { indexKeysOf } from '../index-keys.js';
import { itemSize } from '../item-size.js';
import { assertItemFits, keyOfObject, refOfKey } from '../object-keys.js';
import { nextResourceVersion } from '../resource-version.js';

/**
 * How an object is kept in the table: one item, partitioned by `kind#namespace` and sorted by name,
 * the object's JSON in `o` (a Secret's values sealed apart in `sec`), the resourceVersion every write
 * is conditional on, the sparse index attributes, and a TTL for Events.
 */

/** Events are history, not state: like the kube-apiserver's --event-ttl=1h, DynamoDB's TTL removes them. */
const EVENT_TTL_SECONDS = 3600;

export interface Item {
  pk: string;
  sk: string;
  rv: number;
  o: string;
  [attr: string]: string | number | undefined;
}

export const partitionKey = (kind: string, namespace: string) => `${kind}#${namespace}`;
const sealContext = (key: ObjectKey) => `${key.kind}/${key.namespace}/${key.name}`;

/** A failed condition means the name was taken (create), or the object changed or vanished since it was read. */
export function conditionFailure(key: ObjectKey, op: 'create' | 'update' | 'delete', oldItem: unknown): StatusError {
  if (op === 'create') return new AlreadyExistsError(refOfKey(key));
  return oldItem ? new ConflictError(refOfKey(key)) : new NotFoundError(refOfKey(key));
}

export class ObjectItems {
  constructor(
    private readonly table: string,
    private readonly clock: Clock,
    /** Encrypts Secret values before they are written (KMS on AWS, a local key offline); without it they are stored as given. */
    private readonly sealer?: SecretSealer,
  ) {}

  /** A put that creates (expected undefined) or replaces exactly the version the caller read. */
  conditionalPut(item: Item, expected: number | undefined) {
    const common = { TableName: this.table, Item: item, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const };
    return expected === undefined
      ? // The name must be free: this is what makes racing creates yield exactly one winner.
        { ...common, ConditionExpression: 'attribute_not_exists(pk)' }
      : // Optimistic concurrency: only the writer who read the current version may replace it.
        { ...common, ConditionExpression: 'rv = :expected', ExpressionAttributeValues: { ':expected': expected } };
  }

  async encode(object: KubeObject, previousRv: number | undefined): Promise<Item> {
    return this.encodeAt(object, nextResourceVersion(previousRv, this.clock.now().getTime()));
  }

  /** The item of an object at a version already given to it (a change record made again). */
  async encodeAt(object: KubeObject, rv: number): Promise<Item> {
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    const key = keyOfObject(object);
    // A Secret's values are sealed into their own attribute; `o` (and with it the stream) carries no secret data.
    const split = object.kind === 'Secret' && this.sealer ? splitSecretFields(stored) : undefined;
    const sealed = split ? await this.sealer?.seal(JSON.stringify(split.fields), sealContext(key)) : undefined;
    const item: Item = {
      pk: partitionKey(key.kind, key.namespace),
      sk: key.name,
      rv,
      o: JSON.stringify(split && sealed ? split.rest : stored),
      ...(split && sealed ? { sec: sealed, secv: SEALED_FIELDS_VERSION } : {}),
      ...indexKeysOf(stored),
      ...(object.kind === 'Event' ? { ttl: Math.floor(this.clock.now().getTime() / 1000) + EVENT_TTL_SECONDS } : {}),
    };
    assertItemFits(key, itemSize(item));
    return item;
  }

  async decode(item: Item): Promise<StoredObject> {
    const o = JSON.parse(item.o) as StoredObject;
    if (item.sec === undefined) return o;
    // Never hand out a Secret without its data: a caller writing it back would erase the values.
    if (!this.sealer)
      throw new Error(
        `Secret ${o.metadata.namespace}/${o.metadata.name} is encrypted, and this process has no key to open it (KUMO_KMS_KEY_ID or KUMO_SECRETS_KEY)`,
      );
    const opened = JSON.parse(await this.sealer.open(String(item.sec), sealContext(keyOfObject(o)))) as unknown;
    // Items sealed before SEALED_FIELDS_VERSION hold the data map alone.
    return joinSecretFields(
      o,
      item.secv === SEALED_FIELDS_VERSION ? (opened as SealedFields) : { data: opened },
    ) as StoredObject;
  }
}

/** `sec` holds SealedFields (not the bare data map of earlier items) when `secv` is this. */
const SEALED_FIELDS_VERSION = 2;

/**
 * Every part of a Secret that can carry its values: `data`, `stringData` (admission folds it into
 * data; kept here should any path skip that) and kubectl's last-applied-configuration annotation,
 * which holds the whole applied manifest, values included. managedFields name keys, never values.
 */
interface SealedFields {
  data?: unknown;
  stringData?: unknown;
  annotations?: Record<string, string>;
}
const SEALED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

function splitSecretFields(o: KubeObject): { fields: SealedFields; rest: KubeObject } | undefined {
  const { data, stringData, ...rest } = o as KubeObject & { data?: unknown; stringData?: unknown };
  const annotations = { ...o.metadata.annotations };
  const sealedAnnotations: Record<string, string> = {};
  for (const name of SEALED_ANNOTATIONS) {
    if (annotations[name] === undefined) continue;
    sealedAnnotations[name] = annotations[name];
    delete annotations[name];
  }
  const fields: SealedFields = {
    ...(data !== undefined ? { data } : {}),
    ...(stringData !== undefined ? { stringData } : {}),
    ...(Object.keys(sealedAnnotations).length ? { annotations: sealedAnnotations } : {}),
  };
  if (!Object.keys(fields).length) return undefined;
  const metadata = { ...rest.metadata };
  if (fields.annotations) {
    if (Object.keys(annotations).length) metadata.annotations = annotations;
    else delete metadata.annotations;
  }
  return { fields, rest: { ...rest, metadata } as KubeObject };
}

function joinSecretFields(o: KubeObject, f: SealedFields): KubeObject {
  const annotations = f.annotations ? { ...o.metadata.annotations, ...f.annotations } : o.metadata.annotations;
  return {
    ...o,
    metadata: { ...o.metadata, ...(annotations ? { annotations } : {}) },
    ...(f.data !== undefined ? { data: f.data } : {}),
    ...(f.stringData !== undefined ? { stringData: f.stringData } : {}),
  };
}
