import { describe, expect, it } from 'vitest';
import type { RequestAttributes, Verb } from '../../../shared/auth/attributes.js';
import type { Principal } from '../../../shared/auth/principal.js';
import { decide } from '../../../shared/auth/token-roles.js';

const editor: Principal = { type: 'user', name: 'dev', role: 'edit', namespaces: ['team'] };
const on = (verb: Verb, group: string, resource: string): RequestAttributes => ({
  type: 'resource',
  verb,
  group,
  resource,
  namespaced: true,
  namespace: 'team',
  name: 'x',
});

describe('the edit role', () => {
  it('writes the namespaced kinds, plain ones included', () => {
    const writable: [string, string][] = [
      ['', 'serviceaccounts'],
      ['coordination.k8s.io', 'leases'],
      ['networking.k8s.io', 'networkpolicies'],
      ['apps', 'deployments'],
    ];
    for (const [group, resource] of writable)
      expect(decide(editor, on('create', group, resource)), resource).toEqual({ allow: true });
  });

  it("reads but does not write ResourceQuotas and LimitRanges, as Kubernetes' edit and admin roles", () => {
    for (const resource of ['resourcequotas', 'limitranges']) {
      expect(decide(editor, on('get', '', resource))).toEqual({ allow: true });
      for (const verb of ['create', 'update', 'patch', 'delete'] as const)
        expect(decide(editor, on(verb, '', resource))).toEqual({
          allow: false,
          reason: `the edit role only reads ${resource}, as Kubernetes' edit and admin roles do`,
        });
    }
  });
});
