import { describe, expect, it } from 'vitest';
import { applyDefaults } from '../../../../shared/apiserver/admission.js';
import { kindNamed } from '../../../../shared/model/kinds.js';
import type { KubeObject } from '../../../../shared/model/types.js';
import { validationCauses } from '../../../../shared/apiserver/validation/validate.js';
import { makeDeployment, makePod } from '../../../support/fixtures.js';

/** Validates like the API does: after defaulting. */
function causes(o: KubeObject) {
  const copy = structuredClone(o);
  const type = kindNamed(copy.kind);
  applyDefaults(type, copy);
  return validationCauses(type, copy);
}
const fields = (o: KubeObject) => causes(o).map((c) => `${c.field}:${c.reason}`);

describe('validation reports the offending field', () => {
  it('accepts the fixtures as they are', () => {
    expect(causes(makePod().build())).toEqual([]);
    expect(causes(makeDeployment())).toEqual([]);
  });

  it.each<[string, KubeObject, string]>([
    [
      'missing name',
      makePod()
        .with((o) => delete o.metadata.name)
        .build(),
      'metadata.name:FieldValueRequired',
    ],
    ['name of 254 characters', makePod().named('a'.repeat(254)).build(), 'metadata.name:FieldValueInvalid'],
    [
      'label value of 64 characters',
      makePod()
        .with((o) => (o.metadata.labels = { app: 'a'.repeat(64) }))
        .build(),
      'metadata.labels.app:FieldValueInvalid',
    ],
    [
      'bad label key',
      makePod()
        .with((o) => (o.metadata.labels = { 'bad key': 'x' }))
        .build(),
      'metadata.labels.bad key:FieldValueInvalid',
    ],
    [
      'no containers',
      makePod()
        .with((o) => ((o.spec as any).containers = []))
        .build(),
      'spec.containers:FieldValueInvalid',
    ],
    [
      'container without image',
      makePod()
        .with((o) => delete (o.spec as any).containers[0].image)
        .build(),
      'spec.containers[0].image:FieldValueRequired',
    ],
    [
      'container name with capitals',
      makePod()
        .with((o) => ((o.spec as any).containers[0].name = 'Main'))
        .build(),
      'spec.containers[0].name:FieldValueInvalid',
    ],
    [
      'duplicate container names',
      makePod()
        .with((o) => (o.spec as any).containers.push({ name: 'main', image: 'x' }))
        .build(),
      'spec.containers[1].name:FieldValueDuplicate',
    ],
    [
      'port 0',
      makePod()
        .with((o) => ((o.spec as any).containers[0].ports = [{ containerPort: 0 }]))
        .build(),
      'spec.containers[0].ports[0].containerPort:FieldValueInvalid',
    ],
    [
      'port 65536',
      makePod()
        .with((o) => ((o.spec as any).containers[0].ports = [{ containerPort: 65536 }]))
        .build(),
      'spec.containers[0].ports[0].containerPort:FieldValueInvalid',
    ],
    [
      'bad quantity',
      makePod()
        .with((o) => ((o.spec as any).containers[0].resources = { requests: { cpu: 'lots' } }))
        .build(),
      'spec.containers[0].resources.requests.cpu:FieldValueInvalid',
    ],
    [
      'request above limit',
      makePod()
        .with(
          (o) => ((o.spec as any).containers[0].resources = { requests: { memory: '2Gi' }, limits: { memory: '1Gi' } }),
        )
        .build(),
      'spec.containers[0].resources.requests.memory:FieldValueInvalid',
    ],
    [
      'unknown restartPolicy',
      makePod()
        .with((o) => ((o.spec as any).restartPolicy = 'Sometimes'))
        .build(),
      'spec.restartPolicy:FieldValueNotSupported',
    ],
    [
      'probe without handler',
      makePod()
        .with((o) => ((o.spec as any).containers[0].livenessProbe = { periodSeconds: 5 }))
        .build(),
      'spec.containers[0].livenessProbe:FieldValueRequired',
    ],
    ['negative replicas', makeDeployment('web', (d) => (d.spec.replicas = -1)), 'spec.replicas:FieldValueInvalid'],
    [
      'selector not matching template',
      makeDeployment('web', (d) => (d.spec.selector = { matchLabels: { app: 'other' } })),
      'spec.template.metadata.labels:FieldValueInvalid',
    ],
    ['missing selector', makeDeployment('web', (d) => delete d.spec.selector), 'spec.selector:FieldValueRequired'],
    [
      'Never restart in a Deployment',
      makeDeployment('web', (d) => (d.spec.template.spec.restartPolicy = 'Never')),
      'spec.template.spec.restartPolicy:FieldValueNotSupported',
    ],
    [
      'bad maxSurge',
      makeDeployment('web', (d) => (d.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 'lots' } })),
      'spec.strategy.rollingUpdate.maxSurge:FieldValueInvalid',
    ],
    [
      'maxSurge and maxUnavailable both 0',
      makeDeployment('web', (d) => (d.spec.strategy = { rollingUpdate: { maxSurge: 0, maxUnavailable: 0 } })),
      'spec.strategy.rollingUpdate.maxUnavailable:FieldValueInvalid',
    ],
  ])('%s', (_name, o, expected) => {
    expect(fields(o)).toContain(expected);
  });

  it('needs a Job restartPolicy of OnFailure or Never', () => {
    const job: KubeObject = {
      apiVersion: 'batch/v1',
      kind: 'Job',
      metadata: { name: 'j' },
      spec: { template: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
    };
    expect(fields(job)).toContain('spec.template.spec.restartPolicy:FieldValueRequired');
    (job.spec as any).template.spec.restartPolicy = 'Sometimes';
    expect(fields(job)).toContain('spec.template.spec.restartPolicy:FieldValueNotSupported');
    (job.spec as any).template.spec.restartPolicy = 'Never';
    expect(causes(job)).toEqual([]);
  });

  it('checks Services, ConfigMaps, Secrets, Nodes and Namespaces', () => {
    const svc: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web' },
      spec: { ports: [{ port: 80 }, { port: 443 }] },
    };
    expect(fields(svc)).toEqual(['spec.ports[0].name:FieldValueRequired', 'spec.ports[1].name:FieldValueRequired']);
    expect(fields({ ...svc, metadata: { name: 'web.svc' }, spec: { ports: [{ port: 80 }] } })).toEqual([
      'metadata.name:FieldValueInvalid',
    ]);
    expect(fields({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { 'bad/key': 'v' } })).toEqual([
      'data.bad/key:FieldValueInvalid',
    ]);
    expect(fields({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { k: 'not base64!' } })).toEqual([
      'data.k:FieldValueInvalid',
    ]);
    expect(
      fields({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: 'n1' },
        spec: { taints: [{ key: 'k', effect: 'Sometimes' }] },
      }),
    ).toEqual(['spec.taints[0].effect:FieldValueNotSupported']);
    expect(fields({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a'.repeat(64) } })).toEqual([
      'metadata.name:FieldValueInvalid',
    ]);
    expect(fields({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a'.repeat(63) } })).toEqual([]);
  });

  it('caps annotations at 256 KiB in total', () => {
    const big = makePod()
      .with((o) => (o.metadata.annotations = { a: 'x'.repeat(256 * 1024) }))
      .build();
    expect(fields(big)).toContain('metadata.annotations:FieldValueTooLong');
    const fits = makePod()
      .with((o) => (o.metadata.annotations = { a: 'x'.repeat(256 * 1024 - 1) }))
      .build();
    expect(causes(fits)).toEqual([]);
  });
});
