/**
 * intstr.GetScaledValueFromIntOrPercent: an integer as it is, or a percent string of `total`, rounded
 * up or down as the caller's Kubernetes code asks. Undefined for anything else (the caller's default).
 */
export function scaledValue(v: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(String(v ?? ''));
  if (!m) return undefined;
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}
