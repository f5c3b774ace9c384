/**
 * `kumo-agent`: the node agent. Registers this machine as a Node, heartbeats, runs the pods the
 * scheduler binds here, and reports their status.
 *
 *   kumo-agent --server URL --node-name NAME [--runtime process|docker] [--docker-socket PATH]
 *              [--sandbox-image IMAGE] [--allow-privileged true] [--cluster-domain cluster.local]
 *              [--service-proxy true|false] [--proxy-mode auto|userspace|nftables]
 *              [--upstream-dns IP[:PORT],...|none]
 *              [--labels a=b,c=d] [--taints key=value:NoSchedule] [--cpu 2] [--memory 4Gi] [--pods 110]
 *              [--data-dir DIR] [--log-dir DIR] [--internal-ip IP]
 *              [--bootstrap-token TOKEN | --token NODE_CREDENTIAL] [--cloud aws|none]
 * `--cloud` defaults to aws on ECS (its metadata variables) and on EC2 (its firmware), none elsewhere
 * and whenever the server is on loopback: only then does the agent call AWS's metadata addresses.
 * Every flag has a KUMO_AGENT_* environment variable (see shared/config.ts).
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadAgentConfig } from '../shared/config.js';
import { createAgent } from './create.js';
import { looksLikeEc2 } from '../shared/agent/machine.js';

const names = [
  'server',
  'node-name',
  'token',
  'bootstrap-token',
  'runtime',
  'docker-socket',
  'sandbox-image',
  'allow-privileged',
  'cluster-domain',
  'service-proxy',
  'proxy-mode',
  'upstream-dns',
  'data-dir',
  'log-dir',
  'log-group',
  'labels',
  'taints',
  'cpu',
  'memory',
  'pods',
  'local-volumes-capacity',
  'internal-ip',
  'sqs-endpoint',
  'cloud',
] as const;
const { values } = parseArgs({
  options: Object.fromEntries(names.map((n) => [n, { type: 'string' as const }])),
  allowPositionals: false,
});

const log = (m: string) => console.log(`${new Date().toISOString()} ${m}`);
const readOrUndefined = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
const config = loadAgentConfig(values as Record<string, string | undefined>, process.env, {
  ec2: looksLikeEc2(readOrUndefined),
});
const agent = await createAgent(config, { log });
await agent.start();
let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log(`${signal}: stopping the agent (docker containers keep running and are adopted by the next agent)`);
  await agent.stop();
  process.exit(0);
};
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
