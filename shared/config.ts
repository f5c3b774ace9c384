/**
 * The one place that reads the environment. Everything else receives these values.
 * Offline, local/ sets the endpoints; on AWS they are absent and the SDK's defaults apply.
 */
import { DEFAULT_AUTH, type AuthSettings } from './auth/settings.js';
import { DEFAULT_SERVICE_NETWORK, Ipv4Range, parsePortRange, type ServiceNetwork } from './model/service-network.js';

export interface Config {
  region: string;
  tableName: string;
  /** DynamoDB Local's URL offline; undefined on AWS. */
  dynamoEndpoint?: string;
  /** The SQS emulator's URL offline; undefined on AWS. */
  sqsEndpoint?: string;
  /** Work queue URLs (set by serverless.yml on AWS, by local/ offline). */
  queueUrls: { scheduler: string; controllers: string };
  /** Cluster-wide scoring: spread pods (LeastAllocated, the default) or bin-pack them (MostAllocated). */
  schedulingStrategy: 'LeastAllocated' | 'MostAllocated';
  /** Prefix of the per-node wake-up queues; without it agents learn of new pods at their next resync. */
  nodeQueuePrefix?: string;
  /** Offline container logs (a directory the agents write and the API reads); on AWS logs live in CloudWatch. */
  logDir?: string;
  /** What agents are told at registration; undefined keeps the defaults (15 s heartbeat, 60 s resync). */
  nodeTimings?: { heartbeatSeconds: number; resyncSeconds: number };
  /** CloudWatch Logs group for container logs on AWS (agents write, the API reads). */
  logGroup?: string;
  /** The function's own credentials (Lambda sets them in the environment), for the small signed AWS client. */
  envCredentials: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };
  /** Node lifecycle: lease grace, default toleration of an unreachable node, how often nodes are checked. */
  nodeLifecycle: { graceSeconds: number; tolerationSeconds: number; periodSeconds: number };
  /** Who may call the API: tokens everywhere; the loopback development mode only offline. */
  auth: AuthSettings;
  /** How Secret values are encrypted at rest: a KMS key on AWS, a local key offline. */
  secrets: { kmsKeyId?: string; localKey?: Buffer };
  /** Where Services get addresses and node ports, and the cluster's DNS domain (KUMO_SERVICE_CIDR, KUMO_SERVICE_NODE_PORT_RANGE, KUMO_CLUSTER_DOMAIN). */
  serviceNetwork: ServiceNetwork;
  /** Where LoadBalancer Services get load balancers: `local` (127.0.0.1, offline) or none (KUMO_LOAD_BALANCER_PROVIDER). */
  loadBalancerProvider?: 'local';
  /**
   * A PEM file with the CA bundle that verifies the API from inside pods (KUMO_ROOT_CA_FILE; offline,
   * `.kumo/pki/ca.crt`); without it, the public roots an AWS endpoint's certificate chains to.
   */
  rootCAFile?: string;
  /** The API's https URL, told to nodes for pods where no `kubernetes` Service is kept (KUMO_API_URL; set on AWS). */
  apiURL?: string;
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const tableName = env.KUMO_TABLE;
  if (!tableName) throw new Error('KUMO_TABLE is not set: it names the DynamoDB objects table');
  const dynamoEndpoint = env.KUMO_DYNAMODB_ENDPOINT || undefined;
  return {
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    tableName,
    dynamoEndpoint,
    sqsEndpoint: env.KUMO_SQS_ENDPOINT || undefined,
    queueUrls: { scheduler: env.KUMO_SCHEDULER_QUEUE_URL ?? '', controllers: env.KUMO_CONTROLLERS_QUEUE_URL ?? '' },
    schedulingStrategy: env.KUMO_SCHEDULING_STRATEGY === 'MostAllocated' ? 'MostAllocated' : 'LeastAllocated',
    nodeQueuePrefix: env.KUMO_NODE_QUEUE_PREFIX || undefined,
    logDir: env.KUMO_LOG_DIR || undefined,
    logGroup: env.KUMO_LOG_GROUP || undefined,
    rootCAFile: env.KUMO_ROOT_CA_FILE || undefined,
    apiURL: env.KUMO_API_URL || undefined,
    envCredentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
    },
    nodeTimings: env.KUMO_NODE_HEARTBEAT_SECONDS
      ? {
          heartbeatSeconds: positive(env.KUMO_NODE_HEARTBEAT_SECONDS, 'KUMO_NODE_HEARTBEAT_SECONDS'),
          resyncSeconds: positive(env.KUMO_NODE_RESYNC_SECONDS ?? '60', 'KUMO_NODE_RESYNC_SECONDS'),
        }
      : undefined,
    nodeLifecycle: {
      graceSeconds: positive(env.KUMO_NODE_MONITOR_GRACE_SECONDS ?? '40', 'KUMO_NODE_MONITOR_GRACE_SECONDS'),
      tolerationSeconds: positive(
        env.KUMO_NODE_EVICTION_TOLERATION_SECONDS ?? '30',
        'KUMO_NODE_EVICTION_TOLERATION_SECONDS',
      ),
      periodSeconds: positive(env.KUMO_NODE_MONITOR_PERIOD_SECONDS ?? '15', 'KUMO_NODE_MONITOR_PERIOD_SECONDS'),
    },
    auth: authSettings(env, dynamoEndpoint),
    secrets: secretKeys(env, dynamoEndpoint),
    serviceNetwork: serviceNetwork(env),
    loadBalancerProvider: loadBalancerProvider(env.KUMO_LOAD_BALANCER_PROVIDER),
  };
}

function serviceNetwork(env: Record<string, string | undefined>): ServiceNetwork {
  const d = DEFAULT_SERVICE_NETWORK;
  const serviceCIDR = env.KUMO_SERVICE_CIDR || d.serviceCIDR;
  let range: Ipv4Range;
  try {
    range = new Ipv4Range(serviceCIDR);
  } catch {
    throw new Error(`KUMO_SERVICE_CIDR must be an IPv4 CIDR such as 10.96.0.0/16, not ${JSON.stringify(serviceCIDR)}`);
  }
  // kube-apiserver's limits: at most a /12 (every node routes the whole range to itself), at least a /28.
  if (range.size > 2 ** 20 || range.size < 16)
    throw new Error(`KUMO_SERVICE_CIDR ${serviceCIDR}: the prefix must be between /12 and /28`);
  return {
    serviceCIDR,
    nodePorts: env.KUMO_SERVICE_NODE_PORT_RANGE ? parsePortRange(env.KUMO_SERVICE_NODE_PORT_RANGE) : d.nodePorts,
    clusterDomain: env.KUMO_CLUSTER_DOMAIN || d.clusterDomain,
  };
}

function secretKeys(env: Record<string, string | undefined>, dynamoEndpoint: string | undefined): Config['secrets'] {
  const kmsKeyId = env.KUMO_KMS_KEY_ID || undefined;
  const localKey = env.KUMO_SECRETS_KEY ? Buffer.from(env.KUMO_SECRETS_KEY, 'base64') : undefined;
  if (localKey && localKey.length !== 32) throw new Error('KUMO_SECRETS_KEY must be 32 bytes, base64-encoded');
  const offline = isLoopbackUrl(dynamoEndpoint);
  // A key in an environment variable is for the offline stack only; on AWS the key stays in KMS.
  if (localKey && !offline)
    throw new Error('KUMO_SECRETS_KEY is only allowed offline; on AWS Secrets are sealed with KMS (KUMO_KMS_KEY_ID)');
  // On AWS Secret values are always encrypted: refuse to start rather than store them in the clear.
  if (!kmsKeyId && !offline) throw new Error('KUMO_KMS_KEY_ID is not set: Secrets must be encrypted with KMS on AWS');
  return localKey ? { localKey } : { kmsKeyId };
}

/** Offline means the store is an emulator on this machine. */
const isLoopbackUrl = (url: string | undefined) =>
  !!url && /^https?:\/\/(127\.\d+\.\d+\.\d+|localhost|\[::1\])(:\d+)?(\/.*)?$/.test(url);

function authSettings(env: Record<string, string | undefined>, dynamoEndpoint: string | undefined): AuthSettings {
  const mode = env.KUMO_AUTH_MODE || 'tokens';
  if (mode !== 'tokens' && mode !== 'dev-loopback')
    throw new Error(`KUMO_AUTH_MODE must be tokens or dev-loopback, not ${JSON.stringify(mode)}`);
  // The open development mode must be impossible on AWS: it needs the store to be a local emulator too.
  if (mode === 'dev-loopback' && !isLoopbackUrl(dynamoEndpoint))
    throw new Error(
      'KUMO_AUTH_MODE=dev-loopback is only allowed offline (KUMO_DYNAMODB_ENDPOINT on a loopback address)',
    );
  const perSecond = positive(
    env.KUMO_RATE_LIMIT_PER_SECOND ?? String(DEFAULT_AUTH.rateLimit.perSecond),
    'KUMO_RATE_LIMIT_PER_SECOND',
  );
  return {
    mode,
    cacheSeconds: positive(env.KUMO_AUTH_CACHE_SECONDS ?? String(DEFAULT_AUTH.cacheSeconds), 'KUMO_AUTH_CACHE_SECONDS'),
    rbacCacheSeconds: positive(
      env.KUMO_RBAC_CACHE_SECONDS ?? String(DEFAULT_AUTH.rbacCacheSeconds),
      'KUMO_RBAC_CACHE_SECONDS',
    ),
    rateLimit: {
      perSecond,
      burst: positive(env.KUMO_RATE_LIMIT_BURST ?? String(perSecond * 2), 'KUMO_RATE_LIMIT_BURST'),
    },
    maxBodyBytes: positive(env.KUMO_MAX_BODY_BYTES ?? String(DEFAULT_AUTH.maxBodyBytes), 'KUMO_MAX_BODY_BYTES'),
  };
}

function positive(v: string, name: string): number {
  const n = Number(v);
  if (!(n > 0)) throw new Error(`${name} must be a positive number of seconds, not ${JSON.stringify(v)}`);
  return n;
}

/** The node agent's settings: flags win over KUMO_AGENT_* environment variables. */
export interface AgentConfig {
  server: string;
  nodeName: string;
  token?: string;
  /** Exchanged once for this node's own credential (kept in dataDir). */
  bootstrapToken?: string;
  runtime: 'process' | 'docker';
  dockerSocket: string;
  /** The docker runtime's infra container image (pause); offline stacks build a local one. */
  sandboxImage: string;
  /** Privileged containers may run on this node (kubelet's old --allow-privileged). */
  allowPrivileged: boolean;
  /** The cluster's DNS domain, for pods' subdomain FQDNs and search paths. */
  clusterDomain: string;
  /** Serve Services on this node (the proxy and the cluster DNS); on by default. */
  serviceProxy: boolean;
  /** How cluster IPs are carried: nftables where the agent can (auto), or the user-space proxy. */
  proxyMode: 'auto' | 'userspace' | 'nftables';
  /** Where the cluster DNS forwards names outside the cluster domain: undefined reads the node's resolv.conf, [] forwards nothing. */
  upstreamDns?: string[];
  dataDir: string;
  logDir: string;
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute' }[];
  cpu?: string;
  memory?: string;
  /** What the node's kumo.dev/local volumes may add up to (a quantity); default: the data directory's free space at start. */
  localVolumesCapacity?: string;
  pods?: number;
  internalIP?: string;
  region: string;
  sqsEndpoint?: string;
  ecsMetadataUri?: string;
  /** ECS/Fargate task role credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI). */
  ecsCredentialsUri?: string;
  envCredentials: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };
  /** CloudWatch Logs group for container logs; without it logs are files under logDir. */
  logGroup?: string;
  path: string;
  /**
   * Whether the agent may ask AWS's link-local metadata endpoints (EC2 IMDS, ECS task metadata) for
   * its zone, instance and credentials. 'none' sends nothing off the machine: the offline stack,
   * tests and benchmarks must never probe 169.254.169.254.
   */
  cloud: 'aws' | 'none';
}

/** Local signals of where the agent runs, read at the edge (agent/main.ts) without any network call. */
export interface HostSignals {
  /** The machine's firmware says it is an EC2 instance (DMI vendor or asset tag, Xen hypervisor uuid). */
  ec2?: boolean;
}

/** `a=b,c=d` → {a: 'b', c: 'd'}. */
const pairs = (s: string | undefined) =>
  Object.fromEntries(
    (s ?? '')
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => {
        const i = p.indexOf('=');
        return i < 0 ? [p, ''] : [p.slice(0, i), p.slice(i + 1)];
      }),
  ) as Record<string, string>;

/** `key=value:Effect,key2:Effect` as kubelet's --register-with-taints takes them. */
function taints(s: string | undefined): AgentConfig['taints'] {
  return (s ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean)
    .map((t) => {
      const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(t);
      if (!m)
        throw new Error(`taint ${JSON.stringify(t)} must look like key[=value]:NoSchedule|PreferNoSchedule|NoExecute`);
      return {
        key: m[1] ?? '',
        ...(m[2] !== undefined ? { value: m[2] } : {}),
        effect: m[3] as AgentConfig['taints'][number]['effect'],
      };
    });
}

/**
 * AWS only when told so, or when a local signal says so: ECS sets its metadata variables in the task's
 * environment, EC2's firmware names Amazon. An agent whose control plane is on loopback is the
 * offline stack and stays off the cloud endpoints unless `--cloud aws` says otherwise.
 */
function cloudOf(
  explicit: string | undefined,
  server: string,
  env: Record<string, string | undefined>,
  host: HostSignals,
): AgentConfig['cloud'] {
  if (explicit !== undefined) {
    if (explicit !== 'aws' && explicit !== 'none')
      throw new Error(`--cloud must be aws or none, not ${JSON.stringify(explicit)}`);
    return explicit;
  }
  if (env.ECS_CONTAINER_METADATA_URI_V4 || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return 'aws';
  if (isLoopbackUrl(server)) return 'none';
  return host.ec2 ? 'aws' : 'none';
}

export function loadAgentConfig(
  flags: Record<string, string | undefined>,
  env: Record<string, string | undefined> = process.env,
  host: HostSignals = {},
): AgentConfig {
  const pick = (flag: string, envName: string) => flags[flag] ?? env[envName];
  const server = pick('server', 'KUMO_AGENT_SERVER');
  if (!server) throw new Error('the control plane is not set: --server URL or KUMO_AGENT_SERVER');
  const runtime = pick('runtime', 'KUMO_AGENT_RUNTIME') ?? 'process';
  if (runtime !== 'process' && runtime !== 'docker')
    throw new Error(`--runtime must be process or docker, not ${JSON.stringify(runtime)}`);
  const dataDir = pick('data-dir', 'KUMO_AGENT_DATA_DIR') ?? '/var/lib/kumo-agent';
  const pods = pick('pods', 'KUMO_AGENT_PODS');
  return {
    server: server.replace(/\/+$/, ''),
    nodeName: (pick('node-name', 'KUMO_AGENT_NODE_NAME') ?? env.HOSTNAME ?? '').toLowerCase(),
    token: pick('token', 'KUMO_AGENT_TOKEN'),
    bootstrapToken: pick('bootstrap-token', 'KUMO_AGENT_BOOTSTRAP_TOKEN'),
    runtime,
    dockerSocket:
      pick('docker-socket', 'KUMO_AGENT_DOCKER_SOCKET') ??
      (env.DOCKER_HOST?.startsWith('unix://') ? env.DOCKER_HOST.slice(7) : '/var/run/docker.sock'),
    // Kubernetes' own pause image: public, and pulled like any image on AWS.
    sandboxImage: pick('sandbox-image', 'KUMO_AGENT_SANDBOX_IMAGE') ?? 'registry.k8s.io/pause:3.10',
    allowPrivileged: ['true', '1'].includes(
      (pick('allow-privileged', 'KUMO_AGENT_ALLOW_PRIVILEGED') ?? '').toLowerCase(),
    ),
    clusterDomain: pick('cluster-domain', 'KUMO_CLUSTER_DOMAIN') ?? 'cluster.local',
    serviceProxy: (pick('service-proxy', 'KUMO_AGENT_SERVICE_PROXY') ?? 'true').toLowerCase() !== 'false',
    proxyMode: proxyMode(pick('proxy-mode', 'KUMO_AGENT_PROXY_MODE')),
    upstreamDns: upstreams(pick('upstream-dns', 'KUMO_AGENT_UPSTREAM_DNS')),
    dataDir,
    logDir: pick('log-dir', 'KUMO_LOG_DIR') ?? `${dataDir}/logs`,
    labels: pairs(pick('labels', 'KUMO_AGENT_LABELS')),
    taints: taints(pick('taints', 'KUMO_AGENT_TAINTS')),
    cpu: pick('cpu', 'KUMO_AGENT_CPU'),
    memory: pick('memory', 'KUMO_AGENT_MEMORY'),
    localVolumesCapacity: pick('local-volumes-capacity', 'KUMO_AGENT_LOCAL_VOLUMES_CAPACITY'),
    pods: pods ? Number(pods) : undefined,
    internalIP: pick('internal-ip', 'KUMO_AGENT_INTERNAL_IP'),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1',
    sqsEndpoint: pick('sqs-endpoint', 'KUMO_SQS_ENDPOINT'),
    ecsMetadataUri: env.ECS_CONTAINER_METADATA_URI_V4,
    ecsCredentialsUri: env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI,
    envCredentials: {
      accessKeyId: env.AWS_ACCESS_KEY_ID,
      secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
      sessionToken: env.AWS_SESSION_TOKEN,
    },
    logGroup: pick('log-group', 'KUMO_LOG_GROUP'),
    path: env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    cloud: cloudOf(pick('cloud', 'KUMO_AGENT_CLOUD'), server, env, host),
  };
}

/** `--upstream-dns 10.0.0.2,10.0.0.3:53`, or `none` to forward nothing (offline stacks: no packet may leave). */
function upstreams(v: string | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  if (v.trim() === '' || v.trim() === 'none') return [];
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

function loadBalancerProvider(v: string | undefined): 'local' | undefined {
  if (!v || v === 'none') return undefined;
  if (v === 'local') return v;
  throw new Error(`KUMO_LOAD_BALANCER_PROVIDER must be local or none, not ${JSON.stringify(v)}`);
}

function proxyMode(v: string | undefined): AgentConfig['proxyMode'] {
  if (v === undefined || v === 'auto' || v === 'userspace' || v === 'nftables') return v ?? 'auto';
  throw new Error(`--proxy-mode must be auto, userspace or nftables, not ${JSON.stringify(v)}`);
}
