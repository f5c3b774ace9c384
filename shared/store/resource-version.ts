/**
 * resourceVersion is a per-object counter that is also roughly wall-clock ordered: the next value is
 * max(previous + 1, now in microseconds). It needs no global counter item (no hot key), stays
 * strictly increasing per object (so conditional writes detect every concurrent change), and lets a
 * later watch ask "what changed after V" across objects. Clients treat it as opaque.
 */
export function nextResourceVersion(previous: number | undefined, nowMs: number): number {
  const fromClock = nowMs * 1000;
  return previous === undefined ? fromClock : Math.max(previous + 1, fromClock);
}
