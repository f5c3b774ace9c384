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

/**
 * A whole number of base units scaled by 10^exp, in Kubernetes' canonical form: the largest decimal
 * suffix that keeps the number whole (resource.NewScaledQuantity(v, exp).String(): 2217000n is "2217u",
 * 100000000 is "100M").
 */
export function formatScaledQuantity(value: number, exp: -9 | -6 | -3 | 0): string {
  let v = Math.round(value);
  let e: number = exp;
  while (v !== 0 && e < 18 && v % 1000 === 0) {
    v /= 1000;
    e += 3;
  }
  const suffix: Record<number, string> = {
    [-9]: 'n',
    [-6]: 'u',
    [-3]: 'm',
    0: '',
    3: 'k',
    6: 'M',
    9: 'G',
    12: 'T',
    15: 'P',
    18: 'E',
  };
  return v === 0 ? '0' : `${v}${suffix[e] ?? ''}`;
}

/** Bytes in Kubernetes' canonical binary form (resource.NewQuantity(v, BinarySI).String(): 15802368 is "15432Ki"). */
export function formatBinaryQuantity(bytes: number): string {
  let v = Math.round(bytes);
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi'];
  let i = 0;
  while (v !== 0 && v % 1024 === 0 && i < suffixes.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v}${suffixes[i]}`;
}

/** A duration as Go's time.Duration.String() prints it (metav1.Duration's JSON): "15s", "15.012s", "1m30s", "1h0m0s". */
export function formatGoDuration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = (ms % 60_000) / 1000;
  const sec = `${Number.isInteger(s) ? s : s.toFixed(3).replace(/0+$/, '')}s`;
  if (h) return `${h}h${m}m${sec}`;
  if (m) return `${m}m${sec}`;
  return sec;
}
