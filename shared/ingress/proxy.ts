import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import tls from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import type { ServiceView } from '../nodes/service-view.js';
import { Backends } from '../agent/network/backends.js';
import { match, type Backend, type RoutingTable } from './routes.js';

/**
 * The offline ingress: one HTTP port (and one HTTPS port when an Ingress has TLS) on a local address
 * for every Ingress of the class, routing each request by host and path to a ready endpoint of the
 * backend Service, following the routes and endpoints it is given without a restart. The forwarding
 * itself (headers, streaming, upgrades) is http-proxy-3's. A rule whose Service or port is missing
 * answers 503; a request no rule matches, 404.
 */
export interface IngressProxyOptions {
  address: string;
  httpPort: number;
  httpsPort?: number;
  now: () => number;
  log?: (msg: string) => void;
}

export interface Certificate {
  /** Which Ingress and Secret it comes from, for the controller's report. */
  ingress?: string;
  secret?: string;
  hosts: string[];
  key: string;
  cert: string;
}

export class IngressProxy {
  private table: RoutingTable = { routes: [], tls: [] };
  private views = new Map<string, ServiceView>();
  private readonly backends = new Map<string, Backends>();
  private contexts: { hosts: string[]; context: tls.SecureContext }[] = [];
  private readonly proxy = createProxyServer({ xfwd: true, proxyTimeout: 60_000 });
  private http?: http.Server;
  private https?: https.Server;
  private readonly sockets = new Set<Socket>();
  readonly stats = { requests: 0, unavailable: 0, notFound: 0 };

  constructor(private readonly o: IngressProxyOptions) {
    this.proxy.on('error', (_e, _req, res) => {
      if (res instanceof http.ServerResponse && !res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('502 Bad Gateway: the backend did not answer\n');
      } else if (res && 'destroy' in res) res.destroy();
    });
  }

  async start(): Promise<void> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
    const upgrade = (req: http.IncomingMessage, socket: Socket, head: Buffer) => {
      const target = this.target(req);
      if (typeof target !== 'string') return socket.destroy();
      this.proxy.ws(req, socket, head, { target });
    };
    this.http = http.createServer(handler).on('upgrade', upgrade);
    await listen(this.http, this.o.httpPort, this.o.address, this.sockets);
    if (this.o.httpsPort !== undefined) {
      this.https = https
        .createServer({ SNICallback: (name, cb) => cb(null, this.contextFor(name)) }, handler)
        .on('upgrade', upgrade);
      await listen(this.https, this.o.httpsPort, this.o.address, this.sockets);
    }
  }

  /** The ports it answers on (port 0 asks the system for one). */
  get ports(): { http?: number; https?: number } {
    const portOf = (s?: http.Server) => {
      const a = s?.address();
      return a && typeof a === 'object' ? a.port : undefined;
    };
    return { http: portOf(this.http), https: portOf(this.https) };
  }

  /** Takes the new routes, Services and certificates; returns the certificates that could not be used, with why. */
  update(table: RoutingTable, views: ServiceView[], certificates: Certificate[]): { cert: Certificate; why: string }[] {
    this.table = table;
    this.views = new Map(views.map((v) => [`${v.namespace}/${v.name}`, v]));
    for (const [key, b] of this.backends) {
      const v = this.views.get(key.split('#')[0] ?? '');
      if (v) b.update(v);
      else this.backends.delete(key);
    }
    const bad: { cert: Certificate; why: string }[] = [];
    const good: Certificate[] = [];
    this.contexts = certificates.flatMap((c) => {
      try {
        const context = tls.createSecureContext({ key: c.key, cert: c.cert });
        good.push(c);
        return [{ hosts: c.hosts, context }];
      } catch (e) {
        bad.push({ cert: c, why: (e as Error).message });
        return [];
      }
    });
    // A client that sends no server name gets the first certificate (nginx's default server does the same).
    const first = good[0];
    if (first) this.https?.setSecureContext({ key: first.key, cert: first.cert });
    return bad;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await Promise.all(
      [this.http, this.https].map((s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()))),
    );
    this.proxy.close();
  }

  /** What a backend rule resolves to: an endpoint URL, or why it cannot be served. */
  resolve(backend: Backend, clientIP?: string): string | { status: number; why: string } {
    const view = this.views.get(`${backend.namespace}/${backend.service}`);
    if (!view) return { status: 503, why: `service "${backend.namespace}/${backend.service}" not found` };
    const port = view.ports.find((p) =>
      typeof backend.port === 'number' ? p.port === backend.port : p.name === backend.port,
    );
    if (!port || port.protocol !== 'TCP')
      return { status: 503, why: `service "${backend.namespace}/${backend.service}" has no TCP port ${backend.port}` };
    const key = `${view.namespace}/${view.name}#${port.name}`;
    let b = this.backends.get(key);
    // Ready endpoints only, as ingress-nginx routes: a terminating pod answers no new request.
    if (!b) this.backends.set(key, (b = new Backends(view, port.name, '', () => false, this.o.now, false)));
    const endpoint = b.pick(clientIP);
    if (!endpoint)
      return { status: 503, why: `service "${backend.namespace}/${backend.service}" has no ready endpoint` };
    return `http://${endpoint.ip}:${endpoint.port}`;
  }

  private target(req: http.IncomingMessage): string | { status: number; why: string } {
    // Matched as the backend will read it: dot segments resolved and percent-encoding kept (WHATWG URL).
    let path: string;
    try {
      path = new URL(req.url ?? '/', 'http://ingress.invalid').pathname;
    } catch {
      return { status: 404, why: 'the request path is not a valid URL path' };
    }
    const route = match(this.table, req.headers.host ?? '', path);
    if (!route) return { status: 404, why: 'no Ingress rule matches this host and path' };
    return this.resolve('backend' in route ? route.backend : route, req.socket.remoteAddress);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.stats.requests++;
    const target = this.target(req);
    if (typeof target !== 'string') {
      if (target.status === 404) this.stats.notFound++;
      else this.stats.unavailable++;
      res.writeHead(target.status, { 'content-type': 'text/plain' });
      res.end(`${target.status === 404 ? '404 Not Found' : '503 Service Unavailable'}: ${target.why}\n`);
      return;
    }
    this.proxy.web(req, res, { target });
  }

  private contextFor(servername: string): tls.SecureContext | undefined {
    const name = servername.toLowerCase();
    const covers = (h: string) =>
      h === name || (h.startsWith('*.') && name.endsWith(h.slice(1)) && !name.slice(0, -h.length + 1).includes('.'));
    return (this.contexts.find((c) => c.hosts.some(covers)) ?? this.contexts[0])?.context;
  }
}

function listen(server: http.Server, port: number, address: string, sockets: Set<Socket>): Promise<void> {
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => (server.off('error', reject), resolve()));
  });
}
