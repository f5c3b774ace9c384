import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { request } from './http.js';
import { serveLambda } from '../../local/lambda-http.js';
import { createAgent } from '../../agent/create.js';
import type { Agent } from '../../shared/agent/agent.js';
import type { NodeClient } from '../../shared/agent/node-client.js';
import { loadAgentConfig } from '../../shared/config.js';
import { DynamoLeaseStore } from '../../shared/store/dynamo/dynamo-lease-store.js';
import { dynamoClient } from '../../shared/aws/clients.js';
import { startEventPathStack, type EventPathStack } from './event-path.js';

export interface AgentStack extends EventPathStack {
  /** The API (functions/api.ts) over HTTP, on the same table as the event path. */
  url: string;
  /** The same over https, when the stack was started with a serving certificate. */
  httpsUrl?: string;
  logDir: string;
  leases: DynamoLeaseStore;
  /** An agent's data directory (its pods' volumes are under `pods/`). */
  agentDataDir(nodeName: string): string;
  /** A request to the API: status, parsed JSON (when it is JSON) and the raw text. */
  call(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<{ status: number; json: any; text: string }>;
  startAgent(
    nodeName: string,
    opts?: {
      runtime?: 'process' | 'docker';
      dockerSocket?: string;
      sandboxImage?: string;
      cpu?: string;
      labels?: string;
      taints?: string;
      wrapClient?: (c: NodeClient) => NodeClient;
      /** Serve Services (proxy, cluster DNS): off unless a test is about them, so test files never share addresses. */
      serviceProxy?: boolean;
      proxyMode?: 'auto' | 'userspace' | 'nftables';
    },
  ): Promise<Agent>;
  close(): Promise<void>;
}

/** Fast back-off for tests: the shape of kubelet's (doubling, capped), in milliseconds instead of seconds. */
export const TEST_BACKOFF = { initialMs: 300, maxMs: 2_000, resetAfterMs: 60_000 };

/**
 * The control plane (API, stream dispatch with node wake-ups, scheduler, controllers) plus real
 * agents on this machine. Heartbeats are short so fencing and resync show up within a test.
 */
export async function startAgentStack(
  timings = { heartbeatSeconds: 1, resyncSeconds: 5 },
  /** Node lifecycle settings and how often the sweep runs (never, by default: tests that fence do it by hand). */
  lifecycle: { graceSeconds: number; tolerationSeconds: number; sweepIntervalMs: number } | undefined = undefined,
  tls?: { key: string; cert: string },
): Promise<AgentStack> {
  const logDir = mkdtempSync(join(tmpdir(), 'kumo-logs-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'kumo-agent-'));
  Object.assign(process.env, {
    KUMO_NODE_QUEUE_PREFIX: `t-${randomUUID().slice(0, 8)}`,
    KUMO_LOAD_BALANCER_PROVIDER: 'local',
    KUMO_LOG_DIR: logDir,
    // Agents without a credential act through the offline development mode (test/integration/authorization.test.ts covers node credentials).
    KUMO_AUTH_MODE: 'dev-loopback',
    KUMO_NODE_HEARTBEAT_SECONDS: String(timings.heartbeatSeconds),
    KUMO_NODE_RESYNC_SECONDS: String(timings.resyncSeconds),
    ...(lifecycle
      ? {
          KUMO_NODE_MONITOR_GRACE_SECONDS: String(lifecycle.graceSeconds),
          KUMO_NODE_EVICTION_TOLERATION_SECONDS: String(lifecycle.tolerationSeconds),
          KUMO_NODE_MONITOR_PERIOD_SECONDS: '60',
        }
      : {}),
  });
  const stack = await startEventPathStack({ sweepIntervalMs: lifecycle?.sweepIntervalMs });
  const { handler } = await import('../../functions/api.js');
  const server = await serveLambda(handler);
  const secure = tls ? await serveLambda(handler, 0, tls) : undefined;
  const agents: Agent[] = [];
  const leases = new DynamoLeaseStore(
    dynamoClient({ region: 'us-east-1', dynamoEndpoint: inject('dynamoEndpoint') }),
    stack.tableName,
  );
  return {
    ...stack,
    url: server.url,
    ...(secure ? { httpsUrl: secure.url } : {}),
    logDir,
    async call(method, path, body, contentType = 'application/json') {
      const { status, json, text } = await request(server.url, method, path, {
        body: body === undefined ? undefined : JSON.stringify(body),
        contentType,
      });
      return { status, json, text };
    },
    leases,
    agentDataDir: (nodeName) => join(dataDir, nodeName),
    async startAgent(nodeName, opts = {}) {
      const config = loadAgentConfig(
        {
          server: server.url,
          'node-name': nodeName,
          runtime: opts.runtime ?? 'process',
          'docker-socket': opts.dockerSocket,
          'sandbox-image': opts.sandboxImage,
          'data-dir': join(dataDir, nodeName),
          'log-dir': logDir,
          'internal-ip': '127.0.0.1',
          'sqs-endpoint': inject('sqsEndpoint'),
          cpu: opts.cpu ?? '4',
          memory: '8Gi',
          labels: opts.labels,
          taints: opts.taints,
          'service-proxy': opts.serviceProxy ? 'true' : 'false',
          'proxy-mode': opts.proxyMode,
          // No packet may leave the machine: the cluster DNS forwards nothing.
          'upstream-dns': 'none',
        },
        { PATH: process.env.PATH, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
      );
      const agent = await createAgent(config, {
        backoff: TEST_BACKOFF,
        debounceMs: 20,
        wrapClient: opts.wrapClient,
        log: process.env.KUMO_TEST_AGENT_LOG ? (m) => console.error(m) : undefined,
      });
      await agent.start();
      agents.push(agent);
      return agent;
    },
    async close() {
      await Promise.all(agents.map((a) => a.stop({ stopPods: true }).catch(() => undefined)));
      await server.close();
      await secure?.close();
      await stack.path.stop();
      rmSync(logDir, { recursive: true, force: true });
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A node client whose network can be cut, to simulate a partition between one agent and the control plane. */
export class PartitionableClient implements NodeClient {
  cut = false;
  /** Every sync that got through: when, and whether it asked to renew the lease or for the pods. */
  readonly syncs: { atMs: number; renew: boolean; fetch: boolean }[] = [];
  /** While set, a fetching sync's answer is held back until it resolves (a slow round trip). */
  holdFetch?: Promise<void>;
  /** True while an answer is being held back. */
  holding = false;
  constructor(private readonly inner: NodeClient) {}
  private check() {
    if (this.cut) throw new Error('connect ECONNREFUSED (simulated partition)');
  }
  async register(...a: Parameters<NodeClient['register']>) {
    this.check();
    return this.inner.register(...a);
  }
  async sync(...a: Parameters<NodeClient['sync']>) {
    this.check();
    const res = await this.inner.sync(...a);
    if (a[1].fetch && this.holdFetch) {
      this.holding = true;
      await this.holdFetch;
      this.holding = false;
    }
    this.syncs.push({ atMs: Date.now(), renew: a[1].renew !== false, fetch: a[1].fetch === true });
    return res;
  }
  async get(...a: Parameters<NodeClient['get']>) {
    this.check();
    return this.inner.get(...a);
  }
  async requestToken(...a: Parameters<NodeClient['requestToken']>) {
    this.check();
    return this.inner.requestToken(...a);
  }
}
