import { describe, expect, it } from 'vitest';
import { prepareCreate, prepareUpdate } from '../../../shared/apiserver/admission.js';
import { BadRequestError, InvalidError } from '../../../shared/model/errors.js';
import { typeByKindName, type ResourceType } from '../../../shared/model/kinds.js';
import type { KubeObject, StoredObject } from '../../../shared/model/types.js';
import { makeDeployment, makePod } from '../../support/fixtures.js';

const T = (kind: string): ResourceType => typeByKindName(kind) as ResourceType;
const ctx = { now: new Date('2026-03-04T05:06:07.890Z'), uid: 'uid-1', nameSuffix: 'x7k2q' };
/** What the store would hand back after writing `o`. */
const stored = (o: KubeObject, rv = '100'): StoredObject =>
  ({ ...o, metadata: { ...o.metadata, resourceVersion: rv } }) as StoredObject;

describe('prepareCreate', () => {
  it('owns uid, resourceVersion, generation, creationTimestamp and status', () => {
    const body = makeDeployment('web', (d) => {
      Object.assign(d.metadata, {
        uid: 'mine',
        resourceVersion: '42',
        generation: 9,
        creationTimestamp: '2000-01-01T00:00:00Z',
        deletionTimestamp: '2000-01-01T00:00:00Z',
      });
      (d as KubeObject).status = { replicas: 99 };
    });
    const o = prepareCreate(T('Deployment'), body, ctx);
    expect(o.metadata).toMatchObject({ uid: 'uid-1', generation: 1, creationTimestamp: '2026-03-04T05:06:07Z' });
    expect(o.metadata.resourceVersion).toBeUndefined();
    expect(o.metadata.deletionTimestamp).toBeUndefined();
    expect(o.status).toEqual({});
  });

  it('defaults like Kubernetes', () => {
    const d = prepareCreate(
      T('Deployment'),
      makeDeployment('web', (x) => delete x.spec.replicas),
      ctx,
    );
    expect(d.spec).toMatchObject({
      replicas: 1,
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    });
    const podSpec = (d.spec as any).template.spec;
    expect(podSpec).toMatchObject({
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
    });
    expect(podSpec.containers[0]).toMatchObject({
      imagePullPolicy: 'IfNotPresent',
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
    });

    const p = prepareCreate(
      T('Pod'),
      makePod()
        .with((o) => ((o.spec as any).containers[0].image = 'nginx'))
        .build(),
      ctx,
    );
    expect((p.spec as any).containers[0].imagePullPolicy).toBe('Always');
    expect(p.status).toEqual({ phase: 'Pending', qosClass: 'BestEffort' });
  });

  it('fills the namespace from the URL, and refuses a different one', () => {
    const body = makePod().build();
    delete body.metadata.namespace;
    expect(prepareCreate(T('Pod'), body, { ...ctx, namespace: 'team-a' }).metadata.namespace).toBe('team-a');
    expect(() => prepareCreate(T('Pod'), makePod().inNamespace('b').build(), { ...ctx, namespace: 'a' })).toThrow(
      BadRequestError,
    );
  });

  it('refuses a body of another kind', () => {
    expect(() => prepareCreate(T('Pod'), makeDeployment(), ctx)).toThrow(/do not match the request path/);
    expect(() => prepareCreate(T('Pod'), [makePod().build()], ctx)).toThrow(BadRequestError);
  });

  it('names from generateName', () => {
    const body = makePod()
      .with((o) => {
        delete o.metadata.name;
        o.metadata.generateName = 'web-';
      })
      .build();
    expect(prepareCreate(T('Pod'), body, ctx).metadata.name).toBe('web-x7k2q');
  });

  it('folds Secret stringData into base64 data', () => {
    const s = prepareCreate(
      T('Secret'),
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: 'YQ==' }, stringData: { b: 'bee' } },
      ctx,
    );
    expect(s).toMatchObject({ type: 'Opaque', data: { a: 'YQ==', b: Buffer.from('bee').toString('base64') } });
    expect(s.stringData).toBeUndefined();
  });

  it('gives a Job a selector on its own uid', () => {
    const job = prepareCreate(
      T('Job'),
      {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { name: 'j' },
        spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'x' }] } } },
      },
      ctx,
    );
    expect(job.spec).toMatchObject({
      completions: 1,
      parallelism: 1,
      backoffLimit: 6,
      selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': 'uid-1' } },
    });
    expect((job.spec as any).template.metadata.labels).toMatchObject({ 'job-name': 'j', 'controller-uid': 'uid-1' });
  });

  it('throws InvalidError listing every cause', () => {
    try {
      prepareCreate(
        T('Pod'),
        makePod()
          .named('Bad_Name')
          .with((o) => delete (o.spec as any).containers[0].image)
          .build(),
        ctx,
      );
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidError);
      const status = (e as InvalidError).toStatus();
      expect(status.code).toBe(422);
      expect(status.details?.causes?.map((c) => c.field)).toEqual(['metadata.name', 'spec.containers[0].image']);
    }
  });
});

describe('prepareUpdate', () => {
  const current = stored(prepareCreate(T('Deployment'), makeDeployment(), ctx));

  it('returns undefined when nothing changes (no write, same resourceVersion)', () => {
    expect(prepareUpdate(T('Deployment'), current, structuredClone(current), 'main')).toBeUndefined();
    // A body without server-set fields or defaults is the same object too.
    expect(prepareUpdate(T('Deployment'), current, makeDeployment(), 'main')).toBeUndefined();
  });

  it('bumps generation on a spec change only', () => {
    const scaled = prepareUpdate(
      T('Deployment'),
      current,
      makeDeployment('web', (d) => (d.spec.replicas = 5)),
      'main',
    );
    expect(scaled?.metadata.generation).toBe(2);
    const relabelled = prepareUpdate(
      T('Deployment'),
      current,
      makeDeployment('web', (d) => (d.metadata.labels = { app: 'web', extra: 'yes' })),
      'main',
    );
    expect(relabelled?.metadata.generation).toBe(1);
  });

  it('keeps status on the main path and changes only status on the status path', () => {
    const withStatus = stored({ ...current, status: { replicas: 2 } });
    const main = prepareUpdate(
      T('Deployment'),
      withStatus,
      { ...makeDeployment('web', (d) => (d.spec.replicas = 3)), status: { replicas: 50 } },
      'main',
    );
    expect(main?.status).toEqual({ replicas: 2 });
    const status = prepareUpdate(
      T('Deployment'),
      withStatus,
      { ...makeDeployment('web', (d) => (d.spec.replicas = 9)), status: { replicas: 3 } },
      'status',
    );
    expect(status?.status).toEqual({ replicas: 3 });
    expect((status?.spec as any).replicas).toBe(2);
    expect(status?.metadata.generation).toBe(1);
  });

  it('keeps uid and creationTimestamp whatever the client sends', () => {
    const next = prepareUpdate(
      T('Deployment'),
      current,
      makeDeployment('web', (d) =>
        Object.assign(d.metadata, {
          uid: 'forged',
          creationTimestamp: '1999-01-01T00:00:00Z',
          labels: { app: 'web', v: '2' },
        }),
      ),
      'main',
    );
    expect(next?.metadata).toMatchObject({ uid: 'uid-1', creationTimestamp: '2026-03-04T05:06:07Z' });
  });

  it('refuses changes to immutable fields', () => {
    expect(() =>
      prepareUpdate(
        T('Deployment'),
        current,
        makeDeployment(
          'web',
          (d) => (
            (d.spec.selector = { matchLabels: { app: 'web', v: '2' } }),
            (d.spec.template.metadata.labels.v = '2')
          ),
        ),
        'main',
      ),
    ).toThrow(/spec.selector: Invalid value.*field is immutable/);
    const pod = stored(prepareCreate(T('Pod'), makePod().build(), ctx));
    expect(
      prepareUpdate(
        T('Pod'),
        pod,
        makePod()
          .with((o) => ((o.spec as any).containers[0].image = 'busybox:1.37'))
          .build(),
        'main',
      ),
    ).toBeDefined();
    expect(() =>
      prepareUpdate(
        T('Pod'),
        pod,
        makePod()
          .with((o) => ((o.spec as any).restartPolicy = 'Never'))
          .build(),
        'main',
      ),
    ).toThrow(/pod updates may not change fields/);
  });

  it('refuses a body whose name differs from the URL', () => {
    expect(() => prepareUpdate(T('Deployment'), current, makeDeployment('other'), 'main')).toThrow(
      /does not match the name on the URL/,
    );
  });
});
