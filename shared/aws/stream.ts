import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { KubeObject } from '../model/types.js';
import type { ChangeRecord } from '../events/dispatcher.js';

/**
 * Object items carry the object as JSON in `o`; other items (node allocations) are not API objects.
 * An `o` that is not an object's JSON (an item written by hand) is reported and skipped: it could
 * never be dispatched, and failing the batch over it would hold back every later change of the shard
 * through the event source mapping's retries.
 */
function objectOf(
  image: Record<string, unknown> | undefined,
  onBadItem: (message: string) => void,
): KubeObject | undefined {
  if (!image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  if (typeof item.o !== 'string') return undefined;
  try {
    const o = JSON.parse(item.o) as unknown;
    if (o !== null && typeof o === 'object' && !Array.isArray(o)) return o as KubeObject;
  } catch {
    // reported below
  }
  onBadItem(
    `stream record of item ${String(item.pk)} ${String(item.sk)} skipped: its "o" attribute is not an object's JSON`,
  );
  return undefined;
}

/** DynamoDB Stream records (NEW_AND_OLD_IMAGES) as changes of API objects; records of other items are dropped. */
export function changesFromStream(
  records: DynamoDBRecord[],
  onBadItem: (message: string) => void = () => {},
): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  for (const r of records) {
    const change = {
      old: objectOf(r.dynamodb?.OldImage as Record<string, unknown> | undefined, onBadItem),
      new: objectOf(r.dynamodb?.NewImage as Record<string, unknown> | undefined, onBadItem),
    };
    if (change.old || change.new) out.push({ id: r.dynamodb?.SequenceNumber ?? '', change });
  }
  return out;
}
