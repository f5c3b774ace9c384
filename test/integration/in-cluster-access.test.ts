import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { KubeObject } from '../../shared/model/types.js';
import { serviceRangeRoute } from '../../shared/agent/network/service-routes.js';
import { ensureKubernetesService, kubernetesServiceIP } from '../../shared/apiserver/kubernetes-service.js';
import { apiDeps } from '../../shared/apiserver/wiring.js';
import { DEFAULT_SERVICE_NETWORK, Ipv4Range } from '../../shared/model/service-network.js';
import { systemClock } from '../../shared/util/clock.js';
import { ensurePki } from '../../local/pki.js';
import { podmanMissing, startPodman, type Podman } from '../../local/podman.js';
import { startAgentStack, type AgentStack } from '../support/agents.js';
import { until } from '../support/wait.js';

/**
 * A pod talks to the API as its ServiceAccount (issue 19), against podman: ServiceAccount admission
 * adds the `kube-api-access-…` projected volume, the node asks TokenRequest for a token bound to the
 * pod, the root CA publisher puts the API's CA in `kube-root-ca.crt`, and the `kubernetes` Service's
 * address (KUBERNETES_SERVICE_HOST/PORT) reaches the API's https listener through the node's proxy.
 * The official JavaScript client's `loadFromCluster()` then lists pods (its Role allows that) and is
 * refused Secrets, from inside the pod; without the token it is refused altogether, although the stack
 * runs in the tokenless loopback mode (that is for plain http only, and the pod's request reaches the
 * https listener from the node's proxy on loopback).
 *
 * The client runs under this machine's own Node.js, mounted into a busybox container with its shared
 * libraries and the repository's node_modules (hostPath volumes): no registry is reachable here.
 *
 * Network rule: the service range is routed `local` on this host by the agent before the pod starts
 * (asserted first); the API listens on loopback; the pod's traffic stays inside podman's network.
 */
const missing = podmanMissing();
if (missing && process.env.CI) throw new Error(`this suite needs podman in CI: ${missing}`);
if (missing) console.warn(`in-cluster access suite skipped: ${missing}`);

const CIDR = '10.99.0.0/16';
const SERVICE_IP = kubernetesServiceIP(new Ipv4Range(CIDR));
const NODE = 'in-cluster-node';
const ns = '/api/v1/namespaces/default';
const REPO = resolve(import.meta.dirname, '..', '..');

let s: AgentStack;
let engine: Podman;
let pkiDir: string;

/** The directories the running Node.js loads its libraries from (as ldd names them, and their real homes). */
function nodeLibraryDirs(): string[] {
  const out = execFileSync('ldd', [process.execPath], { encoding: 'utf8' });
  const dirs = new Set<string>();
  for (const m of out.matchAll(/(\/\S+\.so[.\d]*)/g)) {
    const file = m[1] as string;
    dirs.add(dirname(file));
    dirs.add(dirname(realpathSync(file)));
  }
  return [...dirs];
}

const CLIENT_SCRIPT = `
import { readFileSync } from 'node:fs';
import * as k8s from '@kubernetes/client-node';
const dir = '/var/run/secrets/kubernetes.io/serviceaccount';
const namespace = readFileSync(dir + '/namespace', 'utf8');
console.log('env ' + process.env.KUBERNETES_SERVICE_HOST + ':' + process.env.KUBERNETES_SERVICE_PORT);
console.log('namespace ' + namespace);
const kc = new k8s.KubeConfig();
kc.loadFromCluster();
const core = kc.makeApiClient(k8s.CoreV1Api);
try {
  const pods = await core.listNamespacedPod({ namespace });
  console.log('pods ' + pods.items.map((p) => p.metadata.name).sort().join(','));
} catch (e) {
  console.log('pods-error ' + (e.code ?? e.message));
}
// Without the token, from the pod: the offline stack's tokenless loopback mode is for plain http only.
const https = await import('node:https');
const anonymous = await new Promise((done, fail) =>
  https
    .get(
      {
        host: process.env.KUBERNETES_SERVICE_HOST,
        port: process.env.KUBERNETES_SERVICE_PORT,
        path: '/api/v1/namespaces/default/secrets',
        ca: readFileSync(dir + '/ca.crt'),
      },
      (r) => (r.resume(), done(r.statusCode)),
    )
    .on('error', fail),
);
console.log('anonymous ' + anonymous);
try {
  await core.listNamespacedSecret({ namespace });
  console.log('secrets listed');
} catch (e) {
  console.log('secrets-error ' + (e.code ?? e.message));
}
`;

beforeAll(async () => {
  if (missing) return;
  process.env.KUMO_SERVICE_CIDR = CIDR;
  pkiDir = mkdtempSync(join(tmpdir(), 'kumo-pki-'));
  const pki = ensurePki(pkiDir, new Date(), [SERVICE_IP]);
  // The root CA publisher (namespace controller) publishes this CA in every namespace.
  process.env.KUMO_ROOT_CA_FILE = pki.caFile;
  engine = await startPodman();
  s = await startAgentStack(undefined, undefined, { key: pki.keyPem, cert: pki.certPem });
  const port = Number(new URL(s.httpsUrl ?? '').port);
  const api = apiDeps(s.store, systemClock, console.error, {}, {}, { ...DEFAULT_SERVICE_NETWORK, serviceCIDR: CIDR });
  await ensureKubernetesService(api.service, new Ipv4Range(CIDR), { ip: '127.0.0.1', port });
  await s.startAgent(NODE, {
    runtime: 'docker',
    dockerSocket: engine.socket,
    sandboxImage: engine.sandboxImage,
    serviceProxy: true,
  });
  await until(async () => (await serviceRangeRoute(CIDR)) !== undefined, 20_000);
}, 240_000);

afterAll(async () => {
  await s?.close();
  await engine?.stop();
  try {
    execFileSync('ip', ['-4', 'route', 'del', 'local', CIDR, 'dev', 'lo', 'table', 'local'], { stdio: 'ignore' });
  } catch {
    // not there
  }
  if (pkiDir) rmSync(pkiDir, { recursive: true, force: true });
  delete process.env.KUMO_SERVICE_CIDR;
  delete process.env.KUMO_ROOT_CA_FILE;
});

describe.skipIf(!!missing)('in-cluster API access from a pod (docker runtime)', { timeout: 180_000 }, () => {
  const call = (method: string, path: string, body?: unknown) => s.call(method, path, body);
  const create = async (path: string, body: unknown) => {
    const r = await call('POST', path, body);
    expect(r.status, r.text).toBe(201);
    return r.json as KubeObject;
  };
  const finished = async (name: string) => {
    let pod: KubeObject | undefined;
    await until(async () => {
      pod = (await call('GET', `${ns}/pods/${name}`)).json as KubeObject;
      const phase = (pod?.status as { phase?: string } | undefined)?.phase;
      return phase === 'Succeeded' || phase === 'Failed';
    }, 120_000);
    return pod as KubeObject;
  };
  const logOf = async (name: string) => (await call('GET', `${ns}/pods/${name}/log`)).text;
  /** A pod that runs `command` once as `account`, with these volumes and mounts. */
  const oneShot = (
    name: string,
    account: string,
    command: string[],
    extra: { volumes?: unknown[]; volumeMounts?: unknown[] } = {},
  ) => ({
    metadata: { name },
    spec: {
      serviceAccountName: account,
      restartPolicy: 'Never',
      terminationGracePeriodSeconds: 1,
      ...(extra.volumes ? { volumes: extra.volumes } : {}),
      containers: [
        {
          name: 'main',
          image: engine.image,
          imagePullPolicy: 'IfNotPresent',
          command,
          ...(extra.volumeMounts ? { volumeMounts: extra.volumeMounts } : {}),
        },
      ],
    },
  });

  it('routes the service range to this host before any pod runs', async () => {
    expect(await serviceRangeRoute(CIDR)).toMatch(/^local 10\.99\.0\.0\/16 dev lo/);
  });

  it('publishes the CA in kube-root-ca.crt and serves the kubernetes Service at the first address', async () => {
    await until(async () => (await call('GET', `${ns}/configmaps/kube-root-ca.crt`)).status === 200, 30_000);
    const cm = (await call('GET', `${ns}/configmaps/kube-root-ca.crt`)).json;
    expect(cm.data['ca.crt']).toContain('-----BEGIN CERTIFICATE-----');
    expect(cm.metadata.annotations['kubernetes.io/description']).toMatch(/^Contains a CA bundle/);
    const svc = (await call('GET', `${ns}/services/kubernetes`)).json;
    expect(svc.spec).toMatchObject({ clusterIP: SERVICE_IP, ports: [{ name: 'https', port: 443, protocol: 'TCP' }] });
    // A user's edit is put back, as the root CA publisher does.
    cm.data['ca.crt'] = 'not a CA';
    expect((await call('PUT', `${ns}/configmaps/kube-root-ca.crt`, cm)).status).toBe(200);
    await until(
      async () =>
        String((await call('GET', `${ns}/configmaps/kube-root-ca.crt`)).json.data['ca.crt']).startsWith('-----BEGIN'),
      30_000,
    );
  });

  it("lists pods with loadFromCluster() and the account's token, and is refused Secrets", async () => {
    await create(`${ns}/serviceaccounts`, { metadata: { name: 'lister' } });
    await create('/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles', {
      metadata: { name: 'pod-lister' },
      rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }],
    });
    await create('/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings', {
      metadata: { name: 'lister-lists' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-lister' },
      subjects: [{ kind: 'ServiceAccount', name: 'lister' }],
    });
    await create(`${ns}/configmaps`, { metadata: { name: 'client' }, data: { 'list.mjs': CLIENT_SCRIPT } });
    const libs = nodeLibraryDirs();
    const pod = await create(
      `${ns}/pods`,
      oneShot('in-cluster', 'lister', ['/opt/node', '/app/list.mjs'], {
        volumes: [
          { name: 'node', hostPath: { path: process.execPath, type: 'File' } },
          { name: 'modules', hostPath: { path: join(REPO, 'node_modules'), type: 'Directory' } },
          { name: 'client', configMap: { name: 'client' } },
          ...libs.map((path, i) => ({ name: `lib${i}`, hostPath: { path, type: 'Directory' } })),
        ],
        volumeMounts: [
          { name: 'node', mountPath: '/opt/node', readOnly: true },
          { name: 'modules', mountPath: '/app/node_modules', readOnly: true },
          { name: 'client', mountPath: '/app/list.mjs', subPath: 'list.mjs' },
          ...libs.map((path, i) => ({ name: `lib${i}`, mountPath: path, readOnly: true })),
        ],
      }),
    );
    // ServiceAccount admission's volume and mount, as Kubernetes writes them.
    const spec = pod.spec as {
      volumes: { name: string; projected?: unknown }[];
      containers: { volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[] }[];
    };
    const tokenVolume = spec.volumes.find((v) => v.name.startsWith('kube-api-access-'));
    expect(tokenVolume?.name).toMatch(/^kube-api-access-[a-z0-9]{5}$/);
    expect(tokenVolume?.projected).toEqual({
      defaultMode: 420,
      sources: [
        { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    });
    expect(spec.containers[0]?.volumeMounts).toContainEqual({
      name: tokenVolume?.name,
      readOnly: true,
      mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
    });

    const done = await finished('in-cluster');
    const log = await logOf('in-cluster');
    expect((done.status as { phase: string }).phase, log).toBe('Succeeded');
    expect(log).toContain(`env ${SERVICE_IP}:443`);
    expect(log).toContain('namespace default');
    expect(log).toMatch(/^pods .*\bin-cluster\b/m);
    expect(log).toContain('secrets-error 403');
    expect(log).toContain('anonymous 401');
  });

  it('mounts nothing when the account turns automount off, and the pod still gets the Service variables', async () => {
    await create(`${ns}/serviceaccounts`, { metadata: { name: 'quiet' }, automountServiceAccountToken: false });
    const pod = await create(
      `${ns}/pods`,
      oneShot('no-token', 'quiet', [
        'sh',
        '-c',
        'echo "host=$KUBERNETES_SERVICE_HOST"; ls /var/run/secrets/kubernetes.io/serviceaccount 2>&1 || true',
      ]),
    );
    expect(JSON.stringify(pod.spec)).not.toContain('kube-api-access-');
    await finished('no-token');
    const log = await logOf('no-token');
    expect(log).toContain(`host=${SERVICE_IP}`);
    expect(log).toMatch(/No such file or directory/);
  });
});
