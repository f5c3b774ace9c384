import { RequestEntityTooLargeError, type ObjectRef } from '../model/errors.js';
import { typeByKindName } from '../model/kinds.js';
import type { KubeObject, ObjectKey } from '../model/types.js';
import { DYNAMODB_ITEM_LIMIT } from './item-size.js';

/** Where an object is stored: its kind, namespace ("" when cluster-scoped) and name. */
export const keyOfObject = (o: KubeObject): ObjectKey => ({
  kind: o.kind,
  namespace: o.metadata.namespace ?? '',
  name: o.metadata.name ?? '',
});

/** A stored key as error messages name it: `deployments.apps "web"`. */
export function refOfKey(key: ObjectKey): ObjectRef {
  const t = typeByKindName(key.kind);
  return { resource: t?.plural ?? key.kind.toLowerCase(), group: t?.group ?? '', name: key.name };
}

/** Refuses an object whose stored item would be over DynamoDB's limit (413, before anything is written). */
export function assertItemFits(key: ObjectKey, size: number): void {
  if (size > DYNAMODB_ITEM_LIMIT)
    throw new RequestEntityTooLargeError(
      `${key.kind} "${key.name}" is ${size} bytes when stored; the limit is ${DYNAMODB_ITEM_LIMIT} bytes`,
    );
}
