import { Agent, request, type IncomingMessage } from 'node:http';
import { isPlainObject } from '../../model/json.js';

/** The Docker Engine API over its unix socket (Docker, or podman's compatible service). */
export class DockerApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const API_VERSION = 'v1.41';

export class DockerApi {
  /**
   * Short calls share connections. Not Node's global agent: since Node 19 it times sockets out after
   * 5 s without traffic, which cut every quiet log stream (a container silent for 5 s lost all later
   * output) and every wait. Streams get a connection of their own, with no idle limit.
   */
  private readonly calls = new Agent({ keepAlive: true, maxFreeSockets: 4 });

  constructor(private readonly socketPath: string) {}

  /** A request whose answer is read whole (JSON when it parses). */
  /** `T` is the shape the Engine API documents for this call's answer. */
  async call<T = unknown>(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<T> {
    const res = await this.open(method, path, body, timeoutMs, timeoutMs ? this.calls : false);
    const text = await readAll(res);
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // plain text
    }
    if ((res.statusCode ?? 500) >= 400) {
      const message = isPlainObject(parsed) && typeof parsed.message === 'string' ? parsed.message : text;
      throw new DockerApiError(res.statusCode ?? 500, `${method} ${path}: ${res.statusCode} ${message}`);
    }
    return parsed as T;
  }

  /** A request whose answer is a stream (logs, pull progress, exec output); `timeoutMs` 0 waits as long as it takes. */
  open(
    method: string,
    path: string,
    body?: unknown,
    timeoutMs = 0,
    agent: Agent | false = false,
    extraHeaders: Record<string, string> = {},
  ): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          socketPath: this.socketPath,
          path: `/${API_VERSION}${path}`,
          method,
          agent,
          headers: {
            host: 'docker',
            ...extraHeaders,
            ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}),
          },
          ...(timeoutMs ? { timeout: timeoutMs } : {}),
        },
        resolve,
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: no answer from the container engine in ${timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Closes the pooled connections (the agent's shutdown). */
  close(): void {
    this.calls.destroy();
  }
}

export function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/**
 * Splits Docker's multiplexed stdout/stderr stream (8-byte frame headers: stream, 0, 0, 0, length)
 * into chunks. Returns a function to feed with what arrives.
 */
export function demultiplexer(onChunk: (text: string, stream: 'stdout' | 'stderr') => void): (data: Buffer) => void {
  let pending = Buffer.alloc(0);
  return (data) => {
    pending = Buffer.concat([pending, data]);
    while (pending.length >= 8) {
      const size = pending.readUInt32BE(4);
      if (pending.length < 8 + size) break;
      onChunk(pending.subarray(8, 8 + size).toString('utf8'), pending[0] === 2 ? 'stderr' : 'stdout');
      pending = pending.subarray(8 + size);
    }
  };
}
