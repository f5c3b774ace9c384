import { nodeMaySetLabel } from '../../../shared/nodes/protocol.js';
import { describe, expect, it } from 'vitest';
import { backoffDelay, KUBELET_BACKOFF, shouldRestart } from '../../../shared/agent/backoff.js';
import { containerEnv, EnvConfigError, expand } from '../../../shared/agent/env.js';
import { looksLikeEc2, registration, type MachineFacts } from '../../../shared/agent/machine.js';
import { podPhase, podStatus, type ContainerView } from '../../../shared/agent/pod-status.js';
import type { KubeObject } from '../../../shared/model/types.js';
import { loadAgentConfig } from '../../../shared/config.js';
import { trimLog } from '../../../shared/logs/log-store.js';
import { assignmentDigest } from '../../../shared/apiserver/node-service.js';
import { nodeQueueName } from '../../../shared/nodes/wakeups.js';
import { isAgentPath } from '../../../shared/nodes/wire.js';

describe('crash back-off', () => {
  it('doubles from 10 s and stops at 5 min, like kubelet', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(KUBELET_BACKOFF, n) / 1000)).toEqual([
      10, 20, 40, 80, 160, 300, 300, 300,
    ]);
    expect(backoffDelay(KUBELET_BACKOFF, 0)).toBe(0);
  });
  it.each([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 2, true],
    ['Never', 1, false],
  ] as const)('restartPolicy %s with exit code %d restarts: %s', (policy, code, expected) => {
    expect(shouldRestart(policy, code)).toBe(expected);
  });
});

const c = (over: Partial<ContainerView>): ContainerView => ({
  name: 'main',
  image: 'busybox',
  state: { waiting: { reason: 'ContainerCreating' } },
  lastState: {},
  restartCount: 0,
  ready: false,
  started: false,
  everRan: false,
  finished: false,
  ...over,
});
const done = (exitCode: number) =>
  c({
    everRan: true,
    finished: true,
    state: { terminated: { exitCode, reason: exitCode ? 'Error' : 'Completed', finishedAt: 'x' } },
  });

describe('pod phase from containers', () => {
  it.each([
    ['nothing has run yet', [], [c({})], 'Pending'],
    ['one container runs', [], [c({ everRan: true, state: { running: { startedAt: 'x' } } }), c({})], 'Running'],
    [
      'a container is restarting',
      [],
      [c({ everRan: true, state: { waiting: { reason: 'CrashLoopBackOff' } } })],
      'Running',
    ],
    ['all exited 0 for good', [], [done(0), done(0)], 'Succeeded'],
    ['one exited non-zero for good', [], [done(0), done(1)], 'Failed'],
    ['an init container failed for good', [done(1)], [c({})], 'Failed'],
    ['init containers still running', [c({ everRan: true })], [c({})], 'Pending'],
  ])('%s', (_, init, main, phase) => {
    expect(podPhase({ init, main })).toBe(phase);
  });

  it('keeps a condition’s transition time while its status holds, and is Ready only when every container is', () => {
    const base = { init: [], hostIP: '10.0.0.1', podIP: '10.0.0.1', startTime: 't0' };
    const running = (ready: boolean) =>
      c({ everRan: true, ready, started: true, state: { running: { startedAt: 't0' } } });
    const first = podStatus({ ...base, main: [running(true), running(false)], now: 't1' });
    expect(first.conditions.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      lastTransitionTime: 't1',
    });
    const second = podStatus({ ...base, main: [running(true), running(false)], now: 't2', previous: first });
    expect(second.conditions.find((x) => x.type === 'Ready')?.lastTransitionTime).toBe('t1');
    const third = podStatus({ ...base, main: [running(true), running(true)], now: 't3', previous: second });
    expect(third.conditions.find((x) => x.type === 'Ready')).toMatchObject({
      status: 'True',
      lastTransitionTime: 't3',
    });
  });
});

describe('container environment', () => {
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns', uid: 'u1', labels: { app: 'web' } },
    spec: { nodeName: 'n1' },
  };
  const objects: Record<string, KubeObject> = {
    'ConfigMap/ns/cfg': { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cfg' }, data: { A: '1', B: '2' } },
    'Secret/ns/sec': {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'sec' },
      data: { PASS: Buffer.from('hunter2').toString('base64') },
    },
  };
  const lookup = async (kind: string, ns: string, name: string) => objects[`${kind}/${ns}/${name}`];

  it('applies envFrom (with prefix), then env with $(VAR) expansion, key refs and pod fields', async () => {
    const env = await containerEnv(
      pod,
      {
        envFrom: [{ configMapRef: { name: 'cfg' } }, { prefix: 'S_', secretRef: { name: 'sec' } }],
        env: [
          { name: 'A', value: 'override-$(B)' },
          { name: 'PASS', valueFrom: { secretKeyRef: { name: 'sec', key: 'PASS' } } },
          { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
          { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
          { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
          { name: 'LITERAL', value: '$$(B) $(UNKNOWN)' },
        ],
      },
      lookup,
      { podIP: '10.1.2.3', hostIP: '10.0.0.1' },
    );
    expect(env).toEqual({
      A: 'override-2',
      B: '2',
      S_PASS: 'hunter2',
      PASS: 'hunter2',
      APP: 'web',
      NODE: 'n1',
      IP: '10.1.2.3',
      LITERAL: '$(B) $(UNKNOWN)',
    });
  });

  it('fails on a missing required reference and skips an optional one', async () => {
    await expect(containerEnv(pod, { envFrom: [{ configMapRef: { name: 'absent' } }] }, lookup, {})).rejects.toThrow(
      EnvConfigError,
    );
    await expect(
      containerEnv(
        pod,
        { env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'NOPE' } } }] },
        lookup,
        {},
      ),
    ).rejects.toThrow(/couldn't find key NOPE/);
    expect(
      await containerEnv(
        pod,
        {
          envFrom: [{ configMapRef: { name: 'absent', optional: true } }],
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'absent', key: 'k', optional: true } } }],
        },
        lookup,
        {},
      ),
    ).toEqual({});
  });

  it('expands only defined variables', () => {
    expect(expand('$(A)-$(B)-$$(A)', { A: 'x' })).toBe('x-$(B)-$(A)');
  });
});

describe('node registration from machine facts', () => {
  const facts: MachineFacts = {
    hostname: 'ip-10-0-0-5',
    cpus: 2,
    memoryBytes: 4 * 1024 ** 3,
    os: 'linux',
    arch: 'arm64',
    kernel: '6.1',
    internalIP: '10.0.0.5',
  };
  it('reports capacity, keeps system reserves out of allocatable, and labels like kubelet', () => {
    const r = registration('node-a', facts);
    expect(r.capacity).toEqual({ cpu: '2000m', memory: '4096Mi', pods: '110' });
    expect(r.allocatable).toEqual({ cpu: '1900m', memory: '3840Mi', pods: '110' });
    expect(r.labels).toEqual({
      'kubernetes.io/hostname': 'node-a',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'arm64',
    });
    expect(r.addresses).toContainEqual({ type: 'InternalIP', address: '10.0.0.5' });
  });
  it('adds zone, region, instance type and providerID on AWS, and honours overrides', () => {
    const r = registration(
      'node-b',
      {
        ...facts,
        aws: {
          zone: 'us-east-1b',
          region: 'us-east-1',
          instanceType: 't4g.small',
          instanceId: 'i-123',
          launchType: 'EC2',
        },
      },
      { cpu: '500m', memory: '1Gi', pods: 20, labels: { team: 'a' } },
    );
    expect(r.labels).toMatchObject({
      'topology.kubernetes.io/zone': 'us-east-1b',
      'topology.kubernetes.io/region': 'us-east-1',
      'node.kubernetes.io/instance-type': 't4g.small',
      team: 'a',
    });
    expect(r.providerID).toBe('aws:///us-east-1b/i-123');
    expect(r.capacity).toEqual({ cpu: '500m', memory: '1024Mi', pods: '20' });
  });
});

describe('agent configuration', () => {
  it('reads flags over environment, and parses labels and taints', () => {
    const c = loadAgentConfig(
      { server: 'http://cp/', taints: 'dedicated=gpu:NoSchedule,spot:PreferNoSchedule' },
      { KUMO_AGENT_NODE_NAME: 'Node-1', KUMO_AGENT_LABELS: 'a=b, c=d', KUMO_AGENT_RUNTIME: 'docker' },
    );
    expect(c).toMatchObject({ server: 'http://cp', nodeName: 'node-1', runtime: 'docker', labels: { a: 'b', c: 'd' } });
    expect(c.taints).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'spot', effect: 'PreferNoSchedule' },
    ]);
  });
  it('refuses what it cannot use', () => {
    expect(() => loadAgentConfig({}, {})).toThrow(/--server/);
    expect(() => loadAgentConfig({ server: 'x', runtime: 'containerd' }, {})).toThrow(/process or docker/);
    expect(() => loadAgentConfig({ server: 'x', taints: 'nokind' }, {})).toThrow(/NoSchedule/);
    expect(() => loadAgentConfig({ server: 'x', cloud: 'gcp' }, {})).toThrow(/aws or none/);
  });
  // Only an agent on AWS may call the link-local metadata addresses; offline nothing may leave loopback.
  it.each([
    ['a loopback server, even on an EC2 machine', { server: 'http://127.0.0.1:3000' }, {}, { ec2: true }, 'none'],
    ['localhost', { server: 'http://localhost:3000/' }, {}, { ec2: true }, 'none'],
    ['a remote server off AWS', { server: 'https://api.example.com' }, {}, {}, 'none'],
    ['a remote server on EC2', { server: 'https://api.example.com' }, {}, { ec2: true }, 'aws'],
    [
      'ECS (its metadata variable)',
      { server: 'https://api.example.com' },
      { ECS_CONTAINER_METADATA_URI_V4: 'http://169.254.170.2/v4/x' },
      {},
      'aws',
    ],
    [
      'Fargate credentials variable',
      { server: 'https://api.example.com' },
      { AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '/v2/creds' },
      {},
      'aws',
    ],
    ['--cloud aws on loopback', { server: 'http://127.0.0.1:3000', cloud: 'aws' }, {}, {}, 'aws'],
    [
      'KUMO_AGENT_CLOUD=none on EC2',
      { server: 'https://api.example.com' },
      { KUMO_AGENT_CLOUD: 'none' },
      { ec2: true },
      'none',
    ],
  ])('cloud: %s', (_, flags, env, host, cloud) => {
    expect(loadAgentConfig(flags, env, host).cloud).toBe(cloud);
  });
  it.each([
    ['Nitro vendor', { '/sys/devices/virtual/dmi/id/sys_vendor': 'Amazon EC2\n' }, true],
    ['Nitro asset tag', { '/sys/devices/virtual/dmi/id/board_asset_tag': 'i-0123456789abcdef0\n' }, true],
    ['Xen uuid', { '/sys/hypervisor/uuid': 'ec2e1916-9099-7caf-fd21-012345abcdef\n' }, true],
    ['another vendor', { '/sys/devices/virtual/dmi/id/sys_vendor': 'QEMU\n', '/sys/hypervisor/uuid': 'abc' }, false],
    ['no files', {}, false],
  ])('looksLikeEc2: %s', (_, files: Record<string, string>, expected) => {
    expect(looksLikeEc2((p) => files[p])).toBe(expected);
  });
});

describe('small protocol helpers', () => {
  const pod = (uid: string, generation: number, deleting?: string): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { uid, generation, ...(deleting ? { deletionTimestamp: deleting } : {}) },
    status: { phase: 'Running' },
  });
  it('assignment digests ignore order and status, and change with membership, spec generation and deletion', () => {
    const a = assignmentDigest([pod('1', 1), pod('2', 1)]);
    expect(assignmentDigest([pod('2', 1), { ...pod('1', 1), status: { phase: 'Failed' } }])).toBe(a);
    expect(assignmentDigest([pod('1', 1)])).not.toBe(a);
    expect(assignmentDigest([pod('1', 2), pod('2', 1)])).not.toBe(a);
    expect(assignmentDigest([pod('1', 1), pod('2', 1, '2026-01-01T00:00:00Z')])).not.toBe(a);
  });
  it('node queue names are valid SQS names of at most 80 characters, distinct for distinct nodes', () => {
    expect(nodeQueueName('kumo-prod', 'ip-10-0-0-5.ec2.internal')).toBe('kumo-prod-node-ip-10-0-0-5_ec2_internal');
    const long1 = nodeQueueName('kumo-prod', `${'a'.repeat(90)}.x`);
    const long2 = nodeQueueName('kumo-prod', `${'a'.repeat(90)}.y`);
    expect(long1.length).toBeLessThanOrEqual(80);
    expect(long1).not.toBe(long2);
    expect(long1).toMatch(/^[A-Za-z0-9_-]+$/);
  });
  it('trims logs like kubelet (tailLines, limitBytes)', () => {
    expect(trimLog('a\nb\nc\n', { tailLines: 2 })).toBe('b\nc\n');
    expect(trimLog('a\nb\nc\n', { tailLines: 0 })).toBe('');
    expect(trimLog('abcdef', { limitBytes: 3 })).toBe('abc');
  });
});

describe('the nodes function URL', () => {
  it.each([
    ['/kumo/v1/nodes/ip-10-0-0-5.ec2.internal/sync', true],
    ['/kumo/v1/nodes/n1/register', true],
    ['/api/v1/namespaces/default/configmaps/web-config', true],
    ['/api/v1/namespaces/default/secrets/token', true],
    ['/api/v1/namespaces/default/persistentvolumeclaims/data', true],
    ['/api/v1/persistentvolumes/pv-1', true],
    ['/api/v1/namespaces/default/serviceaccounts/default/token', true],
    ['/api/v1/namespaces/default/serviceaccounts/default', false],
    ['/api/v1/namespaces/default/secrets', false],
    ['/api/v1/namespaces/default/pods/p1', false],
    ['/apis/apps/v1/namespaces/default/deployments', false],
    ['/kumo/v1/apply', false],
  ])('%s answered: %s', (path, allowed) => {
    expect(isAgentPath(path)).toBe(allowed);
  });
});

describe('nodeMaySetLabel (NodeRestriction)', () => {
  it.each([
    ['role', true],
    ['example.com/team', true],
    ['kubernetes.io/hostname', true],
    ['topology.kubernetes.io/zone', true],
    ['node.kubernetes.io/instance-type', true],
    ['kubelet.kubernetes.io/anything', true],
    ['node-restriction.kubernetes.io/db', false],
    ['team.node-restriction.kubernetes.io/db', false],
    ['node-role.kubernetes.io/control-plane', false],
    ['kubernetes.io/role', false],
    ['storage.k8s.io/x', false],
  ])('%s → %s', (key, allowed) => {
    expect(nodeMaySetLabel(key)).toBe(allowed);
  });
});
