/**
 * Kubernetes resource quantities ("500m", "128Mi", "1e3", "1.5Gi"): the serialization grammar of
 * k8s.io/apimachinery/pkg/api/resource, parsed to a plain number of base units.
 */
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

const SUFFIX: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

/** The value in base units (cores, bytes), or undefined when the text is not a quantity. */
export function parseQuantity(text: string | number): number | undefined {
  if (typeof text === 'number') return Number.isFinite(text) ? text : undefined;
  const m = QUANTITY.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]);
  const suffix = m[2];
  if (!suffix) return value;
  if (suffix[0] === 'e' || suffix[0] === 'E') return value * 10 ** Number(suffix.slice(1));
  return value * (SUFFIX[suffix] ?? NaN);
}

export const isQuantity = (v: unknown): boolean =>
  (typeof v === 'string' || typeof v === 'number') && parseQuantity(v) !== undefined;

/** CPU in millicores, rounded up like Kubernetes' MilliValue(). */
export const milliCpu = (q: string | number) => Math.ceil((parseQuantity(q) ?? 0) * 1000 - 1e-9);
