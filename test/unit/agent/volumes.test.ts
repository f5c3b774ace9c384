import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { authFor, entriesOf, registryOf } from '../../../shared/agent/runtime/registry-auth.js';
import { dnsFor, sandboxSpec } from '../../../shared/agent/sandbox-config.js';
import { containerSecurity, cpuShares, verifyRunAsNonRoot } from '../../../shared/agent/security.js';
import { resolveInVolume, writeAtomically } from '../../../shared/agent/volumes/atomic-writer.js';
import { PodVolumes } from '../../../shared/agent/volumes/pod-volumes.js';
import { podSupportProblems } from '../../../shared/model/pod-support.js';
import { MountError, payloadOf } from '../../../shared/agent/volumes/projection.js';
import type { KubeObject } from '../../../shared/model/types.js';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'kumo-vol-'));
  dirs.push(d);
  return d;
};
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

const pod = (spec: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'web-1', namespace: 'shop', uid: 'abcdef12-3456', labels: { app: 'web', tier: 'a"b' }, ...meta },
  spec: { containers: [{ name: 'main', image: 'x', resources: { limits: { memory: '64Mi' } } }], ...spec },
});
const file = (text: string, mode = 0o644) => ({ data: Buffer.from(text), mode });

describe('atomic writer (kubelet AtomicWriter)', () => {
  it('publishes a payload through ..data, swaps versions whole, drops stale names and old versions', () => {
    const dir = tmp();
    const payload = () =>
      new Map([
        ['a', file('1')],
        ['sub/b', file('2', 0o400)],
      ]);
    expect(writeAtomically(dir, payload(), '2026_01_01_00_00_00')).toBe(true);
    expect(readlinkSync(join(dir, 'a'))).toBe('..data/a');
    expect(readlinkSync(join(dir, 'sub'))).toBe('..data/sub');
    expect(readFileSync(join(dir, 'sub/b'), 'utf8')).toBe('2');
    expect(lstatSync(join(dir, '..data', 'sub', 'b')).mode & 0o777).toBe(0o400);
    const first = readlinkSync(join(dir, '..data'));
    // The same payload again: nothing written.
    expect(writeAtomically(dir, payload(), 'later')).toBe(false);
    expect(writeAtomically(dir, new Map([['a', file('3')]]), '2026_01_01_00_00_01')).toBe(true);
    expect(readFileSync(join(dir, 'a'), 'utf8')).toBe('3');
    expect(readdirSync(dir).sort()).toEqual(['..data', readlinkSync(join(dir, '..data')), 'a'].sort());
    expect(readdirSync(dir)).not.toContain(first);
    expect(resolveInVolume(dir, 'a')).toBe(join(dir, readlinkSync(join(dir, '..data')), 'a'));
  });
});

describe('volume payloads (configMap, secret, downwardAPI, projected)', () => {
  const objects: Record<string, KubeObject> = {
    'ConfigMap/cfg': {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'cfg' },
      data: { 'app.conf': 'x=1' },
      binaryData: { blob: Buffer.from([1, 2]).toString('base64') },
    },
    'Secret/db': {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db' },
      data: { password: Buffer.from('pw').toString('base64') },
    },
  };
  const lookup = async (kind: string, _ns: string, name: string) => objects[`${kind}/${name}`];
  const facts = { podIP: '10.0.0.5', hostIP: '127.0.0.1' };

  it('every key by default, or the listed items at their paths with their modes', async () => {
    const all = await payloadOf(pod(), { configMap: { name: 'cfg', defaultMode: 0o600 } }, lookup, facts);
    expect([...all.keys()].sort()).toEqual(['app.conf', 'blob']);
    expect(all.get('app.conf')).toEqual({ data: Buffer.from('x=1'), mode: 0o600 });
    const items = await payloadOf(
      pod(),
      { secret: { secretName: 'db', items: [{ key: 'password', path: 'creds/pw', mode: 0o400 }] } },
      lookup,
      facts,
    );
    expect(items.get('creds/pw')).toEqual({ data: Buffer.from('pw'), mode: 0o400 });
  });

  it("kubelet's messages for a missing object or key, and optional sources", async () => {
    await expect(payloadOf(pod(), { configMap: { name: 'nope' } }, lookup, facts)).rejects.toThrow(
      new MountError('configmap "nope" not found'),
    );
    await expect(
      payloadOf(pod(), { configMap: { name: 'cfg', items: [{ key: 'k', path: 'k' }] } }, lookup, facts),
    ).rejects.toThrow('configmap references non-existent config key: k');
    await expect(
      payloadOf(pod(), { secret: { secretName: 'db', items: [{ key: 'k', path: 'k' }] } }, lookup, facts),
    ).rejects.toThrow('references non-existent secret key: k');
    expect((await payloadOf(pod(), { secret: { secretName: 'nope', optional: true } }, lookup, facts)).size).toBe(0);
  });

  it('downward API files: fields, labels as key="value" lines, resources in divisors; projected merges sources', async () => {
    const out = await payloadOf(
      pod(),
      {
        projected: {
          sources: [
            {
              downwardAPI: {
                items: [
                  { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
                  { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
                  { path: 'ip', fieldRef: { fieldPath: 'status.podIP' } },
                  {
                    path: 'mem',
                    resourceFieldRef: { containerName: 'main', resource: 'limits.memory', divisor: '1Mi' },
                  },
                ],
              },
            },
            { configMap: { name: 'cfg', items: [{ key: 'app.conf', path: 'app.conf' }] } },
          ],
        },
      },
      lookup,
      facts,
    );
    expect(out.get('name')?.data.toString()).toBe('web-1');
    expect(out.get('labels')?.data.toString()).toBe('app="web"\ntier="a\\"b"');
    expect(out.get('ip')?.data.toString()).toBe('10.0.0.5');
    expect(out.get('mem')?.data.toString()).toBe('64');
    expect(out.get('app.conf')?.data.toString()).toBe('x=1');
  });
});

describe('pod sandbox settings', () => {
  it('hostname, subdomain FQDN, host aliases, hostPorts, sysctls and memory volumes', () => {
    const spec = sandboxSpec(
      pod({
        hostname: 'db-0',
        subdomain: 'db',
        hostAliases: [{ ip: '10.1.1.1', hostnames: ['a', 'b'] }],
        containers: [{ name: 'm', image: 'x', ports: [{ containerPort: 80, hostPort: 8080 }] }],
        securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
        volumes: [
          { name: 'cache', emptyDir: { medium: 'Memory', sizeLimit: '64Mi' } },
          { name: 'd', emptyDir: {} },
        ],
      }),
      'node-1',
      { clusterDomain: 'cluster.local' },
    );
    expect(spec).toMatchObject({
      name: 'kumo_web-1_shop_abcdef12_sandbox',
      hostname: 'db-0',
      domain: 'db.shop.svc.cluster.local',
      hostAliases: [{ ip: '10.1.1.1', hostnames: ['a', 'b'] }],
      ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }],
      sysctls: { 'net.core.somaxconn': '1024' },
      memoryVolumes: [{ name: 'cache', sizeBytes: 64 * 1024 * 1024 }],
    });
    expect(spec.labels['io.kumo.sandbox']).toBe('true');
  });

  it('resolv.conf per dnsPolicy: ClusterFirst falls back without a cluster DNS, None takes dnsConfig alone', () => {
    const local = { clusterDomain: 'cluster.local' };
    expect(dnsFor(pod(), local)).toEqual({
      fallback:
        'kubelet does not have ClusterDNS IP configured and cannot create Pod using "ClusterFirst" policy. Falling back to "Default" policy.',
    });
    expect(dnsFor(pod(), { ...local, clusterDNS: '10.96.0.10' }).dns).toEqual({
      servers: ['10.96.0.10'],
      searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
      options: ['ndots:5'],
    });
    expect(
      dnsFor(
        pod({
          dnsPolicy: 'None',
          dnsConfig: {
            nameservers: ['1.2.3.4'],
            searches: ['x'],
            options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
          },
        }),
        local,
      ),
    ).toEqual({ dns: { servers: ['1.2.3.4'], searches: ['x'], options: ['ndots:2', 'edns0'] } });
    expect(dnsFor(pod({ dnsPolicy: 'Default' }), local)).toEqual({});
  });
});

describe('securityContext', () => {
  it("kubelet's runAsNonRoot verdicts", () => {
    const p = pod({ securityContext: { runAsNonRoot: true } });
    const where = '(pod: "web-1_shop(abcdef12-3456)", container: main)';
    expect(() => verifyRunAsNonRoot(p, { name: 'main' }, '')).toThrow(
      `container has runAsNonRoot and image will run as root ${where}`,
    );
    expect(() => verifyRunAsNonRoot(p, { name: 'main' }, 'app')).toThrow(
      `container has runAsNonRoot and image has non-numeric user (app), cannot verify user is non-root ${where}`,
    );
    expect(() => verifyRunAsNonRoot(p, { name: 'main', securityContext: { runAsUser: 0 } }, '1000')).toThrow(
      `container's runAsUser breaks non-root policy ${where}`,
    );
    expect(() => verifyRunAsNonRoot(p, { name: 'main' }, '1000:1000')).not.toThrow();
    expect(() => verifyRunAsNonRoot(pod(), { name: 'main' }, '')).not.toThrow();
  });

  it('the container wins over the pod; fsGroup joins the groups; capabilities lose CAP_', () => {
    const p = pod({
      securityContext: { runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000] },
    });
    expect(
      containerSecurity(
        p,
        {
          securityContext: {
            runAsUser: 1001,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { add: ['CAP_NET_BIND_SERVICE'], drop: ['ALL'] },
            seccompProfile: { type: 'Unconfined' },
          },
        },
        '',
      ),
    ).toEqual({
      user: '1001:3000',
      groups: [2000, 4000],
      readOnlyRootfs: true,
      capAdd: ['NET_BIND_SERVICE'],
      capDrop: ['ALL'],
      noNewPrivileges: true,
      privileged: false,
      seccompUnconfined: true,
      apparmorUnconfined: false,
    });
    // runAsGroup alone keeps the image's user.
    expect(containerSecurity(pod({ securityContext: { runAsGroup: 5 } }), {}, '70:70').user).toBe('70:5');
  });

  it('MilliCPUToShares: 1024 per CPU, at least 2', () => {
    expect(cpuShares(undefined)).toBe(2);
    expect(cpuShares('1m')).toBe(2);
    expect(cpuShares('100m')).toBe(102);
    expect(cpuShares('2')).toBe(2048);
  });
});

describe('registry credentials from pull secrets', () => {
  const config = (auths: Record<string, unknown>) => JSON.stringify({ auths });
  it('dockerconfigjson and dockercfg entries, with auth decoded', () => {
    expect(entriesOf('kubernetes.io/dockerconfigjson', config({ 'r.example:5000': { auth: btoa('u:p:w') } }))).toEqual([
      { serveraddress: 'r.example:5000', username: 'u', password: 'p:w' },
    ]);
    expect(
      entriesOf(
        'kubernetes.io/dockercfg',
        JSON.stringify({ 'https://index.docker.io/v1/': { username: 'a', password: 'b' } }),
      ),
    ).toEqual([{ serveraddress: 'https://index.docker.io/v1/', username: 'a', password: 'b' }]);
    expect(entriesOf('kubernetes.io/dockerconfigjson', 'not json')).toEqual([]);
  });
  it('an image finds the entry of its registry: Docker Hub aliases, wildcards, the longest path', () => {
    expect(registryOf('busybox')).toBe('docker.io');
    expect(registryOf('library/busybox:1')).toBe('docker.io');
    expect(registryOf('123.dkr.ecr.us-east-1.amazonaws.com/app:1')).toBe('123.dkr.ecr.us-east-1.amazonaws.com');
    expect(registryOf('localhost:5000/app')).toBe('localhost:5000');
    const auth = [
      { serveraddress: 'https://index.docker.io/v1/', username: 'hub' },
      { serveraddress: '*.example.com', username: 'wild' },
      { serveraddress: 'r.example.com/team', username: 'team' },
    ];
    expect(authFor('docker.io', auth, 'busybox')?.username).toBe('hub');
    expect(authFor('r.example.com', auth, 'r.example.com/team/app:1')).toEqual({
      serveraddress: 'r.example.com',
      username: 'team',
    });
    expect(authFor('r.example.com', auth, 'r.example.com/other/app:1')?.username).toBe('wild');
    expect(authFor('elsewhere.io', auth, 'elsewhere.io/app')).toBeUndefined();
  });
});

describe('volume paths cannot leave the pod (the review of issue 17)', () => {
  it('admission refuses item paths outside the volume and modes beyond 0777, as Kubernetes does', () => {
    const causes = podSupportProblems(
      {
        containers: [{ name: 'c', image: 'x' }],
        volumes: [
          { name: 'a', secret: { secretName: 's', items: [{ key: 'k', path: '../../etc/cron.d/x' }] } },
          { name: 'b', configMap: { name: 'c', defaultMode: 0o4755, items: [{ key: 'k', path: '/abs' }] } },
          { name: 'd', downwardAPI: { items: [{ path: '..data', fieldRef: { fieldPath: 'metadata.name' } }] } },
          {
            name: 'e',
            projected: { sources: [{ secret: { name: 's', items: [{ key: 'k', path: 'ok', mode: 0o1777 }] } }] },
          },
        ],
      },
      'spec',
    );
    expect(causes.map((c) => [c.field, c.message])).toEqual([
      ['spec.volumes[0].secret.items[0].path', `Invalid value: "../../etc/cron.d/x": must not contain '..'`],
      [
        'spec.volumes[1].configMap.defaultMode',
        'Invalid value: 2541: must be a number between 0 and 0777 (octal), both inclusive',
      ],
      ['spec.volumes[1].configMap.items[0].path', 'Invalid value: "/abs": must be a relative path'],
      ['spec.volumes[2].downwardAPI.items[0].path', `Invalid value: "..data": must not start with '..'`],
      [
        'spec.volumes[3].projected.sources[0].secret.items[0].mode',
        'Invalid value: 1023: must be a number between 0 and 0777 (octal), both inclusive',
      ],
    ]);
  });

  it('the writer refuses such a payload too (objects stored before admission checked it)', () => {
    const dir = tmp();
    expect(() => writeAtomically(join(dir, 'v'), new Map([['../escaped', file('x')]]), 's')).toThrow(
      /must not contain '\.\.'/,
    );
    expect(() => writeAtomically(join(dir, 'v'), new Map([['f', file('x', 0o4755)]]), 's')).toThrow(/at most 0777/);
    expect(existsSync(join(dir, 'escaped'))).toBe(false);
  });

  it('a subPath through a symlink a container planted must stay inside the volume (CVE-2017-1002101)', async () => {
    const podsDir = tmp();
    const uid = 'u-1';
    const p = pod({ volumes: [{ name: 'scratch', emptyDir: {} }] }, { uid });
    const volumes = new PodVolumes(p, podsDir, { lookup: async () => undefined, now: () => 0 });
    await volumes.setUp({ id: 's', labels: {}, running: true, volumes: {} }, {});
    const root = join(podsDir, uid, 'volumes', 'kubernetes.io~empty-dir', 'scratch');
    symlinkSync('/', join(root, 'host'));
    mkdirSync(join(root, 'inner'));
    symlinkSync('inner', join(root, 'alias'));
    expect(() => volumes.mountsFor([{ name: 'scratch', mountPath: '/m', subPath: 'host' }], {})).toThrow(
      /resolves outside the volume/,
    );
    expect(() => volumes.mountsFor([{ name: 'scratch', mountPath: '/m', subPath: 'host/etc' }], {})).toThrow(
      /resolves outside the volume/,
    );
    // A link that stays inside is followed, and the engine gets the resolved path.
    expect(volumes.mountsFor([{ name: 'scratch', mountPath: '/m', subPath: 'alias/new' }], {})[0]?.source).toBe(
      join(root, 'inner', 'new'),
    );
    volumes.tearDown();
    expect(existsSync(join(podsDir, uid))).toBe(false);
    // Nothing is written after teardown.
    await expect(volumes.setUp({ id: 's', labels: {}, running: true, volumes: {} }, {})).rejects.toThrow(
      /being removed/,
    );
  });

  it('the directories of pods no longer on the node go', () => {
    const podsDir = tmp();
    for (const uid of ['keep', 'gone-1', 'gone-2']) mkdirSync(join(podsDir, uid));
    expect(PodVolumes.removeOrphans(podsDir, new Set(['keep']))).toBe(2);
    expect(readdirSync(podsDir)).toEqual(['keep']);
  });
});
