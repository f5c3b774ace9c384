/**
 * Where a container's log stream has got to, so a stream opened again resumes without a gap or a
 * repeat. Lines come as `<RFC 3339 timestamp> <text>` (timestamps=true). Docker stamps them to the
 * nanosecond, podman to the second, so several lines can share a stamp: the cursor keeps the last
 * stamp and how many lines with it were delivered, asks the engine for everything from that second,
 * and skips what it has already passed on.
 */
export class LogCursor {
  private stamp: bigint | undefined;
  /** Lines delivered with `stamp`. */
  private atStamp = 0;
  /** Lines with `stamp` this connection must still skip (delivered by an earlier one). */
  private skip = 0;

  /** Unix seconds to ask the engine for (`since`), or undefined before any line. */
  resumeAt(): number | undefined {
    return this.stamp === undefined ? undefined : Number(this.stamp / 1_000_000_000n);
  }

  /** A new connection starts: it will repeat the lines at the last stamp. */
  reopened(): void {
    this.skip = this.atStamp;
  }

  /** The text to pass on for one frame, or undefined when an earlier connection delivered it. */
  accept(frame: string): string | undefined {
    const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2}) /.exec(frame);
    if (!m) return frame; // an engine that ignores timestamps=true: nothing to compare
    const seconds = BigInt(Date.parse(`${m[1]}${m[3]}`) / 1000);
    const stamp = seconds * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
    const text = frame.slice(m[0].length);
    if (this.stamp !== undefined && stamp < this.stamp) return undefined;
    if (this.stamp !== undefined && stamp === this.stamp) {
      if (this.skip > 0) {
        this.skip--;
        return undefined;
      }
      this.atStamp++;
      return text;
    }
    this.stamp = stamp;
    this.atStamp = 1;
    this.skip = 0;
    return text;
  }
}
