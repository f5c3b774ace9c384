import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { KubeObject } from '../api/types.js';
import type { ChangeRecord } from '../events/dispatcher.js';

/** Object items carry the object as JSON in `o`; other items (node allocations) are not API objects. */
function objectOf(image: Record<string, unknown> | undefined): KubeObject | undefined {
  if (!image) return undefined;
  const item = unmarshall(image as Record<string, AttributeValue>);
  return typeof item.o === 'string' ? (JSON.parse(item.o) as KubeObject) : undefined;
}

/** DynamoDB Stream records (NEW_AND_OLD_IMAGES) as changes of API objects; records of other items are dropped. */
export function changesFromStream(records: DynamoDBRecord[]): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  for (const r of records) {
    const change = { old: objectOf(r.dynamodb?.OldImage as Record<string, unknown> | undefined), new: objectOf(r.dynamodb?.NewImage as Record<string, unknown> | undefined) };
    if (change.old || change.new) out.push({ id: r.dynamodb?.SequenceNumber ?? '', change });
  }
  return out;
}
