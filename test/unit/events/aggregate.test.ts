import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { AGGREGATE_AFTER, COMBINED_PREFIX, aggregateSimilarEvents } from '../../../shared/events/aggregate.js';

const event = (i: number, about: string, reason: string, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: `${about}.${i}`, namespace: 'default' },
  involvedObject: { kind: 'ReplicaSet', namespace: 'default', name: about, uid: `uid-${about}` },
  type: 'Normal',
  reason,
  message: `message ${i}`,
  count: 1,
  firstTimestamp: `2026-11-23T00:00:${String(i).padStart(2, '0')}Z`,
  lastTimestamp: `2026-11-23T00:00:${String(i).padStart(2, '0')}Z`,
  source: { component: 'replicaset-controller' },
  ...extra,
});

describe('aggregateSimilarEvents', () => {
  it('keeps up to ten similar events as they are', () => {
    const events = Array.from({ length: AGGREGATE_AFTER }, (_, i) => event(i, 'web', 'SuccessfulCreate'));
    expect(aggregateSimilarEvents(events)).toEqual(events);
  });

  it('combines the rest of a burst into one event that counts them and carries the last message', () => {
    const events = Array.from({ length: 25 }, (_, i) => event(i, 'web', 'SuccessfulCreate'));
    const out = aggregateSimilarEvents(events);
    expect(out).toHaveLength(AGGREGATE_AFTER + 1);
    expect(out.slice(0, AGGREGATE_AFTER)).toEqual(events.slice(0, AGGREGATE_AFTER));
    expect(out[AGGREGATE_AFTER]).toMatchObject({
      metadata: { name: 'web.24' },
      count: 15,
      message: `${COMBINED_PREFIX}message 24`,
      firstTimestamp: '2026-11-23T00:00:10Z',
      lastTimestamp: '2026-11-23T00:00:24Z',
    });
    expect(out.reduce((n, e) => n + Number(e.count), 0)).toBe(25);
  });

  it('treats events about other objects, with other reasons, types or containers as different, and keeps the order', () => {
    const events = [
      ...Array.from({ length: 12 }, (_, i) => event(i, 'web', 'SuccessfulCreate')),
      ...Array.from({ length: 12 }, (_, i) => event(i, 'api', 'SuccessfulCreate')),
      ...Array.from({ length: 5 }, (_, i) => event(i, 'web', 'SuccessfulDelete')),
      ...Array.from({ length: 5 }, (_, i) => event(i, 'web', 'SuccessfulCreate', { type: 'Warning' })),
      ...Array.from({ length: 5 }, (_, i) =>
        event(i, 'web', 'SuccessfulCreate', {
          involvedObject: {
            kind: 'ReplicaSet',
            namespace: 'default',
            name: 'web',
            uid: 'uid-web',
            fieldPath: 'spec.containers{c}',
          },
        }),
      ),
    ];
    const out = aggregateSimilarEvents(events);
    expect(out).toHaveLength(11 + 11 + 5 + 5 + 5);
    expect(out.map((e) => e.metadata.name).slice(0, 11)).toEqual([
      ...Array.from({ length: 10 }, (_, i) => `web.${i}`),
      'web.11',
    ]);
    expect(out[10]).toMatchObject({ count: 2 });
    expect(out[21]).toMatchObject({ metadata: { name: 'api.11' }, count: 2 });
    expect(out.reduce((n, e) => n + Number(e.count), 0)).toBe(events.length);
  });
});
