import { describe, expect, it } from 'vitest';
import {
  admitServiceAccounts,
  keepAdmittedServiceAccount,
  TOKEN_MOUNT_PATH,
  tokenVolumeSource,
} from '../../../shared/model/service-accounts.js';
import type { KubeObject } from '../../../shared/model/types.js';

/**
 * ServiceAccount admission's token volume (plugin/pkg/admission/serviceaccount admission.go,
 * mountServiceAccountToken and shouldAutomount): which containers get the mount, when the pod or its
 * account turns it off, and an update that leaves it out keeping it.
 */
type Spec = {
  volumes?: { name: string; projected?: unknown; emptyDir?: unknown }[];
  initContainers?: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  containers: { name: string; volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[] }[];
  automountServiceAccountToken?: boolean;
};

const pod = (spec: Partial<Spec> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', namespace: 'ns' },
  spec: { containers: [{ name: 'a' }], ...spec },
});
const account = (extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'ServiceAccount',
  metadata: { name: 'default', namespace: 'ns' },
  ...extra,
});
const admit = async (p: KubeObject, sa = account()) => {
  await admitServiceAccounts(
    [p],
    async () => sa,
    () => 'x7k2q',
  );
  return p.spec as Spec;
};
const MOUNT = { name: 'kube-api-access-x7k2q', readOnly: true, mountPath: TOKEN_MOUNT_PATH };

describe('ServiceAccount admission: the token volume', () => {
  it('adds kube-api-access-<random> and mounts it read-only in every init and app container', async () => {
    const spec = await admit(pod({ initContainers: [{ name: 'i' }], containers: [{ name: 'a' }, { name: 'b' }] }));
    expect(spec.volumes).toEqual([{ name: 'kube-api-access-x7k2q', projected: tokenVolumeSource() }]);
    expect(spec.initContainers?.[0]?.volumeMounts).toEqual([MOUNT]);
    expect(spec.containers.map((c) => c.volumeMounts)).toEqual([[MOUNT], [MOUNT]]);
  });

  it("follows the pod's automountServiceAccountToken over its account's", async () => {
    expect((await admit(pod(), account({ automountServiceAccountToken: false }))).volumes).toBeUndefined();
    expect(
      (await admit(pod({ automountServiceAccountToken: true }), account({ automountServiceAccountToken: false })))
        .volumes,
    ).toHaveLength(1);
    expect((await admit(pod({ automountServiceAccountToken: false }))).volumes).toBeUndefined();
  });

  it('leaves a container that mounts something at the token path alone, and adds no volume if none needs it', async () => {
    const own = { name: 'mine', mountPath: TOKEN_MOUNT_PATH };
    const spec = await admit(
      pod({ volumes: [{ name: 'mine', emptyDir: {} }], containers: [{ name: 'a', volumeMounts: [own] }] }),
    );
    expect(spec.volumes).toEqual([{ name: 'mine', emptyDir: {} }]);
    expect(spec.containers[0]?.volumeMounts).toEqual([own]);
    const mixed = await admit(
      pod({
        volumes: [{ name: 'mine', emptyDir: {} }],
        containers: [{ name: 'a', volumeMounts: [own] }, { name: 'b' }],
      }),
    );
    expect(mixed.volumes?.map((v) => v.name)).toEqual(['mine', 'kube-api-access-x7k2q']);
    expect(mixed.containers[1]?.volumeMounts).toEqual([MOUNT]);
  });

  it('reuses a kube-api-access- volume the pod already has (a manifest read back from a cluster)', async () => {
    const spec = await admit(pod({ volumes: [{ name: 'kube-api-access-abcde', projected: tokenVolumeSource() }] }));
    expect(spec.volumes?.map((v) => v.name)).toEqual(['kube-api-access-abcde']);
    expect(spec.containers[0]?.volumeMounts).toEqual([{ ...MOUNT, name: 'kube-api-access-abcde' }]);
  });

  it('keeps the volume and mounts when an update leaves them out, and changes nothing else', async () => {
    const current = pod({ containers: [{ name: 'a' }, { name: 'b' }] });
    await admit(current);
    const next = pod({ containers: [{ name: 'a' }, { name: 'b' }] });
    keepAdmittedServiceAccount(next, current);
    expect(next.spec).toEqual(current.spec);
    // A manifest that declares volumes of its own keeps them, with the token volume after.
    const withOwn = pod({ volumes: [{ name: 'data', emptyDir: {} }], containers: [{ name: 'a' }, { name: 'b' }] });
    keepAdmittedServiceAccount(withOwn, current);
    expect((withOwn.spec as Spec).volumes?.map((v) => v.name)).toEqual(['data', 'kube-api-access-x7k2q']);
  });
});
