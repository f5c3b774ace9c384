import { describe, expect, it } from 'vitest';
import { podReferences } from '../../../shared/auth/pod-references.js';
import {
  bearerToken,
  formatToken,
  hashSecret,
  newSecret,
  parseToken,
  secretMatches,
} from '../../../shared/auth/tokens.js';

describe('token format', () => {
  it('round-trips ids with any characters, and checks secrets against their hash only', () => {
    const secret = newSecret();
    const token = formatToken({ id: 'node:ip-10-0-1-5.ec2.internal', secret });
    expect(token).toMatch(/^kumo\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(parseToken(token)).toEqual({ id: 'node:ip-10-0-1-5.ec2.internal', secret });
    expect(secretMatches(secret, hashSecret(secret))).toBe(true);
    expect(secretMatches(secret + 'x', hashSecret(secret))).toBe(false);
    expect(secretMatches(secret, 'abcd')).toBe(false);
  });

  it.each([
    ['kumo.abc'],
    ['kumo..sssssssssssssssssssss'],
    ['other.YQ.ssssssssssssssssssss'],
    ['kumo.YQ.short'],
    ['kumo.Y$Q.ssssssssssssssssssss'],
    [''],
  ])('rejects %j', (raw) => {
    expect(parseToken(raw)).toBeUndefined();
  });

  it.each([
    ['Bearer abc', 'abc'],
    ['bearer   abc  ', 'abc'],
    ['Basic abc', undefined],
    ['Bearer', undefined],
    [undefined, undefined],
  ])('reads the bearer token of %j', (header, token) => {
    expect(bearerToken(header)).toBe(token);
  });
});

describe('podReferences', () => {
  it('finds ConfigMaps and Secrets in env, envFrom, init containers, volumes, projected volumes and image pull secrets', () => {
    const refs = podReferences({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p' },
      spec: {
        initContainers: [
          { name: 'i', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's-init', key: 'k' } } }] },
        ],
        containers: [
          {
            name: 'c',
            env: [
              { name: 'B', valueFrom: { configMapKeyRef: { name: 'cm-env', key: 'k' } } },
              { name: 'C', value: 'plain' },
            ],
            envFrom: [{ configMapRef: { name: 'cm-from' } }, { secretRef: { name: 's-from' } }],
          },
        ],
        volumes: [
          { name: 'v1', configMap: { name: 'cm-vol' } },
          { name: 'v2', secret: { secretName: 's-vol' } },
          { name: 'v3', projected: { sources: [{ configMap: { name: 'cm-proj' } }, { secret: { name: 's-proj' } }] } },
        ],
        imagePullSecrets: [{ name: 's-pull' }],
      },
    });
    expect([...refs.configMaps].sort()).toEqual(['cm-env', 'cm-from', 'cm-proj', 'cm-vol']);
    expect([...refs.secrets].sort()).toEqual(['s-from', 's-init', 's-proj', 's-pull', 's-vol']);
  });
});
