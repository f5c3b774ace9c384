/**
 * `npm start`: the whole control plane offline on 127.0.0.1 — DynamoDB Local, the SQS emulator, the
 * API under serverless-offline, and the event path (stream → dispatch → SQS → scheduler) — then a
 * demo workload from examples/. Ctrl-C stops everything.
 *
 * Two node agents run the pods: the process runtime by default; with --runtime docker, containers in
 * podman (started here, with a local busybox image) or in the engine at --docker-socket PATH.
 *
 *   npm start -- [--port 3000] [--tls-port 6443] [--in-memory] [--data-dir .kumo/dynamodb] [--no-demo] [--agents 2]
 *                [--runtime process|docker] [--docker-socket PATH] [--sandbox-image IMAGE]
 *                [--auth dev-loopback|tokens] [--ingress-port 3080] [--ingress-tls-port 3443]
 *
 * Services: the agents are each node's proxy and DNS. The service range is 127.96.0.0/16 for the
 * process runtime (pods on the host's network: loopback needs no route and no privilege) and
 * 10.96.0.0/16 for the docker runtime (routed to this host by the agent, which needs root, as podman
 * does). LoadBalancer Services answer on 127.0.0.1 at their ports; Ingresses on 127.0.0.1 at
 * --ingress-port (HTTP) and --ingress-tls-port (HTTPS).
 *
 * The API answers on --port over http and on --tls-port over https, with a CA made at first start and
 * kept in .kumo/pki (`kumo kubeconfig` writes it, and the https address, into the kubeconfig).
 *
 * Auth: by default tokenless requests from 127.0.0.1 act as cluster-admin; requests that carry a token
 * (kubectl sends them over https only) are checked exactly as on AWS. `--auth tokens` requires a token for everything and prints an admin token at start.
 * The local agents always use real node credentials, obtained with a bootstrap token.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { createAgent } from '../agent/create.js';
import { apiDeps } from '../shared/apiserver/wiring.js';
import { loadAgentConfig } from '../shared/config.js';
import { dynamoClient, sqsClient } from '../shared/aws/clients.js';
import { systemClock } from '../shared/util/clock.js';
import { DynamoStore } from '../shared/store/dynamo/dynamo-store.js';
import { DynamoTokenStore } from '../shared/store/dynamo/dynamo-token-store.js';
import { TokenService } from '../shared/auth/token-service.js';
import { startDynamoDbLocal } from './dynamodb-local.js';
import { functionHandlers, startEventPath } from './event-path.js';
import { freePort, waitForPort } from './ports.js';
import { endWithThisProcess, stopChild } from './processes.js';
import {
  ensureBootstrapPolicy,
  ensureRootCAConfigMaps,
  ensureLocalStorageClass,
  ensureObjectsTable,
  ensureQueues,
  ensureSystemNamespaces,
} from './setup.js';
import { startSqsEmulator } from './sqs-emulator.js';
import { startApiFront } from './api-front.js';
import { ensurePki } from './pki.js';
import { ensureKubernetesService, kubernetesServiceIP } from '../shared/apiserver/kubernetes-service.js';
import { DEFAULT_SERVICE_NETWORK, Ipv4Range } from '../shared/model/service-network.js';
import { podmanMissing, startPodman } from './podman.js';
import { IngressController } from '../shared/ingress/controller.js';
import { IngressProxy } from '../shared/ingress/proxy.js';
import { storeEventRecorder } from '../shared/events/recorder.js';
import { SecretSealer } from '../shared/secrets/sealer.js';
import { LocalKeyProvider } from '../shared/secrets/local-key-provider.js';

const root = resolve(dirname(new URL(import.meta.url).pathname), '..');
const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.KUMO_PORT ?? '3000' },
    'tls-port': { type: 'string', default: process.env.KUMO_TLS_PORT ?? '6443' },
    'in-memory': { type: 'boolean', default: false },
    'data-dir': { type: 'string', default: join(root, '.kumo', 'dynamodb') },
    'no-demo': { type: 'boolean', default: false },
    'dynamodb-port': { type: 'string' },
    'sqs-port': { type: 'string' },
    agents: { type: 'string', default: '2' },
    'docker-socket': { type: 'string' },
    'sandbox-image': { type: 'string' },
    runtime: { type: 'string' },
    auth: { type: 'string', default: 'dev-loopback' },
    'ingress-port': { type: 'string', default: '3080' },
    'ingress-tls-port': { type: 'string', default: '3443' },
  },
});

const log = (msg: string) => console.log(`[kumo] ${msg}`);
// What a person reads goes to the terminal; the rest (serverless-offline's request lines, the agents'
// syncs, the event path's notes) to this file: a day of an idle stack was thousands of lines.
const STACK_LOG = join(root, '.kumo', 'stack.log');
mkdirSync(join(root, '.kumo'), { recursive: true });
const stackLogFd = openSync(STACK_LOG, 'a');
const toStackLog = (msg: string) => writeSync(stackLogFd, `${new Date().toISOString()} ${msg}\n`);
const lastLines = (n: number) => readFileSync(STACK_LOG, 'utf8').trimEnd().split('\n').slice(-n).join('\n');
// Lambda runs Node 22; these machines run Node 20, which the SDK warns about on every client. Known, and said once in the README.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
const region = 'us-east-1';
const tableName = 'kumo-local-objects';
const stops: (() => Promise<void>)[] = [];
mkdirSync(join(root, '.kumo'), { recursive: true });
const LOCAL_STACK_FILE = join(root, '.kumo', 'stack.json');
let stopping = false;

async function shutdown(code: number) {
  if (stopping) return;
  stopping = true;
  log('stopping…');
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(e));
  log('stopped');
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

/** The offline stand-in for the KMS key: made once, kept beside the data it protects (.kumo/, git-ignored). */
function localSecretsKey(): string {
  const file = join(root, '.kumo', 'secrets.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

function startServerlessOffline(env: NodeJS.ProcessEnv): ChildProcess {
  // A bundle left by an earlier build (e.g. api.js beside api.cjs) would be loaded instead of the fresh one.
  rmSync(join(root, '.esbuild'), { recursive: true, force: true });
  const require = createRequire(import.meta.url);
  const slsBin = join(dirname(require.resolve('osls/package.json')), 'bin', 'serverless.js');
  // Protobuf request bodies must reach the handler intact, as API Gateway delivers them (see the hook).
  const binaryBodies = join(root, 'local', 'offline-binary-bodies.mjs');
  return spawn(process.execPath, ['--import', pathToFileURL(binaryBodies).href, slsBin, 'offline', 'start'], {
    cwd: root,
    env,
    stdio: ['ignore', stackLogFd, stackLogFd],
    detached: true, // its own process group: we stop it (and its workers) as one
  });
}

async function main() {
  const apiPort = Number(args.port);
  const dynamoPort = args['dynamodb-port'] ? Number(args['dynamodb-port']) : await freePort();
  const sqsPort = args['sqs-port'] ? Number(args['sqs-port']) : await freePort();
  const lambdaPort = await freePort();
  const offlinePort = await freePort();

  const ddb = await startDynamoDbLocal({ port: dynamoPort, dataDir: args['in-memory'] ? undefined : args['data-dir'] });
  stops.push(ddb.stop);
  ddb.process.once(
    'exit',
    () => !stopping && (console.error('[kumo] DynamoDB Local exited unexpectedly'), void shutdown(1)),
  );
  log(`DynamoDB Local   ${ddb.endpoint} (${args['in-memory'] ? 'in memory' : `data in ${args['data-dir']}`})`);

  const sqsEmulator = await startSqsEmulator({ port: sqsPort });
  stops.push(sqsEmulator.stop);
  log(`SQS emulator     ${sqsEmulator.endpoint}`);

  const config = { region, tableName, dynamoEndpoint: ddb.endpoint, sqsEndpoint: sqsEmulator.endpoint };
  const runtime = args.runtime ?? (args['docker-socket'] ? 'docker' : 'process');
  if (runtime !== 'process' && runtime !== 'docker')
    throw new Error(`--runtime must be process or docker, not ${JSON.stringify(runtime)}`);
  const serviceCIDR = runtime === 'docker' ? '10.96.0.0/16' : '127.96.0.0/16';
  const serviceRange = new Ipv4Range(serviceCIDR);
  // kubectl sends bearer tokens only over https: the API is also served under the stack's CA, whose
  // serving certificate names the `kubernetes` Service's address too (pods dial it).
  const pki = ensurePki(join(root, '.kumo', 'pki'), new Date(), [kubernetesServiceIP(serviceRange)]);
  const tlsPort = Number(args['tls-port']);
  const logDir = join(root, '.kumo', 'logs');
  const client = dynamoClient(config);
  await ensureObjectsTable(client, tableName);
  const sqs = sqsClient(config);
  const queueUrls = await ensureQueues(sqs, 'kumo-local');
  // With the stack's service range: it writes the `kubernetes` Service at that range's first address.
  const seedService = apiDeps(
    new DynamoStore(client, tableName, systemClock),
    systemClock,
    console.error,
    {},
    {},
    {
      ...DEFAULT_SERVICE_NETWORK,
      serviceCIDR,
    },
  ).service;
  await ensureSystemNamespaces(seedService);
  await ensureBootstrapPolicy(seedService);
  // The default class: claims that name none get local volumes on the node their pod goes to.
  await ensureLocalStorageClass(seedService);
  if (args.auth !== 'dev-loopback' && args.auth !== 'tokens')
    throw new Error(`--auth must be dev-loopback or tokens, not ${JSON.stringify(args.auth)}`);
  const tokens = new TokenService(new DynamoTokenStore(client, tableName), systemClock);
  const bootstrap = await tokens.createBootstrapToken('local-agents', 3600);
  const admin =
    args.auth === 'tokens' ? await tokens.createUserToken({ name: 'local-admin', role: 'cluster-admin' }) : undefined;
  const authHeader: Record<string, string> = admin ? { authorization: `Bearer ${admin.token}` } : {};

  // The stream and queue consumers run here, in-process, with the same handlers and configuration as on AWS.
  const handlerEnv = {
    KUMO_TABLE: tableName,
    KUMO_DYNAMODB_ENDPOINT: ddb.endpoint,
    KUMO_SQS_ENDPOINT: sqsEmulator.endpoint,
    KUMO_SCHEDULER_QUEUE_URL: queueUrls.scheduler,
    KUMO_CONTROLLERS_QUEUE_URL: queueUrls.controllers,
    AWS_REGION: region,
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    // Agents long-poll per-node wake-up queues; container logs go to files the API reads back.
    KUMO_NODE_QUEUE_PREFIX: 'kumo-local',
    KUMO_LOG_DIR: logDir,
    KUMO_AUTH_MODE: args.auth,
    // Secret values are sealed with this key before they reach DynamoDB Local (KMS plays this part on AWS).
    KUMO_SECRETS_KEY: localSecretsKey(),
    // Services (see the top of this file); load balancers on 127.0.0.1.
    KUMO_SERVICE_CIDR: serviceCIDR,
    KUMO_LOAD_BALANCER_PROVIDER: 'local',
    // What pods verify the API with (`kube-root-ca.crt` in every namespace): this stack's CA.
    KUMO_ROOT_CA_FILE: pki.caFile,
  };
  Object.assign(process.env, handlerEnv);
  // The `kubernetes` Service: pods reach the https front at its cluster IP through their node's proxy.
  // A Service of a user's holding its address (a kept table) leaves pods without it: said, not fatal.
  await ensureKubernetesService(seedService, serviceRange, { ip: '127.0.0.1', port: tlsPort }).catch((e: Error) =>
    log(`kubernetes Service not kept: ${e.message}`),
  );
  const handlers = await functionHandlers();
  const events = await startEventPath({
    dynamo: client,
    dynamoEndpoint: ddb.endpoint,
    sqs,
    tableName,
    schedulerQueueUrl: queueUrls.scheduler,
    controllersQueueUrl: queueUrls.controllers,
    handlers,
    // What changed while the stack was down is not replayed; the sweep below catches up on waiting pods.
    startAt: 'LATEST',
    log: (m) => toStackLog(`[event path] ${m}`),
  });
  stops.push(() => events.stop());
  await handlers.sweep();
  // Namespaces written before the root CA publisher ran (the system ones just now, or a kept table's).
  await ensureRootCAConfigMaps(seedService, readFileSync(pki.caFile, 'utf8'));
  log('event path       DynamoDB stream → dispatch → SQS → scheduler and controllers (and a sweep every minute)');

  const offline = startServerlessOffline({
    ...process.env,
    // serverless-offline listens inside; clients reach it through the API front (local/api-front.ts).
    KUMO_PORT: String(offlinePort),
    KUMO_OFFLINE_SCHEDULES: 'false',
    KUMO_LAMBDA_PORT: String(lambdaPort),
    SLS_TELEMETRY_DISABLED: '1',
    SLS_NOTIFICATIONS_MODE: 'off',
  });
  // If this orchestrator is killed outright, serverless-offline (its own process group) must go too.
  const dismissWatchdog = endWithThisProcess(offline);
  stops.push(async () => {
    await stopChild(offline);
    dismissWatchdog();
  });
  offline.once(
    'exit',
    (code) =>
      !stopping &&
      (console.error(`[kumo] serverless-offline exited (${code}); the end of ${STACK_LOG}:\n${lastLines(20)}`),
      void shutdown(1)),
  );
  await waitForPort(offlinePort, 120_000);
  // The same front on a second port, over https.
  const front = await startApiFront({
    port: apiPort,
    upstream: `http://127.0.0.1:${offlinePort}`,
    log: toStackLog,
    tls: { port: tlsPort, key: pki.keyPem, cert: pki.certPem },
  });
  stops.push(() => front.close());
  const api = `http://127.0.0.1:${apiPort}`;
  const https = `https://127.0.0.1:${tlsPort}`;
  // Where `kumo token … --local` finds this stack's table, and `kumo kubeconfig` its address and CA.
  writeFileSync(
    LOCAL_STACK_FILE,
    JSON.stringify({ api, https, caFile: pki.caFile, dynamoEndpoint: ddb.endpoint, tableName, region }, null, 2),
  );
  stops.push(async () => rmSync(LOCAL_STACK_FILE, { force: true }));
  log(`API              ${api}  (serverless-offline, HTTP API emulation; watches stream)`);
  log(`                 ${https}  (the same, over TLS: CA ${pki.caFile})`);

  // A fresh exchange each start: the table may be new (--in-memory) while the agents' data dirs are kept.
  for (let i = 1; i <= Number(args.agents); i++)
    rmSync(join(root, '.kumo', 'agents', `local-node-${i}`, 'node-credential'), { force: true });
  const agentCount = Number(args.agents);
  let dockerSocket = args['docker-socket'];
  let sandboxImage = args['sandbox-image'];
  if (runtime === 'docker' && !dockerSocket) {
    const missing = podmanMissing();
    if (missing)
      throw new Error(
        `--runtime docker needs a container engine: install podman (${missing}), or pass --docker-socket PATH of one you run`,
      );
    // The examples' image, built from busybox-static: no registry is reachable from here.
    const engine = await startPodman(['docker.io/library/busybox:1.36']);
    stops.push(() => engine.stop());
    dockerSocket = engine.socket;
    sandboxImage ??= engine.sandboxImage;
    log(
      `podman           ${engine.socket} (Docker API; image busybox:1.36 built locally; its containers go on Ctrl-C)`,
    );
  }
  for (let i = 1; i <= agentCount; i++) {
    const agent = await createAgent(
      loadAgentConfig({
        server: api,
        'node-name': `local-node-${i}`,
        runtime,
        'docker-socket': dockerSocket,
        'sandbox-image': sandboxImage,
        'data-dir': join(root, '.kumo', 'agents', `local-node-${i}`),
        'log-dir': logDir,
        'internal-ip': '127.0.0.1',
        'sqs-endpoint': sqsEmulator.endpoint,
        'bootstrap-token': bootstrap.token,
        cpu: '2',
        memory: '4Gi',
        // Offline no packet leaves this machine: the cluster DNS answers cluster names only.
        'upstream-dns': 'none',
      }),
      { log: (m) => toStackLog(`[local-node-${i}] ${m}`) },
    );
    // Registration retries until the API answers; the demo does not wait for it (pods wait for nodes, as in any cluster).
    void agent.start().catch((e: unknown) => console.error(`[kumo] agent local-node-${i} failed: ${String(e)}`));
    stops.push(() => agent.stop({ stopPods: runtime === 'process' }));
  }
  if (agentCount) log(`agents           ${agentCount} × local-node-N starting (${runtime} runtime; logs in ${logDir})`);
  log(`services         cluster IPs from ${serviceCIDR}; LoadBalancer Services on 127.0.0.1 at their ports`);
  const ingress = await startIngress(client);
  if (ingress)
    log(
      `ingress          http://127.0.0.1:${ingress.http}  https://127.0.0.1:${ingress.https} (every Ingress, by Host)`,
    );

  if (!args['no-demo']) {
    const manifest = readFileSync(join(root, 'examples', 'demo.yaml'), 'utf8');
    const res = await fetch(`${api}/kumo/v1/apply`, {
      method: 'POST',
      headers: { 'content-type': 'application/yaml', ...authHeader },
      body: manifest,
    });
    const text = await res.text();
    if (!res.ok && res.status !== 207) throw new Error(`applying the demo failed (${res.status}): ${text}`);
    const result = JSON.parse(text) as {
      results?: { kind?: string; namespace?: string; name?: string; action: string; status?: { message: string } }[];
    };
    for (const r of result.results ?? [])
      log(
        `demo: ${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name} ${r.action}${r.status ? `: ${r.status.message}` : ''}`,
      );
  }
  if (admin)
    log(
      `auth             tokens required; an admin token (shown once): ${admin.token}\n                   node bin/kumo.js kubeconfig --token <it> --out .kumo/kubeconfig writes it for kubectl (over https)`,
    );
  else
    log(
      'auth             dev-loopback: tokenless requests from 127.0.0.1 act as cluster-admin; tokens, when sent, are checked',
    );
  log(`logs             ${STACK_LOG} (serverless-offline, agents, event path); container output in ${logDir}`);
  log('ready. Try:');
  console.log(`  node bin/kumo.js kubeconfig --out .kumo/kubeconfig && export KUBECONFIG=$PWD/.kumo/kubeconfig
  kubectl get nodes; kubectl -n demo get pods -o wide; kubectl -n demo logs deploy/web
  curl -s ${api}/apis/apps/v1/namespaces/demo/deployments/web
  curl -s -X POST -H 'Content-Type: application/yaml' --data-binary @examples/web-deployment.yaml ${api}/apis/apps/v1/namespaces/default/deployments
  curl -s -X POST -H 'Content-Type: application/yaml' --data-binary @examples/demo.yaml '${api}/kumo/v1/apply?atomic=true'
Press Ctrl-C to stop.`);
  if (!args['no-demo']) void reportDemo(api, authHeader);
}

/**
 * The offline ingress controller (shared/ingress): kumo's IngressClass, then a sync of the routes every
 * second (endpoints followed without a restart). Ports already taken leave the stack without one.
 */
async function startIngress(
  client: ReturnType<typeof dynamoClient>,
): Promise<{ http: number; https: number } | undefined> {
  const sealer = new SecretSealer(new LocalKeyProvider(Buffer.from(localSecretsKey(), 'base64')), systemClock);
  const store = new DynamoStore(client, tableName, systemClock, sealer);
  const proxy = new IngressProxy({
    address: '127.0.0.1',
    httpPort: Number(args['ingress-port']),
    httpsPort: Number(args['ingress-tls-port']),
    now: Date.now,
    log: (m) => toStackLog(`[ingress] ${m}`),
  });
  try {
    await proxy.start();
  } catch (e) {
    log(
      `ingress          not started: ${(e as Error).message} (choose other ports with --ingress-port and --ingress-tls-port)`,
    );
    await proxy.close().catch(() => undefined);
    return undefined;
  }
  const controller = new IngressController({
    api: apiDeps(store, systemClock, console.error).service,
    events: storeEventRecorder(store, systemClock, 'ingress-controller', randomUUID),
    proxy,
    address: '127.0.0.1',
  });
  await controller.ensureClass();
  let running = true;
  const loop = (async () => {
    while (running) {
      await controller.sync().catch((e: unknown) => toStackLog(`[ingress] sync failed: ${String(e)}`));
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  stops.push(async () => {
    running = false;
    await loop;
    await proxy.close();
  });
  return { http: Number(args['ingress-port']), https: Number(args['ingress-tls-port']) };
}

/** One line when the demo has come up (or what it is waiting for after two minutes): its state, read from the API. */
async function reportDemo(api: string, headers: Record<string, string>) {
  type Seen = {
    spec?: { replicas?: number };
    status?: {
      readyReplicas?: number;
      conditions?: { type: string; status: string }[];
      loadBalancer?: { ingress?: { ip?: string }[] };
    };
  };
  const get = async (path: string): Promise<Seen> => (await (await fetch(`${api}${path}`, { headers })).json()) as Seen;
  const deadline = Date.now() + 120_000;
  let state = '';
  let lb: Seen = {};
  const ready = (d: Seen) => (d.status?.readyReplicas ?? 0) === d.spec?.replicas;
  while (!stopping && Date.now() < deadline) {
    const [web, greeter, hello, publicSvc] = await Promise.all([
      get('/apis/apps/v1/namespaces/demo/deployments/web'),
      get('/apis/apps/v1/namespaces/demo/deployments/greeter'),
      get('/apis/batch/v1/namespaces/demo/jobs/hello'),
      get('/api/v1/namespaces/demo/services/greeter-public'),
    ]).catch((): Seen[] => [{}, {}, {}, {}]);
    lb = publicSvc ?? {};
    const complete = (hello?.status?.conditions ?? []).some((c) => c.type === 'Complete' && c.status === 'True');
    const count = (d: Seen | undefined) => `${d?.status?.readyReplicas ?? 0}/${d?.spec?.replicas ?? '?'}`;
    state = `deployment demo/web ${count(web)} ready, demo/greeter ${count(greeter)} ready, job demo/hello ${complete ? 'Complete' : 'running'}`;
    // Up means answering: the agents carry the load balancer's port once its endpoint reached them.
    const answers = async (url: string, host?: string) =>
      fetch(url, { headers: host ? { host } : {}, signal: AbortSignal.timeout(2000) }).then(
        (r) => r.ok,
        () => false,
      );
    if (
      complete &&
      web &&
      greeter &&
      ready(web) &&
      ready(greeter) &&
      lb.status?.loadBalancer?.ingress?.length &&
      (await answers('http://127.0.0.1:18081/'))
    )
      break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (stopping) return;
  log(`demo: ${state}`);
  const lbIP = lb.status?.loadBalancer?.ingress?.[0]?.ip;
  if (lbIP) log(`demo: LoadBalancer demo/greeter-public  curl http://${lbIP}:18081/`);
  log(
    `demo: Ingress demo/greeter             curl -H 'Host: greeter.demo.test' http://127.0.0.1:${args['ingress-port']}/`,
  );
  log('demo: its client asks the Service by name every 5 s: kubectl -n demo logs deploy/client');
}

main().catch((e) => {
  console.error('[kumo] failed to start:', e, `\n[kumo] the end of ${STACK_LOG}:\n${lastLines(20)}`);
  void shutdown(1);
});
