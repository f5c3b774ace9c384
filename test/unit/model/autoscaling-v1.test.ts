import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { hpaFromV1, hpaToV1, V1_ANNOTATIONS } from '../../../shared/model/kinds/autoscaling-v1.js';
import type { KubeObject } from '../../../shared/model/types.js';

/** autoscaling/v1 ↔ v2 as Kubernetes 1.32 converts (pkg/apis/autoscaling/v1/conversion.go). */

const v2 = (spec: Record<string, unknown>, status?: Record<string, unknown>): KubeObject => ({
  apiVersion: 'autoscaling/v2',
  kind: 'HorizontalPodAutoscaler',
  metadata: { name: 'web', namespace: 'default' },
  spec: {
    scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
    minReplicas: 1,
    maxReplicas: 5,
    ...spec,
  },
  ...(status ? { status } : {}),
});
const cpu = (pct: number) => ({
  type: 'Resource',
  resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: pct } },
});

describe('autoscaling/v1 as a view of v2', () => {
  it('shows the first CPU utilization target as targetCPUUtilizationPercentage and the rest in the annotation', () => {
    const memory = {
      type: 'Resource',
      resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '100Mi' } },
    };
    const v1 = hpaToV1(
      v2(
        { metrics: [memory, cpu(60)] },
        {
          currentReplicas: 2,
          desiredReplicas: 3,
          currentMetrics: [
            { type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: 75, averageValue: '150m' } } },
          ],
        },
      ),
    );
    expect(v1.apiVersion).toBe('autoscaling/v1');
    expect(v1.spec).toEqual({
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' },
      minReplicas: 1,
      maxReplicas: 5,
      targetCPUUtilizationPercentage: 60,
    });
    expect(JSON.parse(v1.metadata.annotations?.[V1_ANNOTATIONS.metrics] ?? '')).toEqual([
      { type: 'Resource', resource: { name: 'memory', targetAverageValue: '100Mi' } },
    ]);
    expect(v1.status).toEqual({ currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 75 });
  });

  it("keeps spec.behavior in the annotation under Go's field names", () => {
    const behavior = {
      scaleDown: {
        stabilizationWindowSeconds: 60,
        selectPolicy: 'Max',
        policies: [{ type: 'Pods', value: 1, periodSeconds: 30 }],
      },
    };
    const v1 = hpaToV1(v2({ metrics: [cpu(50)], behavior }));
    expect(JSON.parse(v1.metadata.annotations?.[V1_ANNOTATIONS.behavior] ?? '')).toEqual({
      ScaleUp: null,
      ScaleDown: {
        StabilizationWindowSeconds: 60,
        SelectPolicy: 'Max',
        Policies: [{ Type: 'Pods', Value: 1, PeriodSeconds: 30 }],
      },
    });
    expect(hpaFromV1(v1).spec?.behavior).toEqual(behavior);
  });

  it('a v1 body without a target gets none (v2 defaulting adds 80% CPU), and its annotations never reach storage', () => {
    const stored = hpaFromV1({
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'x', annotations: { keep: 'me', [V1_ANNOTATIONS.conditions]: '[]' } },
      spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 },
    });
    expect(stored.spec).toEqual({ scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 });
    expect(stored.metadata.annotations).toEqual({ keep: 'me' });
  });

  it('refuses an annotation it cannot read (bad JSON, too deep, not a string) instead of dropping it', () => {
    const body = (value: unknown) =>
      ({
        apiVersion: 'autoscaling/v1',
        kind: 'HorizontalPodAutoscaler',
        metadata: { name: 'x', annotations: { [V1_ANNOTATIONS.behavior]: value } },
        spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, maxReplicas: 3 },
      }) as unknown as KubeObject;
    expect(() => hpaFromV1(body('{'))).toThrow(/autoscaling.alpha.kubernetes.io\/behavior/);
    expect(() => hpaFromV1(body(`${'['.repeat(50_000)}${']'.repeat(50_000)}`))).toThrow(/nested more than 32/);
    expect(() => hpaFromV1(body(7))).toThrow(/must be a string/);
    // A spec that is not an object is left for validation to refuse.
    expect(hpaFromV1({ ...body(undefined), spec: 'x' } as unknown as KubeObject).spec).toBe('x');
  });

  it('v2 → v1 → v2 loses nothing (property)', () => {
    const resource = fc.record({
      type: fc.constant('Resource'),
      resource: fc.record({
        name: fc.constantFrom('cpu', 'memory'),
        target: fc.oneof(
          fc.record({ type: fc.constant('Utilization'), averageUtilization: fc.integer({ min: 1, max: 200 }) }),
          fc.record({ type: fc.constant('AverageValue'), averageValue: fc.constantFrom('100m', '64Mi', '1') }),
        ),
      }),
    });
    const pods = fc.record({
      type: fc.constant('Pods'),
      pods: fc.record({
        metric: fc.record({ name: fc.constantFrom('qps', 'lag') }),
        target: fc.record({ type: fc.constant('AverageValue'), averageValue: fc.constantFrom('10', '1k') }),
      }),
    });
    fc.assert(
      fc.property(fc.array(fc.oneof(resource, pods), { minLength: 1, maxLength: 4 }), (metrics) => {
        const o = v2({ metrics });
        const back = hpaFromV1(hpaToV1(o));
        // The CPU utilization target v1 holds in its own field comes back last (Kubernetes appends it after the annotation's).
        const isCpu = (m: any) =>
          m.type === 'Resource' && m.resource.name === 'cpu' && m.resource.target.type === 'Utilization';
        const first = metrics.findIndex((m: any) => m.type === 'Resource' && m.resource.name === 'cpu');
        const expected =
          first >= 0 && isCpu(metrics[first]) ? [...metrics.filter((_, i) => i !== first), metrics[first]] : metrics;
        expect(back.spec?.metrics).toEqual(expected);
        expect(back.apiVersion).toBe('autoscaling/v2');
      }),
    );
  });
});
