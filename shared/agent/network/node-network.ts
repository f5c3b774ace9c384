import type { RegisterResponse } from '../../nodes/protocol.js';
import type { ServiceView } from '../../nodes/service-view.js';
import { Ipv4Range } from '../../model/service-network.js';
import { ClusterDns } from './cluster-dns.js';
import { DnsRecords, reverseZones } from './dns-records.js';
import { routeServiceRange } from './service-routes.js';
import { ServiceProxy } from './service-proxy.js';
import { inKernel, NftDataPath } from './nft-data-path.js';

/**
 * The node's side of Services: the service range routed to this host, the proxy (kube-proxy) and the
 * cluster DNS (CoreDNS), all following the Services the agent's sync brings. What cannot be set up
 * (no CAP_NET_ADMIN for the route, port 53 taken) is said once and leaves the rest working.
 */
export interface NodeNetworkOptions {
  nodeName: string;
  /** Where node ports listen: the node's addresses. */
  nodeAddresses: string[];
  /** Resolvers for names outside the cluster domain. */
  upstreamDns: string[];
  /** The cluster DNS's port (53; tests may move it). */
  dnsPort?: number;
  /** Whether pods can be pointed at the cluster DNS (only runtimes that write a pod's resolv.conf). */
  podsUseClusterDns: boolean;
  /** Cluster IPs in nftables where the agent can (auto: root with `nft`), or always in the user-space proxy. */
  proxyMode?: 'auto' | 'userspace' | 'nftables';
  now: () => number;
  log?: (msg: string) => void;
}

export type NetworkSettings = NonNullable<RegisterResponse['network']>;

/** How long a gone pod's address is kept out of the rotation at most, waiting for its EndpointSlice. */
const GONE_KEPT_MS = 60_000;

export class NodeNetwork {
  readonly proxy: ServiceProxy;
  private dns?: ClusterDns;
  private settings?: NetworkSettings;
  private records?: DnsRecords;
  private views: ServiceView[] = [];
  /** Addresses of this node's pods that are terminating: out of the rotation here at once. */
  private readonly leaving = new Map<string, { goneAt?: number }>();
  private dnsElsewhere = false;
  private updating: Promise<void> = Promise.resolve();
  /** Why the service range is not routed here, when it is not. */
  routeProblem?: string;
  /** The kernel data path for cluster IPs, when this node can program nftables. */
  private nft?: NftDataPath;

  constructor(private readonly o: NodeNetworkOptions) {
    this.proxy = new ServiceProxy({ nodeName: o.nodeName, nodeAddresses: o.nodeAddresses, now: o.now, log: o.log });
  }

  /** Routes the range and starts the DNS, once per settings (a registration may repeat them). */
  async configure(settings: NetworkSettings): Promise<void> {
    if (this.settings && JSON.stringify(this.settings) === JSON.stringify(settings)) return;
    this.settings = settings;
    this.records = undefined;
    const range = new Ipv4Range(settings.serviceCIDR);
    const own = this.o.nodeAddresses.find((a) => range.contains(a) && !a.startsWith('127.'));
    try {
      // A range holding this node's own address would take the node off its network.
      if (own) throw new Error(`the range holds this node's address ${own}`);
      await routeServiceRange(settings.serviceCIDR);
      this.routeProblem = undefined;
    } catch (e) {
      this.routeProblem = `cannot route the service range ${settings.serviceCIDR} to this node (ip route: ${(e as Error).message.split('\n')[0]}); Services are not served here`;
      this.o.log?.(this.routeProblem);
    }
    await this.chooseDataPath();
    await this.dns?.close();
    this.dns = undefined;
    this.dnsElsewhere = false;
    // Without the route, a service address is not this host's: nothing may listen on one, and no pod
    // is pointed at one (its packets would follow the default route off the node).
    if (!this.o.podsUseClusterDns || this.routeProblem) return;
    const dns = new ClusterDns({
      address: settings.clusterDNS,
      port: this.o.dnsPort ?? 53,
      // Never itself: a node whose resolv.conf names the cluster DNS would forward in a loop.
      upstreams: this.o.upstreamDns.filter((u) => u.split(':')[0] !== settings.clusterDNS),
      records: () => this.dnsRecords(),
      log: this.o.log,
    });
    try {
      await dns.start();
      this.dns = dns;
    } catch (e) {
      await dns.close().catch(() => undefined);
      // Another agent on this host (several local nodes) answers at the same address, from the same Services.
      this.dnsElsewhere = (e as NodeJS.ErrnoException).code === 'EADDRINUSE';
      this.o.log?.(
        this.dnsElsewhere
          ? `the cluster DNS at ${settings.clusterDNS} is answered by another agent on this host`
          : `the cluster DNS cannot listen on ${settings.clusterDNS}: ${(e as Error).message}`,
      );
    }
  }

  /** Applies the Services to the data paths, one update at a time (syncs and terminating pods both update). */
  update(synced: ServiceView[]): Promise<void> {
    const next = this.updating.then(() => this.apply(synced));
    this.updating = next.catch(() => undefined);
    return next;
  }

  private async apply(synced: ServiceView[]): Promise<void> {
    this.views = synced;
    this.records = undefined;
    // A gone pod's address stays out until the Services no longer list it (its EndpointSlice caught
    // up), or a minute has passed (the address may be another pod's by then).
    const listed = new Set(synced.flatMap((v) => v.endpoints.map((e) => e.ip)));
    for (const [ip, { goneAt }] of this.leaving)
      if (goneAt !== undefined && (!listed.has(ip) || this.o.now() - goneAt > GONE_KEPT_MS)) this.leaving.delete(ip);
    const views = this.leaving.size
      ? synced.map((v) => ({
          ...v,
          endpoints: v.endpoints.map((e) => (this.leaving.has(e.ip) ? { ...e, ready: false, terminating: true } : e)),
        }))
      : synced;
    if (this.nft && this.settings)
      try {
        await this.nft.apply(this.settings.serviceCIDR, views, this.o.nodeName);
      } catch (e) {
        this.o.log?.(
          `nftables refused the Services' rules (${(e as Error).message}); the user-space proxy serves them`,
        );
        await this.nft.close();
        this.nft = undefined;
      }
    await this.proxy.apply(views, this.routeProblem ? () => true : this.nft ? inKernel : undefined);
  }

  /**
   * A pod of this node starts terminating: its address leaves the rotation here before its containers
   * are signalled, so no new connection reaches a server that is shutting down (its EndpointSlice says
   * so to the other nodes a moment later). Kept out after the pod is gone until its EndpointSlice no
   * longer lists it.
   */
  async podLeaving(ip: string): Promise<void> {
    this.leaving.set(ip, {});
    this.o.log?.(`${ip} leaves the rotation (its pod is terminating)`);
    await this.update(this.views).catch((e: unknown) => this.o.log?.(`updating the data path failed: ${String(e)}`));
  }

  async podGone(ip: string): Promise<void> {
    const entry = this.leaving.get(ip);
    if (!entry) return;
    entry.goneAt = this.o.now();
    await this.update(this.views).catch((e: unknown) => this.o.log?.(`updating the data path failed: ${String(e)}`));
  }

  /** Which data path carries cluster IPs: nftables where possible (auto), said once either way. */
  get dataPath(): 'nftables' | 'userspace' {
    return this.nft ? 'nftables' : 'userspace';
  }

  private async chooseDataPath() {
    const mode = this.o.proxyMode ?? 'auto';
    if (mode === 'userspace' || this.nft || this.routeProblem) return;
    const why = await NftDataPath.usable();
    if (why === undefined) this.nft = new NftDataPath(this.o.nodeName);
    else if (mode === 'nftables')
      this.o.log?.(`nftables is not usable here (${why}); the user-space proxy serves cluster IPs`);
    this.o.log?.(
      `cluster IPs are served by ${this.dataPath === 'nftables' ? 'nftables rules' : 'the user-space proxy'}`,
    );
  }

  /** The Services as last synced (for Service environment variables). */
  get services(): ServiceView[] {
    return this.views;
  }

  /** Where pods' resolv.conf points: the cluster DNS when it answers on this node. */
  get clusterDNS(): string | undefined {
    return this.dns || this.dnsElsewhere ? this.settings?.clusterDNS : undefined;
  }

  get clusterDomain(): string | undefined {
    return this.settings?.clusterDomain;
  }

  get dnsStats() {
    return this.dns?.stats;
  }

  async close(): Promise<void> {
    this.proxy.close();
    await this.nft?.close();
    await this.dns?.close();
  }

  private dnsRecords(): DnsRecords {
    if (!this.records) {
      const cidr = this.settings?.serviceCIDR ?? '0.0.0.0/32';
      const range = new Ipv4Range(cidr);
      this.records = new DnsRecords(
        this.views,
        this.settings?.clusterDomain ?? 'cluster.local',
        reverseZones(range.at(0), Number(cidr.split('/')[1])),
      );
    }
    return this.records;
  }
}
