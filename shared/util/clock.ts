/** Time is passed in, never read from the global clock inside decisions, so plans and tests stay deterministic. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Kubernetes timestamps have second precision (RFC 3339, no fraction). */
export const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
