import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { changesFromStream } from '../../../shared/aws/stream.js';

const record = (
  seq: string,
  image: Record<string, unknown> | undefined,
  old?: Record<string, unknown>,
): DynamoDBRecord => ({
  eventName: old ? 'MODIFY' : 'INSERT',
  dynamodb: {
    SequenceNumber: seq,
    NewImage: image ? (marshall(image) as never) : undefined,
    OldImage: old ? (marshall(old) as never) : undefined,
  },
});
const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' } };

describe('changesFromStream', () => {
  it('turns object items into changes and drops items that are not objects (node allocations)', () => {
    const changes = changesFromStream([
      record('1', { pk: 'Pod#default', sk: 'web-1', o: JSON.stringify(pod) }),
      record('2', { pk: 'NodeAllocation#', sk: 'n1', entries: [] }),
      record(
        '3',
        { pk: 'Pod#default', sk: 'web-1', o: JSON.stringify({ ...pod, spec: { nodeName: 'n1' } }) },
        { pk: 'Pod#default', sk: 'web-1', o: JSON.stringify(pod) },
      ),
    ]);
    expect(changes.map((c) => c.id)).toEqual(['1', '3']);
    expect(changes[1]?.change.old?.spec).toBeUndefined();
    expect(changes[1]?.change.new?.spec).toEqual({ nodeName: 'n1' });
  });

  it('skips and reports an item whose "o" is not an object\'s JSON instead of failing the batch', () => {
    const reported: string[] = [];
    const changes = changesFromStream(
      [
        record('1', { pk: 'raw#', sk: 'x', o: 'x'.repeat(20) }),
        record('2', { pk: 'raw#', sk: 'y', o: '"a string"' }),
        record('3', { pk: 'Pod#default', sk: 'web-1', o: JSON.stringify(pod) }),
      ],
      (m) => reported.push(m),
    );
    expect(changes.map((c) => c.id)).toEqual(['3']);
    expect(reported).toHaveLength(2);
    expect(reported[0]).toContain('raw# x');
  });
});
