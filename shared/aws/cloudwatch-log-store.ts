import { AwsError, type AwsJsonClient } from './lite/json-client.js';
import {
  trimLog,
  type ContainerLogRef,
  type LogReadOptions,
  type LogStore,
  type LogWriter,
} from '../logs/log-store.js';

/** PutLogEvents takes at most 10,000 events and 1 MiB (each event counts 26 bytes extra). */
const MAX_EVENTS = 10_000;
const MAX_BATCH_BYTES = 1_000_000;
const FLUSH_MS = 1000;
/** GetLogEvents answers at most 10,000 events; a log read without tailLines stops after this many pages. */
const MAX_READ_PAGES = 10;

const base = (ref: ContainerLogRef) => `${ref.namespace}/${ref.pod}/${ref.podUid}/${ref.container}/`;

/**
 * Container logs in CloudWatch Logs: the agent writes each container instance to its own stream
 * (`namespace/pod/uid/container/<start time>`) straight from the node, batched once a second; the
 * API reads the newest stream (or the one before, for `previous`). No log line passes through Lambda.
 */
export class CloudWatchLogStore implements LogStore {
  constructor(
    /** A client for the `logs` service (the small signed client: the agent writes through it too). */
    private readonly client: AwsJsonClient,
    private readonly logGroup: string,
    private readonly now: () => number = Date.now,
  ) {}

  open(ref: ContainerLogRef, opts: { rotate: boolean }): LogWriter {
    // An adopted container (no rotation) continues in a stream of its own: streams are never reopened.
    const stream = `${base(ref)}${String(this.now()).padStart(15, '0')}${opts.rotate ? '' : '-adopted'}`;
    let pending: { timestamp: number; message: string }[] = [];
    let partial = '';
    const created = this.client.call('CreateLogStream', { logGroupName: this.logGroup, logStreamName: stream }).then(
      () => undefined,
      (e: unknown) => {
        if (!(e instanceof AwsError && e.code === 'ResourceAlreadyExistsException')) throw e;
      },
    );
    let chain: Promise<void> = Promise.resolve();
    const flush = () => {
      const events = pending;
      pending = [];
      if (!events.length) return chain;
      chain = chain
        .then(async () => {
          await created;
          for (let i = 0; i < events.length;) {
            let bytes = 0;
            let j = i;
            while (
              j < events.length &&
              j - i < MAX_EVENTS &&
              bytes + Buffer.byteLength(events[j]?.message ?? '') + 26 <= MAX_BATCH_BYTES
            )
              bytes += Buffer.byteLength(events[j++]?.message ?? '') + 26;
            if (j === i) j++; // a single oversized event: CloudWatch truncates it
            await this.client.call('PutLogEvents', {
              logGroupName: this.logGroup,
              logStreamName: stream,
              logEvents: events.slice(i, j),
            });
            i = j;
          }
        })
        .catch(() => undefined); // logs are best effort: a failed batch must not stop the container
      return chain;
    };
    const timer = setInterval(() => void flush(), FLUSH_MS);
    return {
      write: (chunk) => {
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        const t = this.now();
        for (const message of lines) pending.push({ timestamp: t, message });
      },
      close: async () => {
        clearInterval(timer);
        if (partial) pending.push({ timestamp: this.now(), message: partial });
        partial = '';
        await flush();
      },
    };
  }

  async read(ref: ContainerLogRef, opts: LogReadOptions): Promise<string | undefined> {
    type Streams = { logStreams?: { logStreamName?: string }[] };
    type Events = { events?: { message?: string }[]; nextForwardToken?: string };
    // Stream names end in the instance's zero-padded start time, so name order is age order.
    const streams = await this.client.call<Streams>('DescribeLogStreams', {
      logGroupName: this.logGroup,
      logStreamNamePrefix: base(ref),
      descending: true,
      limit: 2,
    });
    const stream = streams.logStreams?.[opts.previous ? 1 : 0]?.logStreamName;
    if (!stream) return undefined;
    const lines: string[] = [];
    if (opts.tailLines !== undefined) {
      const out = await this.client.call<Events>('GetLogEvents', {
        logGroupName: this.logGroup,
        logStreamName: stream,
        startFromHead: false,
        limit: Math.min(MAX_EVENTS, Math.max(1, opts.tailLines)),
      });
      lines.push(...(out.events ?? []).map((e) => e.message ?? ''));
    } else {
      let token: string | undefined;
      for (let page = 0; page < MAX_READ_PAGES; page++) {
        const out: Events = await this.client.call<Events>('GetLogEvents', {
          logGroupName: this.logGroup,
          logStreamName: stream,
          startFromHead: true,
          ...(token ? { nextToken: token } : {}),
        });
        lines.push(...(out.events ?? []).map((e) => e.message ?? ''));
        if (!out.nextForwardToken || out.nextForwardToken === token || !(out.events ?? []).length) break;
        token = out.nextForwardToken;
      }
    }
    return trimLog(lines.length ? lines.join('\n') + '\n' : '', opts);
  }
}
