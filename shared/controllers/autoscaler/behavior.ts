/**
 * How a recommendation becomes the replica count (horizontal.go normalizeDesiredReplicas and
 * normalizeDesiredReplicasWithBehaviors, 1.32): the stabilization window over recent recommendations,
 * the rate policies over recent scale events, and the min/max bounds, with the condition reasons
 * Kubernetes reports. Kubernetes keeps the recommendations and events in the controller's memory; here
 * they are the autoscaler's memory (store/autoscaler-memory.ts), passed in and returned.
 */

export interface Recommendation {
  replicas: number;
  atMs: number;
}
export interface ScaleEvent {
  change: number;
  atMs: number;
}
export interface History {
  recommendations: Recommendation[];
  scaleUpEvents: ScaleEvent[];
  scaleDownEvents: ScaleEvent[];
}

export interface Policy {
  type: string;
  value: number;
  periodSeconds: number;
}
export interface Rules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: string;
  policies?: Policy[];
}
export interface Behavior {
  scaleUp?: Rules;
  scaleDown?: Rules;
}

/** --horizontal-pod-autoscaler-downscale-stabilization. */
export const DOWNSCALE_STABILIZATION_MS = 300_000;

export interface Reason {
  reason: string;
  message: string;
}
export interface Normalized {
  replicas: number;
  /** AbleToScale's reason once the recommendation is stabilized. */
  ableToScale: Reason;
  /** ScalingLimited: true when the bounds or rates changed the stabilized recommendation. */
  limited: Reason & { status: 'True' | 'False' };
}

const READY: Reason = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const DOWN_STABILIZED: Reason = {
  reason: 'ScaleDownStabilized',
  message: 'recent recommendations were higher than current one, applying the highest recent recommendation',
};
const UP_STABILIZED: Reason = {
  reason: 'ScaleUpStabilized',
  message: 'recent recommendations were lower than current one, applying the lowest recent recommendation',
};
const UP_LIMIT: Reason = {
  reason: 'ScaleUpLimit',
  message: 'the desired replica count is increasing faster than the maximum scale rate',
};
const DOWN_LIMIT: Reason = {
  reason: 'ScaleDownLimit',
  message: 'the desired replica count is decreasing faster than the maximum scale rate',
};
const TOO_MANY: Reason = {
  reason: 'TooManyReplicas',
  message: 'the desired replica count is more than the maximum replica count',
};
const TOO_FEW: Reason = {
  reason: 'TooFewReplicas',
  message: 'the desired replica count is less than the minimum replica count',
};
const WITHIN: Reason = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };

/** Records a recommendation over the oldest one past every window (or appends), as Kubernetes reuses slots. */
function record(recs: Recommendation[], rec: Recommendation, oldIndex: number): Recommendation[] {
  const out = [...recs];
  if (oldIndex >= 0) out[oldIndex] = rec;
  else out.push(rec);
  return out;
}

/** Without spec.behavior: the highest recommendation of the last five minutes, and at most double (or 4) per step. */
export function normalizeLegacy(
  history: History,
  current: number,
  desired: number,
  min: number,
  max: number,
  nowMs: number,
): { normalized: Normalized; history: History } {
  const cutoff = nowMs - DOWNSCALE_STABILIZATION_MS;
  let stabilized = desired;
  let oldIndex = -1;
  history.recommendations.forEach((r, i) => {
    if (r.atMs < cutoff) oldIndex = i;
    else stabilized = Math.max(stabilized, r.replicas);
  });
  const recommendations = record(history.recommendations, { replicas: desired, atMs: nowMs }, oldIndex);
  const ableToScale = stabilized !== desired ? DOWN_STABILIZED : READY;
  const scaleUpLimit = Math.max(2 * current, 4);
  const [maxAllowed, overMax] = max > scaleUpLimit ? [scaleUpLimit, UP_LIMIT] : [max, TOO_MANY];
  let replicas = stabilized;
  let why = WITHIN;
  if (stabilized < min) [replicas, why] = [min, TOO_FEW];
  else if (stabilized > maxAllowed) [replicas, why] = [maxAllowed, overMax];
  return {
    normalized: { replicas, ableToScale, limited: { ...why, status: replicas === stabilized ? 'False' : 'True' } },
    history: { ...history, recommendations },
  };
}

const changeInPeriod = (events: ScaleEvent[], periodSeconds: number, nowMs: number) =>
  events.filter((e) => e.atMs > nowMs - periodSeconds * 1000).reduce((sum, e) => sum + e.change, 0);

function scaleUpLimit(current: number, rules: Rules, history: History, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies ?? []) {
    const start =
      current -
      changeInPeriod(history.scaleUpEvents, p.periodSeconds, nowMs) +
      changeInPeriod(history.scaleDownEvents, p.periodSeconds, nowMs);
    result = pick(result, p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100)));
  }
  return result;
}

function scaleDownLimit(current: number, rules: Rules, history: History, nowMs: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies ?? []) {
    const start =
      current +
      changeInPeriod(history.scaleUpEvents, p.periodSeconds, nowMs) -
      changeInPeriod(history.scaleDownEvents, p.periodSeconds, nowMs);
    result = pick(result, p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100)));
  }
  return result;
}

/** With spec.behavior (defaulted at admission): windows per direction, then the rate policies, then the bounds. */
export function normalizeWithBehavior(
  behavior: Behavior,
  history: History,
  current: number,
  desired: number,
  min: number,
  max: number,
  nowMs: number,
): { normalized: Normalized; history: History } {
  const up = behavior.scaleUp ?? {};
  const down = behavior.scaleDown ?? {};
  const upCut = nowMs - (up.stabilizationWindowSeconds ?? 0) * 1000;
  const downCut = nowMs - (down.stabilizationWindowSeconds ?? DOWNSCALE_STABILIZATION_MS / 1000) * 1000;
  let upRec = desired;
  let downRec = desired;
  let oldIndex = -1;
  history.recommendations.forEach((r, i) => {
    if (r.atMs > upCut) upRec = Math.min(upRec, r.replicas);
    if (r.atMs > downCut) downRec = Math.max(downRec, r.replicas);
    if (r.atMs < upCut && r.atMs < downCut) oldIndex = i;
  });
  let stabilized = current;
  if (stabilized < upRec) stabilized = upRec;
  if (stabilized > downRec) stabilized = downRec;
  const recommendations = record(history.recommendations, { replicas: desired, atMs: nowMs }, oldIndex);
  const ableToScale = stabilized !== desired ? (desired >= current ? UP_STABILIZED : DOWN_STABILIZED) : READY;
  let replicas = stabilized;
  let why = WITHIN;
  if (stabilized > current) {
    const limit = Math.max(scaleUpLimit(current, up, history, nowMs), current);
    const [allowed, over] = max > limit ? [limit, UP_LIMIT] : [max, TOO_MANY];
    if (stabilized > allowed) [replicas, why] = [allowed, over];
  } else if (stabilized < current) {
    const limit = Math.min(scaleDownLimit(current, down, history, nowMs), current);
    const [allowed, under] = min < limit ? [limit, DOWN_LIMIT] : [min, TOO_FEW];
    if (stabilized < allowed) [replicas, why] = [allowed, under];
  }
  return {
    normalized: { replicas, ableToScale, limited: { ...why, status: replicas === stabilized ? 'False' : 'True' } },
    history: { ...history, recommendations },
  };
}

const longestPeriod = (rules: Rules | undefined) => Math.max(0, ...(rules?.policies ?? []).map((p) => p.periodSeconds));

/** storeScaleEvent: a rescale is remembered (reusing the last slot past the longest policy period) while policies may need it. */
export function recordScaleEvent(
  behavior: Behavior | undefined,
  history: History,
  previous: number,
  next: number,
  nowMs: number,
): History {
  if (!behavior || next === previous) return history;
  const upward = next > previous;
  const events = upward ? history.scaleUpEvents : history.scaleDownEvents;
  const cutoff = nowMs - longestPeriod(upward ? behavior.scaleUp : behavior.scaleDown) * 1000;
  let slot = -1;
  events.forEach((e, i) => {
    if (e.atMs <= cutoff) slot = i;
  });
  const event = { change: Math.abs(next - previous), atMs: nowMs };
  const updated = [...events];
  if (slot >= 0) updated[slot] = event;
  else updated.push(event);
  return upward ? { ...history, scaleUpEvents: updated } : { ...history, scaleDownEvents: updated };
}
