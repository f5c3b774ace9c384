import { readFileSync } from 'node:fs';
import { existsSync, statfsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Agent, type AgentOptions } from '../shared/agent/agent.js';
import type { BackoffPolicy } from '../shared/agent/backoff.js';
import { HttpNodeClient } from '../shared/agent/http-node-client.js';
import type { NodeClient } from '../shared/agent/node-client.js';
import { awsFacts, localFacts, registration } from '../shared/agent/machine.js';
import { DockerRuntime } from '../shared/agent/runtime/docker-runtime.js';
import { canMountPodEtc, canSetPodHostname } from '../shared/agent/runtime/process-sandbox.js';
import { ProcessRuntime } from '../shared/agent/runtime/process-runtime.js';
import { CloudWatchLogStore } from '../shared/aws/cloudwatch-log-store.js';
import { credentialProvider } from '../shared/aws/lite/credentials.js';
import { AwsJsonClient } from '../shared/aws/lite/json-client.js';
import type { AgentConfig } from '../shared/config.js';
import { FileLogStore } from '../shared/logs/file-log-store.js';
import { SqsWakeSource } from '../shared/aws/sqs-wake-source.js';
import { nodeCredential } from '../shared/agent/node-credential.js';
import { EcrCredentials } from '../shared/aws/ecr-credentials.js';
import type { Credentials } from '../shared/aws/lite/sigv4.js';
import { NodeNetwork } from '../shared/agent/network/node-network.js';

/** The node's own resolvers, where the cluster DNS forwards other names (the cluster DNS itself excluded). */
function resolvConfNameservers(): string[] {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .map((l) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(l)?.[1])
      .filter((ip): ip is string => !!ip);
  } catch {
    return [];
  }
}

function ecrCredentials(credentials: () => Promise<Credentials>) {
  const ecr = new EcrCredentials((region) => new AwsJsonClient('ecr', region, credentials), Date.now);
  return (image: string) => ecr.forImage(image);
}

/** Builds an agent from its configuration: the composition root shared by `kumo-agent`, `npm start` and the tests. */
export async function createAgent(
  c: AgentConfig,
  extra: {
    backoff?: BackoffPolicy;
    log?: AgentOptions['log'];
    debounceMs?: number;
    wrapClient?: (c: NodeClient) => NodeClient;
  } = {},
): Promise<Agent> {
  if (!c.nodeName) throw new Error('the node name is not set: --node-name NAME or KUMO_AGENT_NODE_NAME');
  const facts = localFacts();
  // Off AWS nothing is asked of the link-local metadata addresses: offline, no packet leaves loopback.
  if (c.cloud === 'aws') facts.aws = await awsFacts(c.ecsMetadataUri);
  // The small signed client, not the AWS SDK: the agent's memory budget is 50 MB (bench/agent.ts).
  const credentials = credentialProvider({
    env: c.sqsEndpoint ? { accessKeyId: 'local', secretAccessKey: 'local' } : c.envCredentials,
    ecsRelativeUri: c.cloud === 'aws' ? c.ecsCredentialsUri : undefined,
    imds: c.cloud === 'aws',
  });
  // Private ECR images pull with the node's role; off AWS nothing is asked of ECR.
  const nodeCredentials = c.cloud === 'aws' ? ecrCredentials(credentials) : undefined;
  const runtime =
    c.runtime === 'docker'
      ? new DockerRuntime(c.dockerSocket, c.sandboxImage, nodeCredentials, extra.log)
      : new ProcessRuntime(join(c.dataDir, 'containers'), c.path, {
          podEtc: canMountPodEtc(),
          podHostname: canSetPodHostname(),
        });
  // Containers of the process runtime cannot be adopted: what a killed agent left running is ended here.
  if (runtime instanceof ProcessRuntime) {
    const reaped = await runtime.reapLeftovers();
    if (reaped) extra.log?.(`ended ${reaped} process group(s) an earlier agent left running; their pods start afresh`);
  }
  const machine = registration(c.nodeName, facts, {
    cpu: c.cpu,
    memory: c.memory,
    pods: c.pods,
    labels: c.labels,
    taints: c.taints,
    internalIP: c.internalIP,
  });
  // kumo.dev/local volumes live beside the pods' own, on runtimes that mount volumes at all.
  if (runtime.features.has('volumes')) {
    machine.localVolumesDir = resolve(c.dataDir, 'volumes');
    machine.localVolumesCapacity = c.localVolumesCapacity ?? freeSpace(c.dataDir);
  }
  machine.nodeInfo = {
    ...machine.nodeInfo,
    containerRuntimeVersion: await runtime.version().catch(() => `${runtime.name}://unknown`),
  };
  const sqs = new AwsJsonClient('sqs', c.region, credentials, c.sqsEndpoint);
  const token = await nodeCredential({
    server: c.server,
    nodeName: c.nodeName,
    token: c.token,
    bootstrapToken: c.bootstrapToken,
    file: join(c.dataDir, 'node-credential'),
    log: extra.log,
  });
  const logs = c.logGroup
    ? new CloudWatchLogStore(new AwsJsonClient('logs', c.region, credentials), c.logGroup)
    : new FileLogStore(c.logDir);
  // kube-proxy's and CoreDNS' roles on this node. Pods reach the cluster DNS only where the runtime writes their resolv.conf.
  const network = c.serviceProxy
    ? new NodeNetwork({
        nodeName: c.nodeName,
        nodeAddresses: (machine.addresses ?? []).filter((a) => a.type === 'InternalIP').map((a) => a.address),
        upstreamDns: c.upstreamDns ?? resolvConfNameservers(),
        // The process runtime's pods share the node's network but, as root, get a resolv.conf of their own.
        podsUseClusterDns: runtime.features.has('sandboxNetwork') || runtime.features.has('dnsConfig'),
        proxyMode: c.proxyMode,
        now: Date.now,
        log: extra.log,
      })
    : undefined;
  return new Agent({
    network,
    nodeName: c.nodeName,
    client: (extra.wrapClient ?? ((x) => x))(new HttpNodeClient(c.server, token)),
    runtime,
    logs,
    machine,
    holder: `${facts.hostname}/${process.pid}`,
    hostIP: c.internalIP ?? facts.internalIP,
    podsDir: join(c.dataDir, 'pods'),
    dns: { clusterDomain: c.clusterDomain },
    allowPrivileged: c.allowPrivileged,
    nodeCredentials,
    wakeSource: (url) => new SqsWakeSource(sqs, url),
    backoff: extra.backoff,
    log: extra.log,
    debounceMs: extra.debounceMs,
  });
}

/** The free space of the filesystem that holds `dir` (its nearest existing parent), in Mi: what local volumes may use by default. */
function freeSpace(dir: string): string {
  let at = resolve(dir);
  while (!existsSync(at) && dirname(at) !== at) at = dirname(at);
  const s = statfsSync(at);
  return `${Math.floor((s.bavail * s.bsize) / 2 ** 20)}Mi`;
}
