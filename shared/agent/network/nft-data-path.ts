import { spawn } from 'node:child_process';
import type { EndpointView, ServicePortView, ServiceView } from '../../nodes/service-view.js';
import { candidates } from './backends.js';

/**
 * Cluster IPs in the kernel, as kube-proxy's nftables mode does them: a connection to a cluster IP
 * and port is DNATed to one of the Service's endpoints (picked at random, numgen) in the nat hooks
 * of prerouting (from pods) and output (from this host), and masqueraded after, so a pod that reaches
 * its own Service through the bridge gets its replies back through the host. No process touches the
 * packets: it costs what the kernel's conntrack costs. Used where the agent is root with `nft`; what it
 * does not do (ClientIP affinity, node ports, load balancer addresses) stays with the user-space proxy.
 * A Service port with no endpoint gets no rule: the packet reaches the local route of the service
 * range, finds no listener and is refused.
 */

/**
 * The ports this data path serves: a cluster IP's TCP and UDP ports without ClientIP affinity, to
 * endpoints off loopback. A packet from a pod DNATed to 127.0.0.0/8 is a martian the kernel drops; the
 * user-space proxy, on the host, reaches such an endpoint (the `kubernetes` Service offline, process
 * runtime pods).
 */
export function inKernel(view: ServiceView, port: ServicePortView): boolean {
  return (
    !!view.clusterIP &&
    port.protocol !== 'SCTP' &&
    !view.affinitySeconds &&
    !view.endpoints.some((e) => e.ip.startsWith('127.'))
  );
}

/** A packet mark bit for connections to a cluster IP that came in from a pod (kube-proxy marks with 0x4000). */
const FROM_POD_MARK = '0x00004000';

export function tableName(nodeName: string): string {
  return `kumo_${nodeName.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 48)}`;
}

/** The whole table, replaced atomically by one `nft -f` (add, delete, define: the add makes the delete safe). */
export function renderRuleset(table: string, serviceCIDR: string, views: ServiceView[], nodeName: string): string {
  const rules: string[] = [];
  for (const view of views)
    for (const port of view.ports) {
      if (!inKernel(view, port)) continue;
      const eps = candidates(view, port.name, nodeName, view.internalLocal);
      if (!eps.length) continue;
      const proto = port.protocol.toLowerCase();
      const target = (e: EndpointView) => `${e.ip} . ${e.ports[port.name] ?? 0}`;
      const dnat =
        eps.length === 1
          ? `dnat ip to ${eps[0]?.ip}:${eps[0]?.ports[port.name] ?? 0}`
          : `dnat ip to numgen random mod ${eps.length} map { ${eps.map((e, i) => `${i} : ${target(e)}`).join(', ')} }`;
      rules.push(
        `    ip daddr ${view.clusterIP} ${proto} dport ${port.port} ${dnat} comment "${view.namespace}/${view.name}:${port.name || port.port}"`,
      );
    }
  return [
    `table ip ${table}`,
    `delete table ip ${table}`,
    `table ip ${table} {`,
    '  chain services {',
    ...rules,
    '  }',
    '  chain prerouting {',
    '    type nat hook prerouting priority -100; policy accept;',
    // Marked: a connection from a pod is masqueraded after its DNAT (below); one from this host needs not.
    `    ip daddr ${serviceCIDR} meta mark set meta mark | ${FROM_POD_MARK} jump services`,
    '  }',
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    `    ip daddr ${serviceCIDR} jump services`,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority 100; policy accept;',
    `    ct status dnat meta mark & ${FROM_POD_MARK} == ${FROM_POD_MARK} masquerade`,
    '  }',
    '}',
    '',
  ].join('\n');
}

function nft(input: string | undefined, ...argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('nft', argv, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    // nft may exit before reading its input (no permission, no such program): the exit code says why.
    child.stdin?.on('error', () => undefined);
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err.trim() || `nft exited ${code}`))));
    if (input !== undefined) child.stdin?.end(input);
  });
}

export class NftDataPath {
  private applied = '';
  readonly table: string;

  constructor(nodeName: string) {
    this.table = tableName(nodeName);
  }

  /** Whether this node can program nftables (root and the `nft` program), tried once at start. */
  static async usable(): Promise<string | undefined> {
    try {
      await nft(undefined, 'list', 'tables');
      return undefined;
    } catch (e) {
      return (e as Error).message;
    }
  }

  async apply(serviceCIDR: string, views: ServiceView[], nodeName: string): Promise<void> {
    const ruleset = renderRuleset(this.table, serviceCIDR, views, nodeName);
    if (ruleset === this.applied) return;
    await nft(ruleset, '-f', '-');
    this.applied = ruleset;
  }

  async close(): Promise<void> {
    if (!this.applied) return;
    await nft(undefined, 'delete', 'table', 'ip', this.table).catch(() => undefined);
    this.applied = '';
  }
}
