import dgram from 'node:dgram';
import net from 'node:net';
import type { ServiceView } from '../../nodes/service-view.js';
import { Backends } from './backends.js';

/**
 * kube-proxy's role on a node, in user space: a listener per Service address and port (the cluster
 * IP, each node port on the node's addresses, each load balancer address) that hands every new TCP
 * connection, or UDP flow, to an endpoint the Backends choose. Listeners follow the Services as they
 * change; a port with no endpoint refuses connections at once (no listener: the kernel resets), never
 * leaves them hanging.
 */

type Protocol = 'TCP' | 'UDP';

interface Listener {
  key: string;
  backends: Backends;
  close(): void;
}

export interface ProxyOptions {
  nodeName: string;
  /** Where node ports listen: the node's addresses. */
  nodeAddresses: string[];
  now: () => number;
  log?: (msg: string) => void;
}

/** UDP flows idle this long are forgotten (kube-proxy's conntrack UDP timeout is 30 s). */
const UDP_IDLE_MS = 30_000;
const MAX_UDP_FLOWS = 4096;
/** Endpoints tried for one TCP connection before it is reset. */
const CONNECT_TRIES = 3;
const CONNECT_TIMEOUT_MS = 5_000;

export class ServiceProxy {
  private readonly listeners = new Map<string, Listener>();
  /** Addresses that could not be bound, with why: reported once, tried again on the next change. */
  private readonly failed = new Map<string, string>();
  readonly stats = { connections: 0, refused: 0, udpFlows: 0 };

  constructor(private readonly o: ProxyOptions) {}

  /** Brings the listeners in line with the Services; `inKernel` ports of cluster IPs are another data path's. */
  async apply(
    views: ServiceView[],
    inKernel: (v: ServiceView, p: ServiceView['ports'][number]) => boolean = () => false,
  ): Promise<void> {
    const wanted = new Map<
      string,
      { address: string; port: number; protocol: Protocol; view: ServiceView; portName: string; external: boolean }
    >();
    for (const view of views) {
      for (const p of view.ports) {
        if (p.protocol === 'SCTP') continue; // refused at admission (model/service-validation.ts); older objects only
        const protocol = p.protocol;
        const add = (address: string, port: number, external: boolean) =>
          wanted.set(`${address}:${port}/${protocol}`, { address, port, protocol, view, portName: p.name, external });
        if (view.clusterIP && !inKernel(view, p)) add(view.clusterIP, p.port, false);
        if (p.nodePort) for (const a of this.o.nodeAddresses) add(a, p.nodePort, true);
        for (const ip of view.loadBalancerIPs) add(ip, p.port, true);
      }
    }
    // An address with no endpoint has no listener: the kernel refuses a connection at its first packet
    // (TCP reset, ICMP port unreachable), as kube-proxy's REJECT rule does, and no client waits.
    const backendsOf = new Map<string, Backends>();
    for (const [key, w] of wanted) {
      const existing = this.listeners.get(key)?.backends;
      const backends =
        existing ??
        new Backends(
          w.view,
          w.portName,
          this.o.nodeName,
          w.external ? (v) => v.externalLocal : (v) => v.internalLocal,
          this.o.now,
        );
      backends.update(w.view);
      if (backends.size) backendsOf.set(key, backends);
    }
    for (const [key, l] of this.listeners)
      if (!backendsOf.has(key)) {
        l.close();
        this.listeners.delete(key);
      }
    for (const [key, w] of wanted) {
      const backends = backendsOf.get(key);
      if (!backends || this.listeners.has(key)) continue;
      try {
        const l =
          w.protocol === 'TCP'
            ? await this.tcp(key, w.address, w.port, backends)
            : await this.udp(key, w.address, w.port, backends);
        this.listeners.set(key, l);
        this.failed.delete(key);
      } catch (e) {
        const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
        if (this.failed.get(key) !== why)
          this.o.log?.(
            `cannot serve ${w.view.namespace}/${w.view.name} on ${key}: ${why}${why === 'EADDRINUSE' ? ' (another agent on this host may serve it)' : ''}`,
          );
        this.failed.set(key, why);
      }
    }
  }

  get listening(): string[] {
    return [...this.listeners.keys()];
  }

  close(): void {
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
  }

  private async tcp(key: string, address: string, port: number, backends: Backends): Promise<Listener> {
    const sockets = new Set<net.Socket>();
    // Half-open allowed on both sides: a client that ends its writing still gets the whole answer.
    const server = net.createServer({ pauseOnConnect: true, noDelay: true, allowHalfOpen: true }, (client) => {
      sockets.add(client);
      client.once('close', () => sockets.delete(client));
      client.on('error', () => client.destroy());
      this.stats.connections++;
      const tried = new Set<string>();
      const attempt = () => {
        const target = tried.size < CONNECT_TRIES ? backends.pick(client.remoteAddress, tried) : undefined;
        if (!target) {
          this.stats.refused++;
          client.resetAndDestroy();
          return;
        }
        tried.add(target.ip);
        const upstream = net.connect({ host: target.ip, port: target.port, noDelay: true, allowHalfOpen: true });
        sockets.add(upstream);
        upstream.once('close', () => sockets.delete(upstream));
        // An endpoint that does not answer its SYN is given up after a while, and the next one tried.
        upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('connect timeout')));
        const failedToConnect = () => {
          upstream.destroy();
          if (!client.destroyed) attempt();
        };
        upstream.once('error', failedToConnect);
        upstream.once('connect', () => {
          upstream.setTimeout(0);
          upstream.off('error', failedToConnect);
          if (client.destroyed) return upstream.destroy(); // the client left while we connected
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
      };
      attempt();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: address, port, exclusive: true }, () => (server.off('error', reject), resolve()));
    });
    server.on('error', (e) => this.o.log?.(`${key}: ${e.message}`));
    return {
      key,
      backends,
      close: () => {
        server.close();
        for (const s of sockets) s.destroy();
      },
    };
  }

  private async udp(key: string, address: string, port: number, backends: Backends): Promise<Listener> {
    const socket = dgram.createSocket({ type: 'udp4' });
    const flows = new Map<string, { upstream: dgram.Socket; timer: NodeJS.Timeout }>();
    const forget = (client: string) => {
      const f = flows.get(client);
      if (!f) return;
      clearTimeout(f.timer);
      f.upstream.close();
      flows.delete(client);
    };
    socket.on('message', (msg, rinfo) => {
      const client = `${rinfo.address}:${rinfo.port}`;
      let flow = flows.get(client);
      if (!flow) {
        const target = flows.size < MAX_UDP_FLOWS ? backends.pick(rinfo.address) : undefined;
        if (!target) return; // no endpoint: dropped, as an unanswered datagram
        this.stats.udpFlows++;
        const upstream = dgram.createSocket('udp4');
        upstream.on('message', (reply) => {
          socket.send(reply, rinfo.port, rinfo.address);
          const f = flows.get(client);
          if (f) f.timer.refresh();
        });
        upstream.on('error', () => forget(client));
        upstream.connect(target.port, target.ip);
        flow = { upstream, timer: setTimeout(() => forget(client), UDP_IDLE_MS) };
        flows.set(client, flow);
        const f = flow;
        upstream.once('connect', () => f.upstream.send(msg));
        return;
      }
      flow.timer.refresh();
      try {
        flow.upstream.send(msg);
      } catch {
        forget(client); // not connected yet: this datagram is lost, as on a busy network
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ address, port, exclusive: true }, () => (socket.off('error', reject), resolve()));
    });
    socket.on('error', (e) => this.o.log?.(`${key}: ${e.message}`));
    return {
      key,
      backends,
      close: () => {
        for (const client of [...flows.keys()]) forget(client);
        socket.close();
      },
    };
  }
}
