import { describe, expect, it } from 'vitest';
import { indexKeysOf, UNSCHEDULED_SHARDS } from '../../../shared/store/index-keys.js';
import { shardOf } from '../../../shared/util/hash.js';
import { makeConfigMap, makePod } from '../../support/fixtures.js';

describe('sparse index keys', () => {
  it('puts a bound pod in byNode only', () => {
    expect(indexKeysOf(makePod().onNode('n1').build())).toEqual({ byNodePk: 'n1', byNodeSk: 'default/p1' });
  });

  it('puts an unbound, live pod in a shard of the unscheduled index', () => {
    const keys = indexKeysOf(
      makePod()
        .with((o) => (o.metadata.creationTimestamp = '2026-01-01T00:00:00Z'))
        .build(),
    );
    expect(keys.unscheduledPk).toMatch(/^unscheduled#[0-7]$/);
    expect(keys.unscheduledSk).toBe('2026-01-01T00:00:00Z#default/p1');
    expect(keys.byNodePk).toBeUndefined();
  });

  it('leaves finished or deleting pods out of the unscheduled index', () => {
    expect(
      indexKeysOf(
        makePod()
          .with((o) => (o.status = { phase: 'Failed' }))
          .build(),
      ).unscheduledPk,
    ).toBeUndefined();
    expect(
      indexKeysOf(
        makePod()
          .with((o) => (o.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'))
          .build(),
      ).unscheduledPk,
    ).toBeUndefined();
  });

  it('indexes objects by their controlling owner', () => {
    const owned = makePod()
      .with(
        (o) =>
          (o.metadata.ownerReferences = [
            { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true },
          ]),
      )
      .build();
    expect(indexKeysOf(owned)).toMatchObject({ byOwnerPk: 'u1', byOwnerSk: 'Pod#default/p1' });
    expect(indexKeysOf(makeConfigMap('c'))).toEqual({});
  });

  it('spreads names evenly enough over the shards', () => {
    const counts = new Array<number>(UNSCHEDULED_SHARDS).fill(0);
    for (let i = 0; i < 8000; i++) counts[shardOf(`default/web-${i}`, UNSCHEDULED_SHARDS)]! += 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
