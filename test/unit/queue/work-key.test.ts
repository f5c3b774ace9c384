import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeKey, encodeKey, type WorkKey } from '../../../shared/queue/work-key.js';

const name = fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/);
const kind = fc.constantFrom('Deployment', 'ReplicaSet', 'Job', 'Service', 'Namespace', 'Pod', 'Node');
const key: fc.Arbitrary<WorkKey> = fc.oneof(
  fc.record({
    type: fc.constant('object' as const),
    kind,
    namespace: fc.oneof(fc.constant(''), name),
    name: fc.oneof(name, fc.constant('*')),
  }),
  fc.record({
    type: fc.constant('gc' as const),
    kind,
    namespace: fc.oneof(fc.constant(''), name),
    name,
    uid: fc.uuid(),
  }),
  fc.constant({ type: 'nodeLifecycle' as const }),
  fc.constant({ type: 'wakeUp' as const }),
  fc.constant({ type: 'wakeNodes' as const }),
  fc.constant({ type: 'daemonSets' as const }),
  fc.constant({ type: 'pendingClaims' as const }),
  fc.record({ type: fc.constant('release' as const), nodeName: name, uid: fc.uuid() }),
);

describe('work keys', () => {
  it('decode to what was encoded', () => {
    fc.assert(
      fc.property(key, (k) => {
        expect(decodeKey(encodeKey(k))).toEqual(k);
      }),
    );
  });

  it('keep the wire format queued messages already carry', () => {
    expect(encodeKey({ type: 'object', kind: 'Deployment', namespace: 'default', name: 'web' })).toBe(
      'Deployment/default/web',
    );
    expect(encodeKey({ type: 'object', kind: 'Namespace', namespace: '', name: 'team' })).toBe('Namespace//team');
    expect(encodeKey({ type: 'gc', kind: 'ReplicaSet', namespace: 'default', name: 'web-1', uid: 'u' })).toBe(
      'gc/ReplicaSet/default/web-1/u',
    );
    expect(encodeKey({ type: 'release', nodeName: 'n1', uid: 'u' })).toBe('release/n1/u');
    expect(encodeKey({ type: 'wakeUp' })).toBe('wakeup');
    expect(encodeKey({ type: 'nodeLifecycle' })).toBe('NodeLifecycle//cluster');
    expect(encodeKey({ type: 'pendingClaims' })).toBe('pendingclaims');
  });

  it('refuse what no producer writes', () => {
    for (const s of ['', 'Deployment', 'Deployment/default', 'a/b/c/d', 'gc/Pod/ns/name', 'release/n1'])
      expect(decodeKey(s), s).toBeUndefined();
  });
});
