import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addNode } from '../support/cluster.js';
import { startEventPathStack, type EventPathStack } from '../support/event-path.js';
import { T, until } from '../support/wait.js';
import { StatusError } from '../../shared/model/errors.js';
import type { KubeObject, StoredObject } from '../../shared/model/types.js';

/**
 * The volume binder and the scheduler's VolumeBinding behind the real event path (issue 22), without
 * agents: admission's refusals, static binding as Kubernetes matches, release and reclaim, the
 * protection finalizers, default class assignment, and pods that wait for their claims.
 */
let s: EventPathStack;
beforeAll(async () => {
  s = await startEventPathStack();
  await addNode(s.api.service, 'n1');
});
afterAll(() => s?.path.stop());

const svc = () => s.api.service;
const pvc = (name: string, spec: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolumeClaim',
  metadata: { name, ...extra },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, ...spec },
});
const pv = (name: string, storage: string, spec: Record<string, unknown> = {}, labels?: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'PersistentVolume',
  metadata: { name, ...(labels ? { labels } : {}) },
  spec: {
    capacity: { storage },
    accessModes: ['ReadWriteOnce'],
    storageClassName: 'manual',
    hostPath: { path: `/tmp/kumo-test-${name}` },
    ...spec,
  },
});
const getClaim = (name: string) => svc().get(T('PersistentVolumeClaim'), 'default', name);
const getVolume = (name: string) => svc().get(T('PersistentVolume'), '', name);
const gone = (p: Promise<unknown>) =>
  p.then(
    () => false,
    (e: unknown) => e instanceof StatusError && e.code === 404,
  );
/** The 422's causes as [field, message] pairs. */
async function refused(kind: string, body: unknown, namespace: string | undefined = 'default') {
  const e = await svc()
    .create(T(kind), namespace, body)
    .then(
      () => undefined,
      (err: unknown) => err,
    );
  if (!(e instanceof StatusError)) throw new Error(`${kind} was accepted`);
  const st = e.toStatus();
  return { code: st.code, causes: (st.details?.causes ?? []).map((c) => [c.field, c.message]) };
}
const reasonsFor = async (name: string) =>
  (await svc().list(T('Event'), 'default')).items
    .filter((e: KubeObject) => (e.involvedObject as { name?: string } | undefined)?.name === name)
    .map((e: KubeObject) => `${String(e.reason)}: ${String(e.message)}`);

describe('claims, volumes and classes: bad input', () => {
  it('refuses what Kubernetes refuses, naming the field, and what kumo nodes cannot mount', async () => {
    expect(
      await refused('PersistentVolumeClaim', { ...pvc('bad'), spec: { accessModes: ['ReadWriteSometimes'] } }),
    ).toEqual({
      code: 422,
      causes: [
        [
          'spec.accessModes',
          'Unsupported value: "ReadWriteSometimes": supported values: "ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"',
        ],
        ['spec.resources[storage]', 'Required value'],
      ],
    });
    expect(await refused('PersistentVolumeClaim', pvc('bad', { accessModes: [] }))).toMatchObject({
      causes: [['spec.accessModes', 'Required value: at least 1 access mode is required']],
    });
    expect(await refused('PersistentVolumeClaim', pvc('bad', { volumeMode: 'Block' }))).toMatchObject({
      causes: [['spec.volumeMode', expect.stringContaining('raw block volumes are not supported')]],
    });
    expect(
      await refused(
        'PersistentVolumeClaim',
        pvc('bad', { dataSource: { kind: 'VolumeSnapshot', name: 'x', apiGroup: 'snapshot.storage.k8s.io' } }),
      ),
    ).toMatchObject({ causes: [['spec.dataSource', expect.stringContaining('no snapshots')]] });
    expect(await refused('PersistentVolume', pv('bad', 'lots'), undefined)).toMatchObject({
      code: 422,
      causes: [['spec.capacity[storage]', expect.stringContaining('quantities must match the regular expression')]],
    });
    expect(
      await refused(
        'PersistentVolume',
        pv('bad', '1Gi', { hostPath: undefined, local: { path: '/mnt/disk' } }),
        undefined,
      ),
    ).toMatchObject({ causes: [['spec.nodeAffinity', 'Required value: Local volume requires node affinity']] });
    expect(
      await refused(
        'PersistentVolume',
        pv('bad', '1Gi', { hostPath: undefined, nfs: { server: 'x', path: '/' } }),
        undefined,
      ),
    ).toMatchObject({ causes: [['spec.nfs', expect.stringContaining('kumo nodes mount only local and hostPath')]] });
    expect(await refused('PersistentVolume', pv('bad', '1Gi', { hostPath: undefined }), undefined)).toMatchObject({
      causes: [['spec', 'Required value: must specify a volume type']],
    });
    // What kumo's bind mounts and its own provisioner cannot honour.
    expect(await refused('PersistentVolume', pv('bad', '1Gi', { mountOptions: ['hard'] }), undefined)).toMatchObject({
      causes: [['spec.mountOptions', expect.stringContaining('mount options are not applied')]],
    });
    expect(
      await refused(
        'StorageClass',
        {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name: 'bad' },
          provisioner: 'kumo.dev/local',
          parameters: { type: 'ssd' },
        },
        undefined,
      ),
    ).toMatchObject({
      causes: [['parameters[type]', 'Forbidden: the kumo.dev/local provisioner takes no parameters']],
    });
    expect(
      await refused(
        'StorageClass',
        {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'StorageClass',
          metadata: { name: 'bad' },
          provisioner: 'x',
          reclaimPolicy: 'Recycle',
          volumeBindingMode: 'Later',
        },
        undefined,
      ),
    ).toEqual({
      code: 422,
      causes: [
        ['reclaimPolicy', 'Unsupported value: "Recycle": supported values: "Delete", "Retain"'],
        ['volumeBindingMode', 'Unsupported value: "Later": supported values: "Immediate", "WaitForFirstConsumer"'],
      ],
    });
  });

  it('keeps a claim’s spec, refuses a shrink, and a class’s parameters stay as created', async () => {
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('fixed', { storageClassName: 'none-such' }));
    const patch = (p: unknown) =>
      svc()
        .patch(T('PersistentVolumeClaim'), 'default', 'fixed', 'merge', p)
        .then(
          () => undefined,
          (e: unknown) => (e as StatusError).toStatus(),
        );
    expect((await patch({ spec: { resources: { requests: { storage: '512Mi' } } } }))?.details?.causes).toEqual([
      {
        reason: 'FieldValueForbidden',
        message: 'Forbidden: field can not be less than previous value',
        field: 'spec.resources.requests.storage',
      },
    ]);
    expect((await patch({ spec: { accessModes: ['ReadWriteMany'] } }))?.details?.causes?.[0]).toMatchObject({
      field: 'spec',
      message: expect.stringContaining('spec is immutable after creation'),
    });
    await svc().create(T('StorageClass'), undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'fixed' },
      provisioner: 'example.com/disk',
      parameters: { type: 'gp3' },
    });
    const sc = await svc().get(T('StorageClass'), '', 'fixed');
    expect(sc).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    const e = await svc()
      .patch(T('StorageClass'), '', 'fixed', 'merge', { parameters: { type: 'io2' } })
      .catch((x: unknown) => x);
    expect((e as StatusError).toStatus().details?.causes).toEqual([
      {
        reason: 'FieldValueForbidden',
        message: 'Forbidden: updates to parameters are forbidden.',
        field: 'parameters',
      },
    ]);
    await svc().delete(T('StorageClass'), '', 'fixed');
  });
});

describe('the binder', () => {
  it('binds a claim to the smallest volume of its class that has its access modes and matches its selector', async () => {
    await svc().create(T('PersistentVolume'), undefined, pv('big', '10Gi'));
    await svc().create(T('PersistentVolume'), undefined, pv('small', '2Gi'));
    await svc().create(T('PersistentVolume'), undefined, pv('tiny', '512Mi'));
    await svc().create(T('PersistentVolume'), undefined, pv('other-class', '1Gi', { storageClassName: 'slow' }));
    await svc().create(T('PersistentVolume'), undefined, pv('labelled', '5Gi', {}, { tier: 'gold' }));
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('a', { storageClassName: 'manual' }));
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('gold', { storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }),
    );
    await until(
      async () => (await getClaim('a')).status?.phase === 'Bound' && (await getClaim('gold')).status?.phase === 'Bound',
    );
    const a = await getClaim('a');
    expect(a.spec?.volumeName).toBe('small');
    expect(a.status).toMatchObject({ phase: 'Bound', capacity: { storage: '2Gi' }, accessModes: ['ReadWriteOnce'] });
    expect(a.metadata.annotations).toMatchObject({
      'pv.kubernetes.io/bind-completed': 'yes',
      'pv.kubernetes.io/bound-by-controller': 'yes',
    });
    expect(a.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
    expect((await getClaim('gold')).spec?.volumeName).toBe('labelled');
    await until(async () => (await getVolume('small')).status?.phase === 'Bound');
    const small = await getVolume('small');
    expect(small.spec?.claimRef).toMatchObject({
      kind: 'PersistentVolumeClaim',
      namespace: 'default',
      name: 'a',
      uid: a.metadata.uid,
    });
    expect(small.metadata.finalizers).toEqual(['kubernetes.io/pv-protection']);
    expect((await getVolume('big')).status?.phase).toBe('Available');
  });

  it('binds a claim that names its volume, and a volume reserved for a claim to that claim only', async () => {
    await svc().create(
      T('PersistentVolume'),
      undefined,
      pv('reserved', '1Gi', { claimRef: { namespace: 'default', name: 'wants-reserved' } }),
    );
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('named', { storageClassName: 'manual', volumeName: 'big' }),
    );
    await until(async () => (await getClaim('named')).status?.phase === 'Bound');
    // A claim that fits the reserved volume but is not its claim gets another one.
    await svc().create(T('PersistentVolume'), undefined, pv('spare', '1Gi'));
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('b', { storageClassName: 'manual' }));
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('wants-reserved', { storageClassName: 'manual' }));
    await until(
      async () =>
        (await getClaim('b')).status?.phase === 'Bound' && (await getClaim('wants-reserved')).status?.phase === 'Bound',
    );
    expect((await getClaim('named')).spec?.volumeName).toBe('big');
    expect((await getClaim('wants-reserved')).spec?.volumeName).toBe('reserved');
    expect((await getClaim('b')).spec?.volumeName).toBe('spare');
  });

  it('releases a volume whose claim is deleted: Retain keeps it Released, Delete of a volume kumo did not make fails', async () => {
    await svc().patch(T('PersistentVolume'), '', 'tiny', 'merge', {
      spec: { persistentVolumeReclaimPolicy: 'Delete' },
    });
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('short', { storageClassName: 'manual', resources: { requests: { storage: '256Mi' } } }),
    );
    await until(async () => (await getClaim('short')).status?.phase === 'Bound');
    expect((await getClaim('short')).spec?.volumeName).toBe('tiny');
    await svc().delete(T('PersistentVolumeClaim'), 'default', 'a');
    await svc().delete(T('PersistentVolumeClaim'), 'default', 'short');
    await until(async () => (await getVolume('small')).status?.phase === 'Released');
    await until(async () => (await getVolume('tiny')).status?.phase === 'Failed');
    expect((await getVolume('tiny')).status?.message).toContain('no deletable volume plugin matched');
    expect(await reasonsFor('tiny')).toEqual([expect.stringMatching(/^VolumeFailedDelete: /)]);
    // A Released volume is not bound again (its data belongs to the old claim): a new one is.
    await svc().create(T('PersistentVolume'), undefined, pv('fresh', '2Gi'));
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('c', { storageClassName: 'manual' }));
    await until(async () => (await getClaim('c')).status?.phase === 'Bound');
    expect((await getClaim('c')).spec?.volumeName).toBe('fresh');
  });

  it('keeps a bound volume while its claim exists (pv-protection)', async () => {
    const bound = (await getClaim('c')).spec?.volumeName as string;
    await svc().delete(T('PersistentVolume'), '', bound);
    await new Promise((r) => setTimeout(r, 1500));
    expect((await getVolume(bound)).metadata.deletionTimestamp).toBeTruthy();
    await svc().delete(T('PersistentVolumeClaim'), 'default', 'c');
    await until(() => gone(getVolume(bound)));
  });

  it('says why a claim waits: no class and no volume, a class that does not exist, an external provisioner', async () => {
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('classless', { storageClassName: '', resources: { requests: { storage: '100Gi' } } }),
    );
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('missing-class', { storageClassName: 'gone' }));
    await svc().create(T('StorageClass'), undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'ebs' },
      provisioner: 'ebs.csi.aws.com',
    });
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('external', { storageClassName: 'ebs' }));
    await until(
      async () =>
        (await reasonsFor('external')).length > 0 &&
        (await reasonsFor('missing-class')).length > 0 &&
        (await reasonsFor('classless')).length > 0,
    );
    expect(await reasonsFor('classless')).toContain(
      'FailedBinding: no persistent volumes available for this claim and no storage class is set',
    );
    expect(await reasonsFor('missing-class')).toContain(
      'ProvisioningFailed: storageclass.storage.k8s.io "gone" not found',
    );
    expect((await reasonsFor('external'))[0]).toMatch(
      /^ExternalProvisioning: Waiting for a volume to be created either by the external provisioner 'ebs.csi.aws.com'/,
    );
    expect((await getClaim('external')).metadata.annotations).toMatchObject({
      'volume.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com',
      'volume.beta.kubernetes.io/storage-provisioner': 'ebs.csi.aws.com',
    });
    for (const n of ['classless', 'missing-class', 'external'])
      expect((await getClaim(n)).status?.phase).toBe('Pending');
  });

  it('gives a claim that names no class the default class, once there is one', async () => {
    await svc().create(T('PersistentVolumeClaim'), 'default', pvc('unnamed'));
    await new Promise((r) => setTimeout(r, 1000));
    expect((await getClaim('unnamed')).spec?.storageClassName).toBeUndefined();
    await svc().create(T('StorageClass'), undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kumo.dev/local',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
    // The claim is looked at again within the controller's resync.
    await until(async () => (await getClaim('unnamed')).spec?.storageClassName === 'standard', 30_000);
  });
});

describe('pods that use claims', () => {
  const podWith = (name: string, claimName: string) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      containers: [{ name: 'c', image: 'busybox:1.36', volumeMounts: [{ name: 'd', mountPath: '/d' }] }],
      volumes: [{ name: 'd', persistentVolumeClaim: { claimName } }],
    },
  });
  const scheduled = async (name: string) => {
    const p = (await svc().get(T('Pod'), 'default', name)) as StoredObject;
    return {
      node: p.spec?.nodeName as string | undefined,
      condition: ((p.status?.conditions ?? []) as { type: string; message?: string }[]).find(
        (c) => c.type === 'PodScheduled',
      ),
    };
  };

  it('wait, with the scheduler’s message, while a claim is missing or unbound, and are placed once it binds', async () => {
    await svc().create(T('Pod'), 'default', podWith('needs-missing', 'nope'));
    await svc().create(T('Pod'), 'default', podWith('needs-unbound', 'later'));
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('later', { storageClassName: 'manual', resources: { requests: { storage: '3Gi' } } }),
    );
    await until(
      async () =>
        (await scheduled('needs-missing')).condition?.message !== undefined &&
        (await scheduled('needs-unbound')).condition?.message !== undefined,
    );
    expect((await scheduled('needs-missing')).condition?.message).toBe(
      '0/1 nodes are available: persistentvolumeclaim "nope" not found.',
    );
    expect((await scheduled('needs-unbound')).condition?.message).toBe(
      '0/1 nodes are available: pod has unbound immediate PersistentVolumeClaims.',
    );
    expect(await reasonsFor('needs-missing')).toContain(
      'FailedScheduling: 0/1 nodes are available: persistentvolumeclaim "nope" not found.',
    );
    // A volume that fits arrives: the claim binds and the pod is placed.
    await svc().create(T('PersistentVolume'), undefined, pv('arrives', '3Gi'));
    await until(async () => (await scheduled('needs-unbound')).node === 'n1', 30_000);
    // A volume only another node can reach keeps a pod off this one.
    await svc().create(
      T('PersistentVolume'),
      undefined,
      pv('elsewhere', '7Gi', {
        nodeAffinity: {
          required: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['n2'] }] },
            ],
          },
        },
      }),
    );
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('far', { storageClassName: 'manual', resources: { requests: { storage: '7Gi' } } }),
    );
    await until(async () => (await getClaim('far')).status?.phase === 'Bound');
    await svc().create(T('Pod'), 'default', podWith('far-pod', 'far'));
    await until(async () => (await scheduled('far-pod')).condition?.message !== undefined);
    expect((await scheduled('far-pod')).condition?.message).toBe(
      '0/1 nodes are available: 1 node(s) had volume node affinity conflict.',
    );
  });

  it('provisions local volumes on the node the scheduler picks, within the node’s local volume capacity', async () => {
    // What an agent of the docker runtime registers (no agent runs here: the pods are only placed).
    await svc().patch(T('Node'), '', 'n1', 'merge', {
      metadata: {
        annotations: {
          'kumo.dev/local-volumes-dir': '/tmp/kumo-test-volumes',
          'kumo.dev/local-volumes-capacity': '1Gi',
        },
      },
    });
    const local = (name: string) =>
      pvc(name, { storageClassName: 'standard', resources: { requests: { storage: '600Mi' } } });
    await svc().create(T('PersistentVolumeClaim'), 'default', local('room-1'));
    await svc().create(T('Pod'), 'default', podWith('room-1-pod', 'room-1'));
    await until(async () => (await scheduled('room-1-pod')).node === 'n1', 30_000);
    const claim = await getClaim('room-1');
    expect(claim.metadata.annotations?.['volume.kubernetes.io/selected-node']).toBe('n1');
    const volume = await getVolume(claim.spec?.volumeName as string);
    expect(volume.spec).toMatchObject({
      capacity: { storage: '600Mi' },
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: 'standard',
      local: { path: `/tmp/kumo-test-volumes/pvc-${claim.metadata.uid}` },
    });
    expect(volume.metadata.finalizers).toEqual(['kubernetes.io/pv-protection', 'kumo.dev/local-volume-cleanup']);
    // 424Mi are left: a second 600Mi claim fits nowhere.
    await svc().create(T('PersistentVolumeClaim'), 'default', local('room-2'));
    await svc().create(T('Pod'), 'default', podWith('room-2-pod', 'room-2'));
    await until(async () => (await scheduled('room-2-pod')).condition?.message !== undefined);
    expect((await scheduled('room-2-pod')).condition?.message).toBe(
      '0/1 nodes are available: 1 node(s) did not have enough free storage.',
    );
    expect((await getClaim('room-2')).status?.phase).toBe('Pending');
  });

  it('lets one pod at a time use a ReadWriteOncePod claim', async () => {
    await svc().create(T('PersistentVolume'), undefined, pv('solo', '1Gi', { accessModes: ['ReadWriteOncePod'] }));
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('solo', { storageClassName: 'manual', accessModes: ['ReadWriteOncePod'] }),
    );
    await until(async () => (await getClaim('solo')).status?.phase === 'Bound');
    await svc().create(T('Pod'), 'default', podWith('solo-a', 'solo'));
    await until(async () => (await scheduled('solo-a')).node === 'n1');
    await svc().create(T('Pod'), 'default', podWith('solo-b', 'solo'));
    await until(async () => (await scheduled('solo-b')).condition?.message !== undefined);
    expect((await scheduled('solo-b')).condition?.message).toBe(
      '0/1 nodes are available: node has pod using PersistentVolumeClaim with the same name and ReadWriteOncePod access mode.',
    );
    await svc().delete(T('Pod'), 'default', 'solo-a', { gracePeriodSeconds: 0 });
    await until(async () => (await scheduled('solo-b')).node === 'n1', 30_000);
  });

  it('takes back a node choice the provisioner cannot use, and deletes a local volume no pod ever mounted at once', async () => {
    await svc().create(T('PersistentVolumeClaim'), 'default', {
      ...pvc('stray', { storageClassName: 'standard', resources: { requests: { storage: '100Mi' } } }),
      metadata: { name: 'stray', annotations: { 'volume.kubernetes.io/selected-node': 'gone-node' } },
    });
    await until(
      async () => (await getClaim('stray')).metadata.annotations?.['volume.kubernetes.io/selected-node'] === undefined,
    );
    expect(await reasonsFor('stray')).toContain(
      'ProvisioningFailed: node "gone-node" selected for this claim no longer exists',
    );
    // room-1's volume was provisioned for a pod no agent ever started: nothing on any disk to wait for.
    const volumeName = (await getClaim('room-1')).spec?.volumeName as string;
    await svc().delete(T('Pod'), 'default', 'room-1-pod', { gracePeriodSeconds: 0 });
    await svc().delete(T('PersistentVolumeClaim'), 'default', 'room-1');
    await until(() => gone(getVolume(volumeName)), 30_000);
  });

  it('provisions only where the class’s allowedTopologies allow', async () => {
    await svc().create(T('StorageClass'), undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'zoned' },
      provisioner: 'kumo.dev/local',
      volumeBindingMode: 'WaitForFirstConsumer',
      allowedTopologies: [{ matchLabelExpressions: [{ key: 'topology.kubernetes.io/zone', values: ['z9'] }] }],
    });
    await svc().create(
      T('PersistentVolumeClaim'),
      'default',
      pvc('zoned', { storageClassName: 'zoned', resources: { requests: { storage: '10Mi' } } }),
    );
    await svc().create(T('Pod'), 'default', podWith('zoned-pod', 'zoned'));
    await until(async () => (await scheduled('zoned-pod')).condition?.message !== undefined);
    expect((await scheduled('zoned-pod')).condition?.message).toBe(
      "0/1 nodes are available: 1 node(s) didn't find available persistent volumes to bind.",
    );
    await svc().patch(T('Node'), '', 'n1', 'merge', { metadata: { labels: { 'topology.kubernetes.io/zone': 'z9' } } });
    await until(async () => (await scheduled('zoned-pod')).node === 'n1', 30_000);
  });
});
