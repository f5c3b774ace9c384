import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../shared/model/types.js';
import { resourceReplicas, type PodMetric } from '../../../shared/controllers/autoscaler/replicas.js';
import {
  normalizeLegacy,
  normalizeWithBehavior,
  recordScaleEvent,
  type History,
} from '../../../shared/controllers/autoscaler/behavior.js';
import { planAutoscaler, rescaleFailed, type AutoscalerInput } from '../../../shared/controllers/autoscaler/plan.js';

/** Cases after Kubernetes' own replica_calculator_test.go and horizontal_test.go (1.32). */

const NOW = Date.parse('2026-03-01T12:00:00Z');
const iso = (ms: number) => new Date(ms).toISOString();
const empty = (): History => ({ recommendations: [], scaleUpEvents: [], scaleDownEvents: [] });

/** A Running pod, Ready since it started 10 minutes ago (past the CPU initialization period), requesting `cpu`. */
function pod(
  name: string,
  o: { cpu?: string; ready?: boolean; phase?: string; started?: number; readySince?: number } = {},
): KubeObject {
  const started = o.started ?? NOW - 600_000;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, labels: { app: 'web' } },
    spec: {
      containers: [
        { name: 'app', image: 'x', ...(o.cpu === undefined ? {} : { resources: { requests: { cpu: o.cpu } } }) },
      ],
    },
    status: {
      phase: o.phase ?? 'Running',
      startTime: iso(started),
      conditions: [
        {
          type: 'Ready',
          status: o.ready === false ? 'False' : 'True',
          lastTransitionTime: iso(o.readySince ?? started + 5_000),
        },
      ],
    },
  };
}
const metric = (milli: number): PodMetric => ({ valueMilli: milli, timestampMs: NOW - 5_000, windowMs: 15_000 });
const metrics = (values: Record<string, number>) => new Map(Object.entries(values).map(([k, v]) => [k, metric(v)]));

describe('the replica calculator (resource metrics)', () => {
  it('scales up by the ratio of utilization to target over the ready pods', () => {
    const pods = ['a', 'b', 'c'].map((n) => pod(n, { cpu: '1' }));
    const r = resourceReplicas(3, { resource: 'cpu', utilization: 30 }, pods, metrics({ a: 300, b: 500, c: 700 }), NOW);
    expect(r).toMatchObject({ ok: true, replicas: 5, utilization: 50, averageMilli: 500 });
  });

  it('keeps the count within the 10% tolerance', () => {
    const pods = ['a', 'b'].map((n) => pod(n, { cpu: '1' }));
    const r = resourceReplicas(2, { resource: 'cpu', utilization: 50 }, pods, metrics({ a: 520, b: 560 }), NOW);
    expect(r).toMatchObject({ ok: true, replicas: 2, utilization: 54 });
  });

  it('counts unready pods as using nothing when scaling up (TestReplicaCalcScaleUpUnreadyLessScale)', () => {
    const pods = [pod('a', { cpu: '1', ready: false }), pod('b', { cpu: '1' }), pod('c', { cpu: '1' })];
    const r = resourceReplicas(3, { resource: 'cpu', utilization: 30 }, pods, metrics({ a: 300, b: 500, c: 700 }), NOW);
    expect(r).toMatchObject({ ok: true, replicas: 4, utilization: 60 });
  });

  it('assumes a pod without metrics uses its whole request when scaling down', () => {
    const pods = ['a', 'b', 'c', 'd'].map((n) => pod(n, { cpu: '1' }));
    const r = resourceReplicas(4, { resource: 'cpu', utilization: 50 }, pods, metrics({ a: 100, b: 100, c: 100 }), NOW);
    // 10% measured; with d at 100%: 1300/4000 = 32%, ceil(0.64 × 4) = 3.
    expect(r).toMatchObject({ ok: true, replicas: 3, utilization: 10 });
  });

  it('ignores deleting and failed pods, and a pod measured before it was ready is unready while it initializes', () => {
    const deleting = { ...pod('a', { cpu: '1' }), metadata: { ...pod('a').metadata, deletionTimestamp: iso(NOW) } };
    const young = pod('c', { cpu: '1', started: NOW - 60_000, readySince: NOW - 10_000 });
    const pods = [deleting, pod('b', { cpu: '1', phase: 'Failed' }), young, pod('d', { cpu: '1' })];
    const r = resourceReplicas(
      2,
      { resource: 'cpu', utilization: 50 },
      pods,
      metrics({ a: 900, b: 900, c: 900, d: 900 }),
      NOW,
    );
    // Only d counts (180%); c is unready and added back at 0 for the scale-up: 900/2000 = 45%, ratio 0.9 — within tolerance.
    expect(r).toMatchObject({ ok: true, replicas: 2, utilization: 90 });
  });

  it("says which container lacks a request, in Kubernetes' words", () => {
    const r = resourceReplicas(1, { resource: 'cpu', utilization: 50 }, [pod('web-1')], metrics({ 'web-1': 100 }), NOW);
    expect(r).toEqual({ ok: false, error: 'missing request for cpu in container app of Pod web-1' });
  });

  it('needs no requests for an average value target', () => {
    const pods = ['a', 'b'].map((n) => pod(n));
    const r = resourceReplicas(
      2,
      { resource: 'memory', averageMilli: 100e6 * 1000 },
      pods,
      metrics({ a: 150e9, b: 250e9 }),
      NOW,
    );
    expect(r).toMatchObject({ ok: true, replicas: 4, averageMilli: 200e9 });
  });

  it('reports pods without metrics as Kubernetes does', () => {
    const pods = [pod('a', { cpu: '1', phase: 'Pending' })];
    expect(resourceReplicas(1, { resource: 'cpu', utilization: 50 }, pods, new Map(), NOW)).toEqual({
      ok: false,
      error: 'unable to get metrics for resource cpu: no metrics returned from resource metrics API',
    });
    expect(resourceReplicas(1, { resource: 'cpu', utilization: 50 }, pods, metrics({ a: 1 }), NOW)).toEqual({
      ok: false,
      error: 'did not receive metrics for targeted pods (pods might be unready)',
    });
  });
});

describe('normalizing a recommendation', () => {
  const defaults = {
    scaleUp: {
      stabilizationWindowSeconds: 0,
      selectPolicy: 'Max',
      policies: [
        { type: 'Pods', value: 4, periodSeconds: 15 },
        { type: 'Percent', value: 100, periodSeconds: 15 },
      ],
    },
    scaleDown: { selectPolicy: 'Max', policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }] },
  };

  it('holds a scale-down to the highest recommendation of the window (300 s by default)', () => {
    const history = {
      ...empty(),
      recommendations: [
        { replicas: 6, atMs: NOW - 200_000 },
        { replicas: 8, atMs: NOW - 400_000 },
      ],
    };
    const { normalized } = normalizeWithBehavior(defaults, history, 6, 2, 1, 10, NOW);
    expect(normalized.replicas).toBe(6);
    expect(normalized.ableToScale.reason).toBe('ScaleDownStabilized');
  });

  it('limits a scale-up by the policies (4 pods or 100% per 15 s, the larger), net of recent scale events', () => {
    const { normalized } = normalizeWithBehavior(defaults, empty(), 1, 10, 1, 20, NOW);
    expect(normalized).toMatchObject({ replicas: 5, limited: { status: 'True', reason: 'ScaleUpLimit' } });
    const after = recordScaleEvent(defaults, empty(), 1, 5, NOW - 5_000);
    expect(normalizeWithBehavior(defaults, after, 5, 10, 1, 20, NOW).normalized.replicas).toBe(5);
    expect(normalizeWithBehavior(defaults, after, 5, 10, 1, 20, NOW + 11_000).normalized.replicas).toBe(10);
  });

  it('bounds by min and max with their reasons, and a Disabled direction never moves', () => {
    expect(normalizeWithBehavior(defaults, empty(), 3, 12, 1, 4, NOW).normalized).toMatchObject({
      replicas: 4,
      limited: { status: 'True', reason: 'TooManyReplicas' },
    });
    const down = {
      ...defaults,
      scaleDown: { ...defaults.scaleDown, stabilizationWindowSeconds: 0, selectPolicy: 'Disabled' },
    };
    expect(normalizeWithBehavior(down, empty(), 5, 1, 1, 10, NOW).normalized).toMatchObject({
      replicas: 5,
      limited: { reason: 'ScaleDownLimit' },
    });
  });

  it('without behavior: the highest of five minutes, at most double (or 4) per step', () => {
    expect(normalizeLegacy(empty(), 2, 20, 1, 30, NOW).normalized).toMatchObject({
      replicas: 4,
      limited: { status: 'True', reason: 'ScaleUpLimit' },
    });
    const history = { ...empty(), recommendations: [{ replicas: 5, atMs: NOW - 60_000 }] };
    expect(normalizeLegacy(history, 5, 2, 1, 30, NOW).normalized).toMatchObject({
      replicas: 5,
      ableToScale: { reason: 'ScaleDownStabilized' },
    });
  });

  it('never leaves [min, max] nor moves against the recommendation (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 0, max: 30 }),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 0, max: 20 }),
        fc.array(fc.record({ replicas: fc.integer({ min: 0, max: 30 }), ago: fc.integer({ min: 0, max: 900 }) }), {
          maxLength: 8,
        }),
        (current, desired, min, span, recs) => {
          const max = min + span;
          if (current < min || current > max) return;
          const history = {
            ...empty(),
            recommendations: recs.map((r) => ({ replicas: r.replicas, atMs: NOW - r.ago * 1000 })),
          };
          for (const n of [
            normalizeWithBehavior(defaults, history, current, desired, min, max, NOW),
            normalizeLegacy(history, current, desired, min, max, NOW),
          ]) {
            const r = n.normalized.replicas;
            expect(r).toBeGreaterThanOrEqual(min);
            expect(r).toBeLessThanOrEqual(max);
            if (desired >= current) expect(r).toBeGreaterThanOrEqual(Math.min(current, max));
          }
        },
      ),
    );
  });
});

describe('an evaluation', () => {
  const hpa = (spec: Record<string, unknown> = {}, status?: Record<string, unknown>): KubeObject => ({
    apiVersion: 'autoscaling/v2',
    kind: 'HorizontalPodAutoscaler',
    metadata: { name: 'web', namespace: 'default', uid: 'hpa-uid' },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 10,
      metrics: [
        { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 50 } } },
      ],
      ...spec,
    },
    ...(status ? { status } : {}),
  });
  const input = (o: Partial<AutoscalerInput> = {}): AutoscalerInput => ({
    hpa: hpa(),
    scale: { replicas: 2, selector: 'app=web' },
    pods: [pod('a', { cpu: '200m' }), pod('b', { cpu: '200m' })],
    samples: new Map(
      ['a', 'b'].map((n) => [
        n,
        { timestampMs: NOW - 5_000, windowMs: 15_000, containers: [{ name: 'app', cpu: 300e6, memory: 2 ** 20 }] },
      ]),
    ),
    history: empty(),
    nowMs: NOW,
    ...o,
  });

  // 150% of a 50% target asks for 6; without behavior a step at most doubles (or reaches 4).
  it('rescales with the event and conditions Kubernetes gives, and records the metric it used', () => {
    const plan = planAutoscaler(input());
    expect(plan.rescale).toEqual({
      replicas: 4,
      reason: 'cpu resource utilization (percentage of request) above target',
    });
    expect(plan.events).toEqual([
      {
        type: 'Normal',
        reason: 'SuccessfulRescale',
        message: 'New size: 4; reason: cpu resource utilization (percentage of request) above target',
      },
    ]);
    expect(plan.status).toMatchObject({
      currentReplicas: 2,
      desiredReplicas: 4,
      lastScaleTime: iso(NOW).replace('.000Z', 'Z'),
      currentMetrics: [
        { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 150, averageValue: '300m' } } },
      ],
    });
    const reasons = (plan.status.conditions as { type: string; reason: string }[]).map((c) => `${c.type}=${c.reason}`);
    expect(reasons).toEqual([
      'AbleToScale=SucceededRescale',
      'ScalingActive=ValidMetricFound',
      'ScalingLimited=ScaleUpLimit',
    ]);
  });

  it('reports a target it cannot read, a target at zero, and a count outside the bounds', () => {
    const missing = planAutoscaler(input({ scale: { error: 'deployments.apps "web" not found' } }));
    expect(missing.events).toEqual([
      { type: 'Warning', reason: 'FailedGetScale', message: 'deployments.apps "web" not found' },
    ]);
    expect(missing.rescale).toBeUndefined();
    const zero = planAutoscaler(input({ scale: { replicas: 0, selector: 'app=web' } }));
    expect(zero.rescale).toBeUndefined();
    expect(zero.status.conditions).toContainEqual(
      expect.objectContaining({
        type: 'ScalingActive',
        status: 'False',
        reason: 'ScalingDisabled',
        message: 'scaling is disabled since the replica count of the target is zero',
      }),
    );
    expect(planAutoscaler(input({ scale: { replicas: 12, selector: 'app=web' } })).rescale).toEqual({
      replicas: 10,
      reason: 'Current number of replicas above Spec.MaxReplicas',
    });
  });

  it('does not scale on metrics it cannot read, and says why; custom metrics are reported, not ignored', () => {
    const noMetrics = planAutoscaler(input({ samples: new Map() }));
    expect(noMetrics.rescale).toBeUndefined();
    expect(noMetrics.events.map((e) => e.reason)).toEqual(['FailedGetResourceMetric', 'FailedComputeMetricsReplicas']);
    const pods = planAutoscaler(
      input({
        hpa: hpa({
          metrics: [
            { type: 'Pods', pods: { metric: { name: 'qps' }, target: { type: 'AverageValue', averageValue: '10' } } },
          ],
        }),
      }),
    );
    expect(pods.events[0]).toMatchObject({ reason: 'FailedGetPodsMetric' });
    expect(pods.events[0]?.message).toContain('unable to get metric qps');
  });

  it('refuses to scale pods another HPA also scales (AmbiguousSelector)', () => {
    const plan = planAutoscaler(input({ ambiguous: ['default/other', 'default/web'] }));
    expect(plan.rescale).toBeUndefined();
    const message = 'pods by selector app=web are controlled by multiple HPAs: [default/other default/web]';
    expect(plan.events[0]).toEqual({ type: 'Warning', reason: 'AmbiguousSelector', message });
    expect(plan.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'ScalingActive', status: 'False', reason: 'AmbiguousSelector', message }),
    );
  });

  it('keeps the transition time of a condition whose status did not change', () => {
    const first = planAutoscaler(input());
    const again = planAutoscaler(
      input({ hpa: hpa({}, first.status), scale: { replicas: 4, selector: 'app=web' }, nowMs: NOW + 15_000 }),
    );
    const able = (s: Record<string, unknown>) =>
      (s.conditions as { type: string; lastTransitionTime: string }[]).find((c) => c.type === 'AbleToScale');
    expect(able(again.status)?.lastTransitionTime).toBe(able(first.status)?.lastTransitionTime);
  });

  it('a failed rescale is a FailedRescale event and AbleToScale False', () => {
    const i = input();
    const failed = rescaleFailed(planAutoscaler(i), i, 'Operation cannot be fulfilled');
    expect(failed.events.at(-1)).toMatchObject({
      reason: 'FailedRescale',
      message: expect.stringContaining('New size: 4;'),
    });
    expect(failed.status.conditions).toContainEqual(
      expect.objectContaining({ type: 'AbleToScale', status: 'False', reason: 'FailedUpdateScale' }),
    );
  });
});
