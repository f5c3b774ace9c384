/**
 * Container logs. Agents write them straight to the store (files offline, CloudWatch Logs on AWS) and
 * the API's pod `log` endpoint reads them back: no log line ever passes through a Lambda on the way in.
 */
export interface ContainerLogRef {
  namespace: string;
  pod: string;
  podUid: string;
  container: string;
}

export interface LogReadOptions {
  tailLines?: number;
  limitBytes?: number;
  /** The previous (terminated) instance of the container, as `kubectl logs --previous`. */
  previous?: boolean;
}

export interface LogWriter {
  write(chunk: string): void;
  close(): Promise<void>;
}

export interface LogStore {
  /** A writer for the container's log; with `rotate` (a new instance) the last instance's log becomes "previous". */
  open(ref: ContainerLogRef, opts: { rotate: boolean }): LogWriter;
  /** undefined when there is no log (the container never started here). */
  read(ref: ContainerLogRef, opts: LogReadOptions): Promise<string | undefined>;
}

/** Applies tailLines and limitBytes to a whole log, as the kubelet does. */
export function trimLog(text: string, opts: LogReadOptions): string {
  let out = text;
  if (opts.tailLines !== undefined) {
    const lines = out.split('\n');
    if (lines.at(-1) === '') lines.pop();
    out = opts.tailLines === 0 ? '' : lines.slice(-opts.tailLines).join('\n') + (lines.length ? '\n' : '');
  }
  if (opts.limitBytes !== undefined) out = Buffer.from(out).subarray(0, opts.limitBytes).toString('utf8');
  return out;
}
