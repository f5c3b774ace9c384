import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { queryBool } from '../shared/apiserver/http/query.js';
import { streamWatch } from '../shared/apiserver/http/watch-stream.js';

/**
 * What clients of the offline stack talk to, in front of serverless-offline (which, as API Gateway's
 * HTTP API, answers each request whole): watches become one long stream, as a Lambda function URL in
 * response-streaming mode gives on AWS (ARCHITECTURE §12), made of finite watches that each go through
 * serverless-offline and the API function like any request; everything else (upgrades included) is
 * passed through unchanged by http-proxy-3.
 */
export interface ApiFront {
  server: Server;
  /** The same front over https (kubectl sends bearer tokens only there), when asked for. */
  tlsServer?: Server;
  close(): Promise<void>;
}

/** Headers a finite watch is asked again with: the client's credentials and what it accepts. */
const FORWARDED = [
  'authorization',
  'accept',
  'user-agent',
  'impersonate-user',
  'impersonate-group',
  'x-forwarded-proto',
];
/** Offline, watches stay open as long as the kube-apiserver keeps them (Lambda's 15 minutes bound them on AWS). */
const OFFLINE_STREAM_LIMIT_SECONDS = 3600;

export async function startApiFront(opts: {
  port: number;
  host?: string;
  upstream: string;
  log: (line: string) => void;
  /** Also serve https on this port with this key and certificate (local/pki.ts). */
  tls?: { port: number; key: string; cert: string };
}): Promise<ApiFront> {
  const proxy = createProxyServer({ target: opts.upstream, xfwd: false });
  proxy.on('error', (e, _req, res) => {
    opts.log(`api front: ${e.message}`);
    if (res && 'writeHead' in res && !res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('the API (serverless-offline) did not answer\n');
    } else res?.end();
  });
  const handle: RequestListener = (req, res) => {
    // How the client came, as API Gateway says it: the gate grants dev-loopback only to plain http (an
    // https request from loopback may be a pod's, relayed by its node's proxy). Whatever the client said is replaced.
    req.headers['x-forwarded-proto'] = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
    const url = new URL(req.url ?? '/', 'http://front');
    if (req.method !== 'GET' || !queryBool(url.searchParams, 'watch')) {
      proxy.web(req, res);
      return;
    }
    const aborted = new AbortController();
    res.on('close', () => aborted.abort());
    const ask = async (q: URLSearchParams) => {
      // Each ask listens to the client's going away only while it runs (fetch leaves its listener on
      // the signal it is given, and a stream is many asks).
      const one = new AbortController();
      const cancel = () => one.abort();
      aborted.signal.addEventListener('abort', cancel, { once: true });
      try {
        return await askOnce(q, one.signal);
      } finally {
        aborted.signal.removeEventListener('abort', cancel);
      }
    };
    const askOnce = async (q: URLSearchParams, signal: AbortSignal) => {
      const answer = await fetch(`${opts.upstream}${url.pathname}?${q.toString()}`, {
        // Nothing to gain from compressing over loopback.
        headers: { ...forwardedHeaders(req), 'accept-encoding': 'identity' },
        signal,
      });
      const headers: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        // fetch has decoded the body: a content-encoding passed on would make clients decode it again
        // (kubectl: "gzip: invalid header" whenever serverless-offline compressed a finite watch).
        if (!['content-length', 'connection', 'transfer-encoding', 'content-encoding'].includes(k)) headers[k] = v;
      });
      return { status: answer.status, headers, body: await answer.text() };
    };
    streamWatch(
      url.searchParams,
      ask,
      {
        // Sent at once, as the kube-apiserver does: clients wait for the head before reading events.
        head: (status, headers) => res.writeHead(status, headers).flushHeaders(),
        // A slow reader holds the stream back instead of piling it up here.
        write: (chunk) =>
          res.write(chunk)
            ? undefined
            : new Promise<void>((resolve) => {
                res.once('drain', resolve);
                res.once('close', resolve);
              }),
        closed: () => aborted.signal.aborted,
      },
      { nowMs: () => Date.now(), limitSeconds: OFFLINE_STREAM_LIMIT_SECONDS },
    )
      .catch((e: unknown) => {
        if (!aborted.signal.aborted) opts.log(`api front: watch ${url.pathname}: ${(e as Error).message}`);
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      })
      .finally(() => res.end());
  };
  const server = createServer(handle);
  const tlsServer = opts.tls ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, handle) : undefined;
  const servers: [Server, number][] = [
    [server, opts.port],
    ...(tlsServer && opts.tls ? [[tlsServer, opts.tls.port] as [Server, number]] : []),
  ];
  const listening: Server[] = [];
  try {
    for (const [s, port] of servers) {
      s.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, opts.host ?? '127.0.0.1', () => resolve());
      });
      listening.push(s);
    }
  } catch (e) {
    // A port taken: what did start is stopped, so nothing is left listening behind the failure.
    for (const s of listening) s.close();
    proxy.close();
    throw e;
  }
  return {
    server,
    ...(tlsServer ? { tlsServer } : {}),
    close: () =>
      Promise.all(
        servers.map(
          ([s]) =>
            new Promise<void>((resolve) => {
              s.close(() => resolve());
              s.closeAllConnections();
            }),
        ),
      ).then(() => undefined),
  };
}

function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of FORWARDED) {
    const v = req.headers[name];
    if (v !== undefined) out[name] = Array.isArray(v) ? v.join(',') : v;
  }
  return out;
}
