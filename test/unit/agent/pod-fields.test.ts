import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { POD_FIELDS, renderPodFieldsTable, type FieldRow } from '../../../shared/agent/pod-fields.js';
import { unhonouredField } from '../../../shared/agent/runtime-support.js';
import { RUNTIME_FEATURES, type RuntimeFeature } from '../../../shared/agent/runtime/runtime.js';
import { podSupportProblems } from '../../../shared/model/pod-support.js';
import type { KubeObject } from '../../../shared/model/types.js';

/**
 * The README's "Pod fields" table, held to the code: it lists every field of Kubernetes' PodSpec,
 * Container, both securityContexts, Volume and VolumeMount (from the field catalog); each `422` row is
 * refused at admission naming the field; each `waits` row stops the container on that runtime naming
 * the field, and a `yes` row with a sample passes the node's check.
 */

const catalog = JSON.parse(readFileSync('shared/model/schemas/field-catalog.json', 'utf8')) as {
  types: Record<string, Record<string, string>>;
};
const fieldsOf = (type: string, prefix: string) => Object.keys(catalog.types[type] ?? {}).map((f) => `${prefix}.${f}`);

/** A value that sets each field the checks look at; the path is the concrete one a message names. */
const SAMPLES: Record<string, unknown> = {
  'spec.dnsConfig': { nameservers: ['10.0.0.10'] },
  'spec.hostAliases': [{ ip: '10.1.2.3', hostnames: ['a.example'] }],
  'spec.hostname': 'h',
  'spec.subdomain': 'sub',
  'spec.setHostnameAsFQDN': true,
  'spec.ephemeralContainers': [{ name: 'debug', image: 'busybox' }],
  'spec.hostUsers': false,
  'spec.hostnameOverride': 'x',
  'spec.os': { name: 'windows' },
  'spec.overhead': { cpu: '100m' },
  'spec.readinessGates': [{ conditionType: 'example.com/ready' }],
  'spec.resourceClaims': [{ name: 'gpu' }],
  'spec.resources': { limits: { cpu: '1' } },
  'spec.runtimeClassName': 'gvisor',
  'spec.securityContext.appArmorProfile': { type: 'RuntimeDefault' },
  'spec.securityContext.fsGroup': 2000,
  'spec.securityContext.runAsGroup': 1000,
  'spec.securityContext.runAsUser': 1000,
  'spec.securityContext.seLinuxOptions': { level: 's0:c1' },
  'spec.securityContext.seccompProfile': { type: 'RuntimeDefault' },
  'spec.securityContext.supplementalGroups': [3000],
  'spec.securityContext.sysctls': [{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }],
  'spec.containers[*].restartPolicy': 'Always',
  'spec.containers[*].restartPolicyRules': [{ action: 'Restart' }],
  'spec.containers[*].stdin': true,
  'spec.containers[*].stdinOnce': true,
  'spec.containers[*].tty': true,
  'spec.containers[*].volumeDevices': [{ name: 'v', devicePath: '/dev/xvdb' }],
  'spec.containers[*].securityContext.allowPrivilegeEscalation': false,
  'spec.containers[*].securityContext.appArmorProfile': { type: 'RuntimeDefault' },
  'spec.containers[*].securityContext.capabilities': { drop: ['ALL'] },
  'spec.containers[*].securityContext.privileged': true,
  'spec.containers[*].securityContext.readOnlyRootFilesystem': true,
  'spec.containers[*].securityContext.runAsGroup': 1000,
  'spec.containers[*].securityContext.runAsUser': 1000,
  'spec.containers[*].securityContext.seLinuxOptions': { level: 's0:c1' },
  'spec.containers[*].securityContext.seccompProfile': { type: 'RuntimeDefault' },
  'spec.containers[*].volumeMounts[*].mountPropagation': 'HostToContainer',
};
const VOLUME_SAMPLES: Record<string, unknown> = {
  configMap: { name: 'c' },
  secret: { secretName: 's' },
  downwardAPI: { items: [] },
  projected: { sources: [] },
  emptyDir: {},
  hostPath: { path: '/tmp' },
  persistentVolumeClaim: { claimName: 'data' },
};

/** A pod with `field` set to `value` on its first container, first volume or first mount. */
function podWith(field: string, value: unknown): KubeObject {
  const container: Record<string, unknown> = { name: 'main', image: 'busybox', command: ['true'] };
  const spec: Record<string, unknown> = { containers: [container] };
  const setPath = (target: Record<string, unknown>, path: string[]) => {
    let o = target;
    for (const k of path.slice(0, -1)) o = (o[k] ??= {}) as Record<string, unknown>;
    o[path.at(-1) as string] = value;
  };
  const volume = /^spec\.volumes\[\*\]\.(.+)$/.exec(field);
  const mount = /^spec\.containers\[\*\]\.volumeMounts\[\*\]\.(.+)$/.exec(field);
  if (volume?.[1]) {
    spec.volumes = [{ name: 'v', [volume[1]]: value }];
    container.volumeMounts = [{ name: 'v', mountPath: '/v' }];
  } else if (mount?.[1]) {
    spec.volumes = [{ name: 'v', emptyDir: {} }];
    container.volumeMounts = [{ name: 'v', mountPath: '/v', [mount[1]]: value }];
  } else if (field.startsWith('spec.containers[*].'))
    setPath(container, field.slice('spec.containers[*].'.length).split('.'));
  else setPath(spec, field.slice('spec.'.length).split('.'));
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'u' }, spec };
}

const concrete = (field: string) => field.replace('containers[*]', 'containers[0]').replace(/\[\*\]/g, '[0]');
const sampleOf = (row: FieldRow) => {
  const volume = /^spec\.volumes\[\*\]\.(.+)$/.exec(row.field)?.[1];
  if (volume) return VOLUME_SAMPLES[volume] ?? (row.docker === '422' ? { server: 'x', path: '/x' } : undefined);
  return SAMPLES[row.field];
};
const features: Record<'docker' | 'process', ReadonlySet<RuntimeFeature>> = {
  docker: new Set(RUNTIME_FEATURES),
  process: new Set(),
};
const nodeCheck = (pod: KubeObject, runtime: 'docker' | 'process') =>
  unhonouredField(pod, (pod.spec?.containers as never[])[0] ?? {}, 'spec.containers[0]', features[runtime], {
    allowPrivileged: true,
    runtimeName: runtime,
  });

describe('the Pod fields table', () => {
  it('is in the README exactly as rendered', () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(readme).toContain(`<!-- pod-fields:start -->\n${renderPodFieldsTable()}\n<!-- pod-fields:end -->`);
  });

  it('lists every field of PodSpec, Container, the securityContexts, Volume and VolumeMount, once', () => {
    const expected = [
      ...fieldsOf('V1PodSpec', 'spec'),
      ...fieldsOf('V1Container', 'spec.containers[*]'),
      ...fieldsOf('V1PodSecurityContext', 'spec.securityContext'),
      ...fieldsOf('V1SecurityContext', 'spec.containers[*].securityContext'),
      ...fieldsOf('V1Volume', 'spec.volumes[*]'),
      ...fieldsOf('V1VolumeMount', 'spec.containers[*].volumeMounts[*]'),
    ].sort();
    const listed = POD_FIELDS.map((r) => r.field);
    expect(new Set(listed).size).toBe(listed.length);
    expect([...listed].sort()).toEqual(expected);
  });

  const refused = POD_FIELDS.filter((r) => r.docker === '422');
  it.each(refused.map((r) => [r.field, r]))('%s: refused at admission, naming the field', (_, row) => {
    const sample = sampleOf(row);
    expect(sample, `a sample value for ${row.field}`).toBeDefined();
    const causes = podSupportProblems(podWith(row.field, sample).spec, 'spec');
    // The cause names the field, or the part of it that is refused (`spec.os.name` of `spec.os`).
    const named = concrete(row.field);
    expect(
      causes.some((c) => c.field === named || c.field?.startsWith(`${named}.`)),
      JSON.stringify(causes),
    ).toBe(true);
  });

  for (const runtime of ['docker', 'process'] as const) {
    const waits = POD_FIELDS.filter((r) => r[runtime] === 'waits');
    if (waits.length)
      it.each(waits.map((r) => [r.field, r]))(`%s: the ${runtime} runtime stops the container naming it`, (_, row) => {
        const sample = sampleOf(row);
        expect(sample, `a sample value for ${row.field}`).toBeDefined();
        const pod = podWith(row.field, sample);
        expect(podSupportProblems(pod.spec, 'spec')).toEqual([]);
        const volume = row.field.startsWith('spec.volumes[*].');
        expect(nodeCheck(pod, runtime)).toMatch(
          new RegExp(`^${(volume ? 'spec.volumes[0]' : concrete(row.field)).replace(/[[\].*]/g, '\\$&')}[:.]`),
        );
      });
    const honoured = POD_FIELDS.filter((r) => r[runtime] === 'yes' && sampleOf(r) !== undefined);
    it.each(honoured.map((r) => [r.field, r]))(`%s: admitted and started by the ${runtime} runtime`, (_, row) => {
      const pod = podWith(row.field, sampleOf(row));
      expect(podSupportProblems(pod.spec, 'spec')).toEqual([]);
      expect(nodeCheck(pod, runtime)).toBeUndefined();
    });
  }

  it('privileged containers wait on a node that does not allow them', () => {
    const pod = podWith('spec.containers[*].securityContext.privileged', true);
    expect(
      unhonouredField(pod, (pod.spec?.containers as never[])[0] ?? {}, 'spec.containers[0]', features.docker, {
        allowPrivileged: false,
        runtimeName: 'docker',
      }),
    ).toMatch(/^spec\.containers\[0\]\.securityContext\.privileged: privileged containers are not allowed/);
  });
});
