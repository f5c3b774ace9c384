import { describe, expect, it } from 'vitest';
import { UnsupportedMediaTypeError } from '../../../shared/api/errors.js';
import { decodeProtobufObject } from '../../../shared/api/http/protobuf.js';
import { k8sEnvelope, pbField, pbMessage } from '../../support/protobuf.js';

describe('decodeProtobufObject', () => {
  it('reads a Namespace from its ObjectMeta', () => {
    const meta = pbMessage(pbField(1, 'team-a'), pbField(11, pbMessage(pbField(1, 'env'), pbField(2, 'prod'))));
    expect(decodeProtobufObject(k8sEnvelope('v1', 'Namespace', pbMessage(pbField(1, meta))))).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { env: 'prod' } } });
  });

  it('reads DeleteOptions: grace period (also a negative one), preconditions, propagation policy, dry run', () => {
    const options = pbMessage(pbField(1, -1n), pbField(2, pbMessage(pbField(1, 'uid-1'), pbField(2, '42'))), pbField(4, 'Foreground'), pbField(5, 'All'));
    expect(decodeProtobufObject(k8sEnvelope('v1', 'DeleteOptions', options))).toEqual({
      apiVersion: 'v1',
      kind: 'DeleteOptions',
      gracePeriodSeconds: -1,
      preconditions: { uid: 'uid-1', resourceVersion: '42' },
      propagationPolicy: 'Foreground',
      dryRun: ['All'],
    });
    expect(decodeProtobufObject(k8sEnvelope('v1', 'DeleteOptions', pbMessage(pbField(1, 30n), pbField(3, true))))).toMatchObject({ gracePeriodSeconds: 30, orphanDependents: true });
  });

  it('reads the Eviction kubectl drain posts: the pod it names and its DeleteOptions', () => {
    const eviction = pbMessage(pbField(1, pbMessage(pbField(1, 'web-1'), pbField(3, 'default'))), pbField(2, pbMessage(pbField(1, 0n))));
    expect(decodeProtobufObject(k8sEnvelope('policy/v1', 'Eviction', eviction))).toEqual({ apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'web-1', namespace: 'default' }, deleteOptions: { gracePeriodSeconds: 0 } });
  });

  it('refuses kinds whose spec it cannot read, and bodies without the envelope, with 415', () => {
    expect(() => decodeProtobufObject(k8sEnvelope('apps/v1', 'Deployment', pbMessage()))).toThrow(UnsupportedMediaTypeError);
    expect(() => decodeProtobufObject(Buffer.from('{"kind":"Pod"}'))).toThrow(UnsupportedMediaTypeError);
  });
});
