import { createServer, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { TLSSocket } from 'node:tls';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * Serves a Lambda handler over plain HTTP by building the same HTTP API (payload 2.0) events API
 * Gateway sends. Tests use it to exercise the real handler without serverless-offline's start-up time.
 */
export function httpApiEvent(req: IncomingMessage, raw: Buffer): APIGatewayProxyEventV2 {
  // API Gateway base64-encodes bodies that are not text; so does this server.
  const binary = /protobuf|octet-stream/.test(String(req.headers['content-type'] ?? ''));
  const body = raw.length === 0 ? '' : binary ? raw.toString('base64') : raw.toString('utf8');
  const url = new URL(req.url ?? '/', 'http://localhost');
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
  // As API Gateway sets it (the gate grants dev-loopback only to plain http).
  headers['x-forwarded-proto'] = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    queryStringParameters: Object.fromEntries(url.searchParams),
    requestContext: {
      accountId: 'offline',
      apiId: 'offline',
      domainName: 'localhost',
      domainPrefix: 'localhost',
      http: {
        method: req.method ?? 'GET',
        path: url.pathname,
        protocol: 'HTTP/1.1',
        sourceIp: '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: `offline-${now.getTime()}`,
      routeKey: '$default',
      stage: '$default',
      time: now.toISOString(),
      timeEpoch: now.getTime(),
    },
    body: body || undefined,
    isBase64Encoded: binary,
  };
}

export async function serveLambda(
  handler: HttpApiHandler,
  port = 0,
  /** Serve https with this key and certificate instead. */
  tls?: { key: string; cert: string },
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const serve: RequestListener = async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    try {
      const result = await handler(httpApiEvent(req, Buffer.concat(chunks)), {} as Context);
      res.writeHead(result.statusCode ?? 200, result.headers as Record<string, string>);
      res.end(result.body ?? '');
    } catch (e) {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`handler failed: ${String(e)}`);
    }
  };
  const server = tls ? createHttpsServer(tls, serve) : createServer(serve);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const addr = server.address();
  const actual = addr && typeof addr === 'object' ? addr.port : port;
  return {
    server,
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${actual}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
