import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredObject } from '../../shared/model/types.js';
import { StatusError } from '../../shared/model/errors.js';
import { startEventPathApi } from '../support/event-path.js';
import { kubectlFor, kubectlPath, type Kubectl } from '../support/kubectl.js';
import { T, until } from '../support/wait.js';

/**
 * StatefulSets (issue 20) through the real event path and the real API handler over HTTP, with the
 * real kubectl: ordinals in order, each after the one before is Ready (what an agent reports is
 * written here as it would write it), a lost pod back under its own name, a partitioned rolling
 * update, scale-down from the top, and `kubectl rollout status|history|undo` on ControllerRevisions.
 * Pods have terminationGracePeriodSeconds 0, so a deleted pod goes at once, as an agent would let it.
 */
let s: Awaited<ReturnType<typeof startEventPathApi>>;
let k: Kubectl;
const ns = 'default';

beforeAll(async () => {
  s = await startEventPathApi('sts-node');
  k = kubectlFor(s.url);
}, 60_000);
afterAll(() => s?.close());

const pods = async () =>
  (await s.api.service.list(T('Pod'), ns, { labelSelector: 'app=db' })).items
    .filter((p) => !p.metadata.deletionTimestamp)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
const names = async () => (await pods()).map((p) => p.metadata.name);
/** What an agent would report: the pod runs and is ready. */
const markReady = (p: StoredObject) =>
  s.api.service.patch(
    T('Pod'),
    ns,
    p.metadata.name,
    'merge',
    {
      status: {
        phase: 'Running',
        podIP: `10.44.0.${Number(p.metadata.name.split('-').pop()) + 10}`,
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    },
    'status',
  );
/** Marks every scheduled pod that is not yet Running ready, until `want` pods run. */
async function readyAll(want: number) {
  await until(async () => {
    for (const p of await pods()) if (p.spec?.nodeName && p.status?.phase !== 'Running') await markReady(p);
    return (await pods()).filter((p) => p.status?.phase === 'Running').length === want;
  }, 60_000);
}
const sts = async () => s.api.service.get(T('StatefulSet'), ns, 'db');
const image = (p: StoredObject) => (p.spec as any).containers[0].image as string;

const manifest = `apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  selector:
    app: db
  ports:
  - port: 5432
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  serviceName: db
  replicas: 3
  selector:
    matchLabels:
      app: db
  template:
    metadata:
      labels:
        app: db
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: db
        image: postgres:16
`;

describe.skipIf(!kubectlPath)('StatefulSet', () => {
  it('starts ordinals in order, each only after the one before is Ready, with a stable identity', async () => {
    const file = join(k.dir, 'db.yaml');
    writeFileSync(file, manifest);
    expect(await k.ok('apply', '-f', file)).toBe('service/db created\nstatefulset.apps/db created\n');
    for (let n = 1; n <= 3; n++) {
      await until(async () => (await names()).length === n, 30_000);
      // The next ordinal waits for this one: a moment later there is still no other pod.
      await s.quiet();
      expect(await names()).toEqual(Array.from({ length: n }, (_, i) => `db-${i}`));
      const newest = (await pods())[n - 1] as StoredObject;
      expect(newest.spec).toMatchObject({ hostname: `db-${n - 1}`, subdomain: 'db' });
      expect(newest.metadata.labels).toMatchObject({
        'statefulset.kubernetes.io/pod-name': `db-${n - 1}`,
        'apps.kubernetes.io/pod-index': String(n - 1),
      });
      await until(async () => !!(await pods())[n - 1]?.spec?.nodeName, 30_000);
      await markReady(newest);
    }
    await until(async () => (await sts()).status?.readyReplicas === 3, 30_000);
    const status = (await sts()).status as any;
    expect(status).toMatchObject({ replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3 });
    expect(status.currentRevision).toBe(status.updateRevision);
    expect((await pods()).every((p) => p.metadata.labels?.['controller-revision-hash'] === status.updateRevision)).toBe(
      true,
    );
    expect(await k.ok('get', 'sts', 'db', '--no-headers')).toMatch(/^db\s+3\/3\s+\S+\n$/);
    expect(await k.ok('rollout', 'status', 'sts/db', '--timeout=30s')).toBe(
      'partitioned roll out complete: 3 new pods have been updated...\n',
    );
    // The headless Service gives each pod its own DNS name: its endpoints carry the hostnames.
    await until(async () => {
      const ep = await s.api.service.get(T('Endpoints'), ns, 'db').catch(() => undefined);
      const hosts = ((ep as any)?.subsets?.[0]?.addresses ?? []).map((a: any) => a.hostname).sort();
      return JSON.stringify(hosts) === JSON.stringify(['db-0', 'db-1', 'db-2']);
    }, 30_000);
  });

  it('brings a deleted pod back under its own name', async () => {
    const before = (await pods()).find((p) => p.metadata.name === 'db-1') as StoredObject;
    await k.ok('delete', 'pod', 'db-1');
    await until(async () => {
      const p = (await pods()).find((x) => x.metadata.name === 'db-1');
      return !!p && p.metadata.uid !== before.metadata.uid;
    }, 30_000);
    await readyAll(3);
  });

  it('rolls a partitioned update over the ordinals at or above the partition only, from the top', async () => {
    await k.ok('patch', 'sts', 'db', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":1}}}}');
    await k.ok('set', 'image', 'sts/db', 'db=postgres:17');
    await until(async () => {
      await readyAll(3);
      return (await pods()).filter((p) => image(p) === 'postgres:17').length === 2;
    }, 60_000);
    await s.quiet();
    const byName = Object.fromEntries((await pods()).map((p) => [p.metadata.name, image(p)]));
    expect(byName).toEqual({ 'db-0': 'postgres:16', 'db-1': 'postgres:17', 'db-2': 'postgres:17' });
    await until(async () => (await sts()).status?.updatedReplicas === 2, 30_000);
    const status = (await sts()).status as any;
    expect(status.currentRevision).not.toBe(status.updateRevision);
    expect(await k.ok('rollout', 'status', 'sts/db', '--timeout=30s')).toBe(
      'partitioned roll out complete: 2 new pods have been updated...\n',
    );
    // Partition 0 finishes the rollout, and the update revision becomes the current one.
    await k.ok('patch', 'sts', 'db', '-p', '{"spec":{"updateStrategy":{"rollingUpdate":{"partition":0}}}}');
    await until(async () => {
      await readyAll(3);
      return (await sts()).status?.currentRevision === (await sts()).status?.updateRevision;
    }, 60_000);
    expect((await pods()).map(image)).toEqual(['postgres:17', 'postgres:17', 'postgres:17']);
  });

  it('keeps the history as ControllerRevisions, and rollout undo puts the previous template back', async () => {
    const history = await k.ok('rollout', 'history', 'sts/db');
    expect(history).toMatch(/^statefulset\.apps\/db \nREVISION\s+CHANGE-CAUSE\n1\s+<none>\n2\s+<none>\n/);
    const revisions = await k.ok('get', 'controllerrevisions', '--no-headers');
    expect(revisions).toMatch(/db-\S+\s+statefulset\.apps\/db\s+1\s/);
    expect(revisions).toMatch(/db-\S+\s+statefulset\.apps\/db\s+2\s/);
    expect(await k.ok('rollout', 'undo', 'sts/db')).toBe('statefulset.apps/db rolled back\n');
    await until(async () => {
      await readyAll(3);
      return (await pods()).every((p) => image(p) === 'postgres:16');
    }, 90_000);
    // The old revision is reused and renumbered, not copied.
    await until(async () => /\n2\s+<none>\n3\s+<none>\n/.test(await k.ok('rollout', 'history', 'sts/db')), 30_000);
    expect((await s.api.service.list(T('ControllerRevision'), ns)).items).toHaveLength(2);
  });

  it('scales down from the highest ordinal, one at a time', async () => {
    await k.ok('scale', 'sts/db', '--replicas=1');
    await until(async () => (await names()).length === 1, 60_000);
    expect(await names()).toEqual(['db-0']);
    await until(async () => (await sts()).status?.replicas === 1, 30_000);
    const events = (await s.api.service.list(T('Event'), ns)).items.filter(
      (e) => (e as any).involvedObject?.name === 'db' && (e as any).reason === 'SuccessfulDelete',
    );
    expect(events.map((e) => (e as any).message)).toEqual(
      expect.arrayContaining([
        'delete Pod db-2 in StatefulSet db successful',
        'delete Pod db-1 in StatefulSet db successful',
      ]),
    );
  });

  it('refuses what Kubernetes refuses, and claim templates kumo cannot honour yet, naming the field', async () => {
    const base = {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'bad' },
      spec: {
        selector: { matchLabels: { app: 'bad' } },
        template: { metadata: { labels: { app: 'bad' } }, spec: { containers: [{ name: 'c', image: 'x' }] } },
      },
    };
    const refused = async (spec: Record<string, unknown>) => {
      try {
        await s.api.service.create(T('StatefulSet'), ns, { ...base, spec: { ...base.spec, ...spec } });
      } catch (e) {
        if (e instanceof StatusError)
          return { code: e.code, causes: (e.details?.causes ?? []).map((c) => [c.field, c.message]) };
        throw e;
      }
      throw new Error('accepted');
    };
    expect(await refused({ podManagementPolicy: 'Sometimes' })).toEqual({
      code: 422,
      causes: [['spec.podManagementPolicy', `Invalid value: "Sometimes": must be 'OrderedReady' or 'Parallel'`]],
    });
    expect(await refused({ updateStrategy: { type: 'OnDelete', rollingUpdate: { partition: 1 } } })).toMatchObject({
      causes: [
        [
          'spec.updateStrategy.rollingUpdate',
          expect.stringContaining("only allowed for updateStrategy 'RollingUpdate'"),
        ],
      ],
    });
    expect(await refused({ selector: { matchLabels: { app: 'other' } } })).toMatchObject({
      causes: [
        ['spec.template.metadata.labels', expect.stringContaining('`selector` does not match template `labels`')],
      ],
    });
    // Each claim template is validated as a claim.
    expect(
      await refused({
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { resources: { requests: { storage: '1Gi' } } } }],
      }),
    ).toMatchObject({
      code: 422,
      causes: [['spec.volumeClaimTemplates[0].spec.accessModes', 'Required value: at least 1 access mode is required']],
    });
    expect(
      await refused({
        volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'] } }],
      }),
    ).toMatchObject({
      code: 422,
      causes: [['spec.volumeClaimTemplates[0].spec.resources[storage]', 'Required value']],
    });
    // Only replicas, ordinals, template, updateStrategy, the claim retention policy and minReadySeconds may change.
    const r = await k.run('patch', 'sts', 'db', '-p', '{"spec":{"serviceName":"other"}}');
    expect(r.code).not.toBe(0);
    expect(r.err).toContain(
      "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
    );
  });

  it('goes with its pods and revisions when deleted', async () => {
    await k.ok('delete', 'sts', 'db');
    await until(async () => (await names()).length === 0, 60_000);
    await until(async () => (await s.api.service.list(T('ControllerRevision'), ns)).items.length === 0, 60_000);
  });
});

describe.skipIf(!kubectlPath)('StatefulSet, Parallel', () => {
  it('makes every ordinal at once and removes them at once', async () => {
    await s.api.service.create(T('StatefulSet'), ns, {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'par' },
      spec: {
        replicas: 30,
        serviceName: 'par',
        podManagementPolicy: 'Parallel',
        selector: { matchLabels: { app: 'par' } },
        template: {
          metadata: { labels: { app: 'par' } },
          spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'c', image: 'busybox' }] },
        },
      },
    });
    const par = async () =>
      (await s.api.service.list(T('Pod'), ns, { labelSelector: 'app=par' })).items.filter(
        (p) => !p.metadata.deletionTimestamp,
      );
    await until(async () => (await par()).length === 30, 30_000);
    await s.api.service.patch(T('StatefulSet'), ns, 'par', 'merge', { spec: { replicas: 2 } });
    await until(async () => (await par()).length === 2, 30_000);
    expect((await par()).map((p) => p.metadata.name).sort()).toEqual(['par-0', 'par-1']);
  });
});
