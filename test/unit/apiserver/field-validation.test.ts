import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCatalog, CATALOG_FILE } from '../../../tools/generate-field-catalog.js';
import { checkFields } from '../../../shared/model/schemas/field-validation.js';

describe('checkFields', () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      labels: { 'any-label': 'x' },
      annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      colour: 'blue',
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { rollingUpdate: { maxSurge: '25%' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          containers: [
            {
              name: 'a',
              image: 'nginx',
              imagee: 'typo',
              resources: { limits: { cpu: '1' } },
              ports: [{ containerPort: 80, hostPot: 1 }],
            },
            {
              name: 'b',
              image: 'busybox',
              env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k', optinal: true } } }],
            },
          ],
          nodeSelector: { 'kubernetes.io/os': 'linux' },
        },
      },
    },
    status: { replicas: 1, unknownStatus: 1 },
  };

  it('names every unknown field by its path and drops exactly those', () => {
    const { pruned, unknown } = checkFields('Deployment', deployment);
    expect(unknown).toEqual([
      'metadata.colour',
      'spec.template.spec.containers[0].imagee',
      'spec.template.spec.containers[0].ports[0].hostPot',
      'spec.template.spec.containers[1].env[0].valueFrom.secretKeyRef.optinal',
      'status.unknownStatus',
    ]);
    const p = pruned as any;
    expect(p.metadata.colour).toBeUndefined();
    expect(p.spec.template.spec.containers[0]).toEqual({
      name: 'a',
      image: 'nginx',
      resources: { limits: { cpu: '1' } },
      ports: [{ containerPort: 80 }],
    });
    // Maps (labels, annotations, nodeSelector, limits) hold user keys, never unknown fields.
    expect(p.metadata.labels).toEqual({ 'any-label': 'x' });
    expect(p.spec.template.spec.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' });
    expect(deployment.metadata.colour).toBe('blue'); // the input is left alone
  });

  it('passes strategic merge patch directives and leaves well-formed objects untouched', () => {
    const patch = {
      spec: {
        template: {
          spec: {
            $setElementOrder: 1,
            '$setElementOrder/containers': [{ name: 'a' }],
            containers: [{ name: 'a', $patch: 'delete' }],
          },
        },
      },
    };
    expect(checkFields('Deployment', patch).unknown).toEqual([]);
    const clean = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { anything: 'goes' },
      binaryData: {},
      immutable: true,
    };
    expect(checkFields('ConfigMap', clean)).toEqual({ pruned: clean, unknown: [] });
    expect(checkFields('NoSuchKind', { x: 1 }).unknown).toEqual([]);
  });

  it('treats fields named like Object.prototype members as unknown (found by the fuzz test: a 500 before)', () => {
    const body = JSON.parse(
      '{"metadata":{"name":"s","toString":{},"constructor":1,"__proto__":{"x":1}},"data":{"hasOwnProperty":"dg=="}}',
    );
    const { pruned, unknown } = checkFields('Secret', body);
    expect(unknown.sort()).toEqual(['metadata.__proto__', 'metadata.constructor', 'metadata.toString']);
    expect(pruned).toEqual({ metadata: { name: 's' }, data: { hasOwnProperty: 'dg==' } });
  });

  it.each([
    [
      'Pod',
      { spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { port: 80, pth: '/' } } }] } },
      ['spec.containers[0].livenessProbe.httpGet.pth'],
    ],
    ['Job', { spec: { backoffLimitt: 1, template: { spec: { restartPolicy: 'Never' } } } }, ['spec.backoffLimitt']],
    ['Service', { spec: { ports: [{ port: 80, targetPort: 'http', protocl: 'TCP' }] } }, ['spec.ports[0].protocl']],
    ['Node', { spec: { taints: [{ key: 'k', effect: 'NoSchedule', efect: 'x' }] } }, ['spec.taints[0].efect']],
    ['Secret', { stringData: { a: 'b' }, data: {}, typ: 'Opaque' }, ['typ']],
  ])('%s', (kind, body, unknown) => {
    expect(checkFields(kind, body).unknown).toEqual(unknown);
  });
});

describe('the field catalog', () => {
  it('is what tools/generate-field-catalog.ts makes from the installed @kubernetes/client-node (run npm run generate:fields)', () => {
    expect(JSON.parse(readFileSync(CATALOG_FILE, 'utf8'))).toEqual(buildCatalog());
  });
});
