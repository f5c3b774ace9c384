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

/**
 * How far another writer's clock may lag this one's, plus the time a write may take to land before it
 * is recorded again (change-log.ts). Resource versions come from each writer's clock, so one handed
 * out as "everything up to here" (a list's, a watch bookmark's) must sit this far back: a write made
 * later by a process whose clock is behind, or in the same millisecond, must still be newer, or a
 * watch from it never sees that write (a `kubectl wait` hung while its Job completed). Watches deliver
 * a record once it is this old. Clocks of AWS hosts (Amazon Time Sync) and of one machine offline
 * agree far closer than this.
 */
export const CLOCK_SKEW_MARGIN_MS = 500;

/** A resourceVersion below that of every write made from now on, by any writer within the margin. */
export function resourceVersionFloor(nowMs: number): number {
  return Math.max(1, (nowMs - CLOCK_SKEW_MARGIN_MS) * 1000);
}
