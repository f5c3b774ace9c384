import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import {
  CLAIM_ANNOTATION,
  claimedByOther,
  claimOf,
  withClaim,
  withoutClaim,
} from '../../../shared/controllers/claim.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const rs = (annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', namespace: 'default', ...(annotations ? { annotations } : {}) },
});

describe('workload claims', () => {
  it('round-trips holder and deadline through the annotation, keeping other annotations', () => {
    const claimed = withClaim(rs({ keep: 'me' }), 'h1', NOW + 30_000);
    expect(claimOf(claimed)).toEqual({ holder: 'h1', until: NOW + 30_000 });
    expect(withoutClaim(claimed).metadata.annotations).toEqual({ keep: 'me' });
    expect(withoutClaim(withClaim(rs(), 'h1', NOW)).metadata).not.toHaveProperty('annotations');
  });

  it.each([
    ['no claim', rs(), false],
    ['a live claim of another', withClaim(rs(), 'other', NOW + 1), true],
    ['its own live claim', withClaim(rs(), 'me', NOW + 1), false],
    ['a lapsed claim of another', withClaim(rs(), 'other', NOW), false],
    ['an unreadable annotation', rs({ [CLAIM_ANNOTATION]: 'garbage' }), false],
  ])('%s: claimed by another = %s', (_name, o, expected) => {
    expect(claimedByOther(o, 'me', NOW)).toBe(expected);
  });

  it('leaves an object without a claim untouched', () => {
    const o = rs({ a: 'b' });
    expect(withoutClaim(o)).toBe(o);
  });
});
