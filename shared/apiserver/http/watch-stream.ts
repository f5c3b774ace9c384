import { queryBool } from './query.js';

/** One finite watch as the API answered it (a long poll of at most WATCH_HOLD_MS). */
export interface FiniteWatchAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Where a stream goes: the response head once, then chunks, until the client goes away. */
export interface WatchSink {
  head(status: number, headers: Record<string, string>): void;
  write(chunk: string): void | Promise<void>;
  /** The client has gone: stop asking. */
  closed(): boolean;
}

/**
 * How long a watch without timeoutSeconds stays open: the kube-apiserver ends it after
 * --min-request-timeout (1800 s) times a random factor in [1, 2), and clients watch again.
 */
export const DEFAULT_STREAM_SECONDS = 1800;

/** Answers a later ask may not get: 429 (rate limits), 502, 503, 504. */
const TRANSIENT = new Set([429, 502, 503, 504]);
const TRANSIENT_RETRIES = 4;
const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * One long watch stream out of finite watches, as a kube-apiserver watch stays open: the first answer
 * opens the stream (any other answer than 200 is passed on as it is), and the watch is asked again
 * from the last resourceVersion it sent, until the client's timeoutSeconds, `limitSeconds`, an ERROR
 * event, or the client going away. Every ask is a whole request of its own through the API (the same
 * authentication, rate limits and authorization each time). Bookmarks are asked for so the resume point
 * moves on through quiet periods, and passed on only to a client that asked for them.
 */
export async function streamWatch(
  query: URLSearchParams,
  ask: (query: URLSearchParams) => Promise<FiniteWatchAnswer>,
  sink: WatchSink,
  opts: { nowMs: () => number; limitSeconds: number; random?: () => number; sleep?: (ms: number) => Promise<void> },
): Promise<void> {
  const start = opts.nowMs();
  const wanted = query.get('timeoutSeconds');
  const seconds =
    wanted !== null && Number(wanted) > 0
      ? Math.min(Number(wanted), opts.limitSeconds)
      : Math.min(DEFAULT_STREAM_SECONDS * (1 + (opts.random ?? Math.random)()), opts.limitSeconds);
  const deadline = start + seconds * 1000;
  const bookmarks = queryBool(query, 'allowWatchBookmarks');
  const q = new URLSearchParams(query);
  q.set('allowWatchBookmarks', 'true');
  for (let first = true; ; first = false) {
    const remaining = Math.ceil((deadline - opts.nowMs()) / 1000);
    if (!first && (remaining <= 0 || sink.closed())) return;
    // The first ask holds at most a second: the stream's head (or a refusal) reaches the client at once.
    q.set('timeoutSeconds', String(first ? 1 : Math.max(1, remaining)));
    let answer = await ask(q);
    // A busy or briefly unavailable API mid-stream is asked again (bounded), as the stream of a
    // kube-apiserver would not end over it; the first answer goes to the client as it is.
    for (let retry = 0; !first && TRANSIENT.has(answer.status) && retry < TRANSIENT_RETRIES; retry++) {
      if (sink.closed() || opts.nowMs() >= deadline) return;
      await (opts.sleep ?? defaultSleep)(500 * 2 ** retry);
      answer = await ask(q);
    }
    if (answer.status !== 200) {
      if (first) {
        sink.head(answer.status, answer.headers);
        await sink.write(answer.body);
      } else {
        // As the kube-apiserver ends a watch that cannot go on: an ERROR event with a Status.
        await sink.write(`${JSON.stringify({ type: 'ERROR', object: statusOf(answer) })}\n`);
      }
      return;
    }
    if (first) sink.head(200, answer.headers);
    for (const line of answer.body.split('\n')) {
      if (!line.trim()) continue;
      const { type, resourceVersion } = eventOf(line);
      if (type !== 'ERROR' && resourceVersion) q.set('resourceVersion', resourceVersion);
      if (type !== 'BOOKMARK' || bookmarks) await sink.write(`${line}\n`);
      if (type === 'ERROR') return;
    }
  }
}

/** A watch event's type and the resourceVersion of its object (a Table's, for Table rows). */
function eventOf(line: string): { type: unknown; resourceVersion: string | undefined } {
  const event: unknown = JSON.parse(line);
  const field = (o: unknown, k: string): unknown =>
    o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined;
  const rv = field(field(field(event, 'object'), 'metadata'), 'resourceVersion');
  return { type: field(event, 'type'), resourceVersion: typeof rv === 'string' ? rv : undefined };
}

/** The answer's Status, or one made for it when the body is not a Status (a gateway's error, text). */
function statusOf(answer: FiniteWatchAnswer): unknown {
  try {
    const body: unknown = JSON.parse(answer.body);
    if (body !== null && typeof body === 'object' && (body as Record<string, unknown>).kind === 'Status') return body;
  } catch {
    // not JSON: described below
  }
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `the watch could not go on: ${answer.status} ${answer.body.trim().slice(0, 200)}`,
    reason: answer.status === 429 ? 'TooManyRequests' : answer.status >= 500 ? 'ServiceUnavailable' : 'BadRequest',
    code: answer.status,
  };
}
