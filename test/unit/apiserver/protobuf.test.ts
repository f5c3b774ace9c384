import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError } from '../../../shared/model/errors.js';
import { decodeProtobufObject } from '../../../shared/apiserver/http/protobuf.js';
import { k8sEnvelope, KUBECTL_CREATE_JOB_BODY, pbField, pbMessage } from '../../support/protobuf.js';

describe('decodeProtobufObject', () => {
  it('reads a Namespace from its ObjectMeta', () => {
    const meta = pbMessage(pbField(1, 'team-a'), pbField(11, pbMessage(pbField(1, 'env'), pbField(2, 'prod'))));
    expect(decodeProtobufObject(k8sEnvelope('v1', 'Namespace', pbMessage(pbField(1, meta))))).toEqual({
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'team-a', labels: { env: 'prod' } },
    });
  });

  it('reads DeleteOptions: grace period (also a negative one), preconditions, propagation policy, dry run', () => {
    const options = pbMessage(
      pbField(1, -1n),
      pbField(2, pbMessage(pbField(1, 'uid-1'), pbField(2, '42'))),
      pbField(4, 'Foreground'),
      pbField(5, 'All'),
    );
    expect(decodeProtobufObject(k8sEnvelope('v1', 'DeleteOptions', options))).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: -1,
      preconditions: { uid: 'uid-1', resourceVersion: '42' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
    expect(
      decodeProtobufObject(k8sEnvelope('v1', 'DeleteOptions', pbMessage(pbField(1, 30n), pbField(3, true)))),
    ).toMatchObject({ gracePeriodSeconds: 30, orphanDependents: true });
  });

  it('reads the Eviction kubectl drain posts: the pod it names and its DeleteOptions', () => {
    const eviction = pbMessage(
      pbField(1, pbMessage(pbField(1, 'web-1'), pbField(3, 'default'))),
      pbField(2, pbMessage(pbField(1, 0n))),
    );
    expect(decodeProtobufObject(k8sEnvelope('policy/v1', 'Eviction', eviction))).toEqual({
      apiVersion: 'policy/v1',
      kind: 'Eviction',
      metadata: { name: 'web-1', namespace: 'default' },
      deleteOptions: { gracePeriodSeconds: 0 },
    });
  });

  it("reads the Job `kubectl create job j1 --image=busybox:1.36 -- echo hi` sends (its bytes, as kubectl 1.32 printed them), dropping Go's empty fields", () => {
    expect(decodeProtobufObject(KUBECTL_CREATE_JOB_BODY)).toEqual({
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j1' },
      spec: {
        template: {
          spec: {
            containers: [{ name: 'j1', image: 'busybox:1.36', command: ['echo', 'hi'] }],
            restartPolicy: 'Never',
          },
        },
      },
    });
  });

  it('reads a Deployment, a ConfigMap, a Secret and a Service as the create generators fill them', () => {
    const meta = (name: string) =>
      pbField(
        1,
        pbMessage(pbField(1, name), pbField(2, ''), pbField(11, pbMessage(pbField(1, 'app'), pbField(2, name)))),
      );
    const container = pbMessage(
      pbField(1, 'nginx'),
      pbField(2, 'nginx:1.27'),
      pbField(5, ''),
      pbField(6, pbMessage(pbField(2, 0n), pbField(3, 80n), pbField(4, 'TCP'))),
      pbField(8, pbMessage(pbField(2, pbMessage(pbField(1, 'cpu'), pbField(2, pbMessage(pbField(1, '100m'))))))),
    );
    const template = pbMessage(
      pbField(1, pbMessage(pbField(11, pbMessage(pbField(1, 'app'), pbField(2, 'web'))))),
      pbField(2, pbMessage(pbField(2, container))),
    );
    const deployment = pbMessage(
      meta('web'),
      pbField(
        2,
        pbMessage(
          pbField(1, 0n),
          pbField(2, pbMessage(pbField(1, pbMessage(pbField(1, 'app'), pbField(2, 'web'))))),
          pbField(3, template),
          pbField(4, pbMessage()),
          pbField(7, false),
        ),
      ),
    );
    expect(decodeProtobufObject(k8sEnvelope('apps/v1', 'Deployment', deployment))).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 0, // a pointer field: an explicit 0 stays
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            containers: [
              {
                name: 'nginx',
                image: 'nginx:1.27',
                ports: [{ containerPort: 80, protocol: 'TCP' }],
                resources: { requests: { cpu: '100m' } },
              },
            ],
          },
        },
      },
    });
    const configMap = pbMessage(meta('cfg'), pbField(2, pbMessage(pbField(1, 'greeting'), pbField(2, 'hello'))));
    expect(decodeProtobufObject(k8sEnvelope('v1', 'ConfigMap', configMap))).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg', labels: { app: 'cfg' } },
      data: { greeting: 'hello' },
    });
    const secret = pbMessage(
      meta('pw'),
      pbField(2, pbMessage(pbField(1, 'password'), pbField(2, Buffer.from([0xff, 0x00, 0x41])))),
      pbField(3, 'Opaque'),
    );
    expect(decodeProtobufObject(k8sEnvelope('v1', 'Secret', secret))).toMatchObject({
      data: { password: Buffer.from([0xff, 0x00, 0x41]).toString('base64') },
      type: 'Opaque',
    });
    const port = pbMessage(
      pbField(1, '80-8080'),
      pbField(2, 'TCP'),
      pbField(3, 80n),
      pbField(4, pbMessage(pbField(1, 0n), pbField(2, 8080n))),
      pbField(5, 0n),
    );
    const service = pbMessage(
      meta('svc'),
      pbField(
        2,
        pbMessage(
          pbField(1, port),
          pbField(2, pbMessage(pbField(1, 'app'), pbField(2, 'svc'))),
          pbField(4, 'ClusterIP'),
        ),
      ),
    );
    expect(decodeProtobufObject(k8sEnvelope('v1', 'Service', service))).toMatchObject({
      spec: {
        ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }],
        selector: { app: 'svc' },
        type: 'ClusterIP',
      },
    });
  });

  it('answers any garbage after the envelope with a result or a 415, never another error (which would be a 500)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'Job',
          'Deployment',
          'Secret',
          'Service',
          'ConfigMap',
          'Eviction',
          'DeleteOptions',
          'Namespace',
        ),
        fc.uint8Array({ maxLength: 300 }),
        (kind, garbage) => {
          try {
            decodeProtobufObject(k8sEnvelope('v1', kind, Buffer.from(garbage)));
          } catch (e) {
            expect(e).toBeInstanceOf(UnsupportedMediaTypeError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('refuses kinds whose spec it cannot read, and bodies without the envelope, with 415', () => {
    expect(() => decodeProtobufObject(k8sEnvelope('apps/v1', 'StatefulSet', pbMessage()))).toThrow(
      UnsupportedMediaTypeError,
    );
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}'))).toThrow(UnsupportedMediaTypeError);
  });
});
