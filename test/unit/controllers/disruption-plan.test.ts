import { describe, expect, it } from 'vitest';
import { DISRUPTED_POD_TIMEOUT_MS, planDisruption, type ScaleOf } from '../../../shared/controllers/disruption/plan.js';
import type { KubeObject } from '../../../shared/model/types.js';

/** The disruption controller's arithmetic (pkg/controller/disruption), case by case. */
const NOW = Date.parse('2026-11-28T12:00:00Z');
const pod = (
  name: string,
  o: { ready?: boolean; deleting?: boolean; labels?: Record<string, string> } = {},
): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name,
    namespace: 'ns',
    labels: o.labels ?? { app: 'db' },
    ...(o.deleting ? { deletionTimestamp: '2026-11-28T11:59:00Z' } : {}),
  },
  status: { phase: 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
});
const pdb = (spec: Record<string, unknown>, status: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'policy/v1',
  kind: 'PodDisruptionBudget',
  metadata: { name: 'db', namespace: 'ns', generation: 2 },
  spec: { selector: { matchLabels: { app: 'db' } }, ...spec },
  status,
});
const rsOf: (replicas: number) => ScaleOf = (replicas) => () => ({ controller: 'ReplicaSet/u1', replicas });
const counts = (s: Record<string, unknown>) => ({
  expectedPods: s.expectedPods,
  desiredHealthy: s.desiredHealthy,
  currentHealthy: s.currentHealthy,
  disruptionsAllowed: s.disruptionsAllowed,
});

describe('planDisruption', () => {
  it('minAvailable as a count: expected is the pods selected, one disruption allowed over it', () => {
    const p = planDisruption(
      pdb({ minAvailable: 2 }),
      [pod('a'), pod('b'), pod('c'), pod('x', { labels: { app: 'web' } })],
      rsOf(3),
      NOW,
    );
    expect(counts(p.status)).toEqual({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 3, disruptionsAllowed: 1 });
    expect(p.status).toMatchObject({
      observedGeneration: 2,
      conditions: [{ type: 'DisruptionAllowed', status: 'True', reason: 'SufficientPods', observedGeneration: 2 }],
    });
  });

  it('maxUnavailable scales from the controllers, and an unready pod uses the budget up', () => {
    const p = planDisruption(
      pdb({ maxUnavailable: 1 }),
      [pod('a'), pod('b'), pod('c', { ready: false })],
      rsOf(3),
      NOW,
    );
    expect(counts(p.status)).toEqual({ expectedPods: 3, desiredHealthy: 2, currentHealthy: 2, disruptionsAllowed: 0 });
    expect(p.status.conditions).toMatchObject([{ status: 'False', reason: 'InsufficientPods' }]);
  });

  it('percentages round up against the expected scale', () => {
    const p = planDisruption(pdb({ minAvailable: '50%' }), [pod('a'), pod('b'), pod('c')], rsOf(3), NOW);
    expect(counts(p.status)).toMatchObject({ expectedPods: 3, desiredHealthy: 2, disruptionsAllowed: 1 });
    const q = planDisruption(pdb({ maxUnavailable: '10%' }), [pod('a'), pod('b'), pod('c')], rsOf(3), NOW);
    expect(counts(q.status)).toMatchObject({ desiredHealthy: 2, disruptionsAllowed: 1 });
  });

  it('a null selector selects nothing and an empty one everything (policy/v1)', () => {
    const none = planDisruption(
      { ...pdb({ minAvailable: 1 }), spec: { minAvailable: 1 } },
      [pod('a'), pod('b')],
      rsOf(2),
      NOW,
    );
    expect(counts(none.status)).toMatchObject({ expectedPods: 0, disruptionsAllowed: 0 });
    const all = planDisruption(
      pdb({ minAvailable: 1, selector: {} }),
      [pod('a'), pod('w', { labels: { app: 'web' } })],
      rsOf(2),
      NOW,
    );
    expect(counts(all.status)).toMatchObject({ expectedPods: 2, currentHealthy: 2, disruptionsAllowed: 1 });
  });

  it('a recorded eviction counts against the healthy pods for two minutes, or until its pod is deleting', () => {
    const recent = new Date(NOW - 30_000).toISOString();
    const old = new Date(NOW - DISRUPTED_POD_TIMEOUT_MS - 1).toISOString();
    const p = planDisruption(
      pdb({ minAvailable: 1 }, { disruptedPods: { a: recent, b: old, c: recent } }),
      [pod('a'), pod('b'), pod('c', { deleting: true })],
      rsOf(3),
      NOW,
    );
    expect(p.status.disruptedPods).toEqual({ a: recent });
    // a is recorded, c is deleting: only b is healthy.
    expect(counts(p.status)).toMatchObject({ currentHealthy: 1, disruptionsAllowed: 0 });
    expect(p.recheckAfterMs).toBe(DISRUPTED_POD_TIMEOUT_MS - 30_000);
  });

  it('pods without a controller are reported, and a controller without a scale fails safe', () => {
    const unmanaged = planDisruption(
      pdb({ maxUnavailable: 1 }),
      [pod('a'), pod('b')],
      (p) => (p.metadata.name === 'a' ? 'unmanaged' : { controller: 'ReplicaSet/u1', replicas: 1 }),
      NOW,
    );
    expect(unmanaged.unmanaged).toEqual(['a']);
    const failed = planDisruption(
      pdb({ maxUnavailable: 1 }, { currentHealthy: 2, observedGeneration: 1 }),
      [pod('a')],
      () => undefined,
      NOW,
    );
    expect(failed.error).toBe('found no controllers for pod "a"');
    expect(failed.status).toMatchObject({
      disruptionsAllowed: 0,
      currentHealthy: 2,
      conditions: [
        { status: 'False', reason: 'SyncFailed', message: 'found no controllers for pod "a"', observedGeneration: 1 },
      ],
    });
  });
});
